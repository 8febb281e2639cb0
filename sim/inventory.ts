// The agents of the modelled cluster: each node's cache is published as an InventorySnapshot (what
// its NodeCache status carries) at the agents' write interval, and applied to a core LocalityIndex,
// so placement sees caches as stale as a live extender would. Unchanged inventories are rewritten
// every refresh period, as agents do, so they never pass the index's TTL.
import { LocalityIndex } from '../src/core/locality-index.js';
import { datasetKey, type DatasetInventory, type InventorySnapshot } from '../src/core/types.js';
import type { Cluster } from './cluster.js';
import type { NodeCacheModel } from './node-cache.js';
import type { Workload } from './workloads/types.js';

/** Namespace of the simulated Datasets (their keys are `sim/<name>`). */
export const SIM_NAMESPACE = 'sim';
export const CATALOG_VERSION = 'sim-1';

/** Told of every snapshot written, with the simulated time in ms (the equivalence test forwards them). */
export type SnapshotSink = (snapshot: InventorySnapshot, atMs: number) => void;

export class InventoryPublisher {
  readonly index: LocalityIndex;
  /** Per dataset, bumped whenever a written snapshot changed what some node holds of it. */
  readonly datasetGeneration: Uint32Array;
  /** Bumped when an inventory past its TTL is written again: any dataset's scores may differ after it. */
  liveGeneration = 0;
  /** Snapshots written so far. */
  writes = 0;
  readonly keys: string[];
  private readonly seq: Int32Array;
  private readonly lastWrite: Float64Array;
  /** Per node, the last written entry of each dataset it holds (rebuilt only when that dataset changed). */
  private readonly entries: Array<Map<number, DatasetInventory>>;
  private nextRefresh: number;

  constructor(
    private readonly cluster: Cluster,
    workload: Workload,
    private readonly caches: NodeCacheModel[],
    private readonly sink?: SnapshotSink,
  ) {
    // `snapshot` rebuilds only the entries of Datasets that changed and passes the others again as they were.
    this.index = new LocalityIndex({ ttlMs: cluster.spec.inventoryTtlSeconds * 1000, sameObjectsUnchanged: true });
    this.keys = workload.datasets.map((d) => datasetKey(SIM_NAMESPACE, d.name));
    workload.datasets.forEach((d, i) =>
      this.index.upsertDataset({
        key: this.keys[i],
        totalBytes: d.bytes,
        blockSize: cluster.blockSize,
        blockCount: Math.max(1, Math.ceil(d.bytes / cluster.blockSize)),
        catalogVersion: CATALOG_VERSION,
      }),
    );
    cluster.names.forEach((name, i) => this.index.upsertNode({ name, zone: cluster.zoneOf[i], region: cluster.region }));
    this.seq = new Int32Array(cluster.names.length);
    this.lastWrite = new Float64Array(cluster.names.length).fill(-Infinity);
    this.datasetGeneration = new Uint32Array(workload.datasets.length);
    this.entries = cluster.names.map(() => new Map());
    this.nextRefresh = Infinity;
  }

  /** Writes every node whose cache changed since its last write (one tick of the agents' interval). */
  writeChanged(now: number): void {
    for (let n = 0; n < this.caches.length; n++) {
      if (this.caches[n].changed.size > 0) this.write(n, now);
    }
  }

  /** The last simulated ms until which every inventory live in the index at `nowMs` stays live. */
  liveUntilMs(nowMs: number): number {
    let until = Infinity;
    for (const at of this.lastWrite) {
      const end = Math.floor(at * 1000) + this.index.ttlMs;
      if (end >= nowMs) until = Math.min(until, end);
    }
    return until;
  }

  /** Rewrites, at their due times up to `now`, inventories left unchanged for a refresh period. */
  refresh(now: number): void {
    if (now < this.nextRefresh) return;
    const period = this.cluster.spec.inventoryRefreshSeconds;
    let next = Infinity;
    for (let n = 0; n < this.caches.length; n++) {
      const last = this.lastWrite[n];
      if (last === -Infinity) continue;
      if (last + period <= now) this.write(n, last + Math.floor((now - last) / period) * period);
      next = Math.min(next, this.lastWrite[n] + period);
    }
    this.nextRefresh = next;
  }

  /** True when some node has changes not yet written. */
  pending(): boolean {
    return this.caches.some((c) => c.changed.size > 0);
  }

  /** The snapshot node `n` would write now (its NodeCache status, block sets not yet encoded). */
  snapshot(n: number): InventorySnapshot {
    const cache = this.caches[n];
    const entries = this.entries[n];
    for (const d of cache.changed) {
      this.datasetGeneration[d]++;
      const held = cache.held(d);
      if (!held) entries.delete(d);
      else
        entries.set(d, {
          dataset: this.keys[d],
          bytes: held.bytes,
          blockSize: this.cluster.blockSize,
          catalogVersion: CATALOG_VERSION,
          blocks: Uint32Array.from(held.blocks).sort(),
        });
    }
    cache.changed.clear();
    return {
      node: this.cluster.names[n],
      epoch: `${this.cluster.names[n]}-sim`,
      seq: ++this.seq[n],
      capacityBytes: cache.capacityBytes,
      usedBytes: cache.usedBytes,
      datasets: [...entries.values()],
    };
  }

  private write(n: number, at: number): void {
    const snap = this.snapshot(n);
    const atMs = Math.floor(at * 1000);
    const outcome = this.index.applyInventory(snap, atMs);
    if (outcome.kind !== 'applied') throw new Error(`simulator bug: snapshot of ${snap.node} was ${outcome.kind}: ${outcome.reason}`);
    if (atMs - Math.floor(this.lastWrite[n] * 1000) > this.index.ttlMs && this.lastWrite[n] !== -Infinity) this.liveGeneration++;
    this.lastWrite[n] = at;
    this.writes++;
    this.nextRefresh = Math.min(this.nextRefresh, at + this.cluster.spec.inventoryRefreshSeconds);
    this.sink?.(snap, atMs);
  }
}

/** The Node and Dataset objects of the modelled cluster, as an extender's sources would list them. */
export function clusterObjects(cluster: Cluster, workload: Workload): { nodes: object[]; datasets: object[] } {
  const nodes = cluster.names.map((name, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'topology.kubernetes.io/zone': cluster.zoneOf[i], 'topology.kubernetes.io/region': cluster.region } },
  }));
  const datasets = workload.datasets.map((d) => ({
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name: d.name, namespace: SIM_NAMESPACE },
    status: {
      catalog: {
        objectCount: 1,
        totalBytes: d.bytes,
        blockSize: cluster.blockSize,
        blockCount: Math.max(1, Math.ceil(d.bytes / cluster.blockSize)),
        version: CATALOG_VERSION,
        refreshedAt: '1970-01-01T00:00:00Z',
      },
    },
  }));
  return { nodes, datasets };
}
