// Node, Dataset and NodeCache objects handed over in-process: for a caller that makes the objects
// itself (the simulator replaying a trace, benchmarks) and pushes changes as they happen.
import type { ChangeType, InventoryFeed, ObjectKind } from './feed.js';
import type { InventorySource } from './source.js';

export interface MemoryObjects {
  nodes?: unknown[];
  datasets?: unknown[];
  caches?: unknown[];
}

export class MemorySource implements InventorySource {
  private feed?: InventoryFeed;
  private readonly pending: Array<[ObjectKind, ChangeType, unknown]> = [];

  constructor(initial: MemoryObjects = {}) {
    for (const obj of initial.nodes ?? []) this.pending.push(['Node', 'upsert', obj]);
    for (const obj of initial.datasets ?? []) this.pending.push(['Dataset', 'upsert', obj]);
    for (const obj of initial.caches ?? []) this.pending.push(['NodeCache', 'upsert', obj]);
  }

  async start(feed: InventoryFeed): Promise<void> {
    this.feed = feed;
    for (const [kind, type, obj] of this.pending.splice(0)) feed.apply(kind, type, obj);
  }

  /** Applies a change now (or at start, when not started yet), as an informer event would. */
  apply(kind: ObjectKind, type: ChangeType, obj: unknown): void {
    if (this.feed) this.feed.apply(kind, type, obj);
    else this.pending.push([kind, type, obj]);
  }

  synced(): boolean {
    return this.feed !== undefined;
  }

  async close(): Promise<void> {}
}
