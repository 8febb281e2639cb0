// Where the index's objects come from: informers on a cluster, or files. Both feed an InventoryFeed.
import type { InventoryFeed } from './feed.js';

export interface SourceEvents {
  /** A watch ended with an error and is being restarted. */
  restarted?(resource: string, err: Error): void;
}

export interface InventorySource {
  /** Starts feeding; resolves once every kind has been listed once (the index has synced). */
  start(feed: InventoryFeed, events?: SourceEvents): Promise<void>;
  /** True once synced (and, for informers, while every watch is established or being restarted). */
  synced(): boolean;
  close(): Promise<void>;
}
