// Node, Dataset and NodeCache objects from the API server, through informers that restart after a
// failed watch, and Jobs for the shard count of Indexed Jobs' pods. Read-only: list and watch.
import type { KubeConfig } from '@kubernetes/client-node';
import type { BackoffOptions } from '../kube/backoff.js';
import type { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import { DATASETS, JOBS, NODE_CACHES, NODES, type ResourceType } from '../kube/resources.js';
import type { InventoryFeed, ObjectKind } from './feed.js';
import type { InventorySource, SourceEvents } from './source.js';

export interface KubeSourceOptions {
  /** Restart backoff of the informers (default 0.5 s doubling to 30 s). */
  backoff?: BackoffOptions;
}

const WATCHED: Array<[ObjectKind, ResourceType]> = [
  ['Node', NODES],
  ['Dataset', DATASETS],
  ['NodeCache', NODE_CACHES],
];
/**
 * Watched too, but readiness does not wait for it: without Jobs (e.g. RBAC not yet updated) an Indexed
 * Job's pods are scored on whole Datasets, which is no reason to hold the extender back.
 */
const OPTIONAL: Array<[ObjectKind, ResourceType]> = [['Job', JOBS]];

/** Every resource the source lists and watches (what its RBAC must allow). */
export const WATCHED_RESOURCES: readonly ResourceType[] = [...WATCHED, ...OPTIONAL].map(([, r]) => r);

export class KubeSource implements InventorySource {
  private informers: Informer[] = [];
  private optional: Informer[] = [];

  constructor(
    private readonly kc: KubeConfig,
    private readonly client: KubeClient,
    private readonly opts: KubeSourceOptions = {},
  ) {}

  async start(feed: InventoryFeed, events: SourceEvents = {}): Promise<void> {
    const watch = ([kind, resource]: [ObjectKind, ResourceType]) => {
      const informer = new Informer(this.kc, this.client, {
        resource,
        backoff: this.opts.backoff,
        onRestart: (err) => events.restarted?.(resource.plural, err instanceof Error ? err : new Error(String(err))),
      });
      informer.on('add', (obj) => feed.apply(kind, 'upsert', obj));
      informer.on('update', (obj) => feed.apply(kind, 'upsert', obj));
      informer.on('delete', (obj) => feed.apply(kind, 'delete', obj));
      return informer;
    };
    this.informers = WATCHED.map(watch);
    this.optional = OPTIONAL.map(watch);
    for (const informer of [...this.informers, ...this.optional]) informer.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  synced(): boolean {
    return this.informers.length > 0 && this.informers.every((i) => i.hasSynced());
  }

  async close(): Promise<void> {
    await Promise.all([...this.informers, ...this.optional].map((i) => i.stop()));
  }
}
