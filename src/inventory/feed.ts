// Applies Node, Dataset and NodeCache objects (from informers or files) to the locality index, and
// keeps the Jobs' completion counts (the shard count of an Indexed Job's pods).
// Sources call it with whole objects; it converts them, applies them and reports the outcome.
import type { LocalityIndex } from '../core/locality-index.js';
import type { ApplyOutcome } from '../core/types.js';
import { datasetCatalog, datasetObjectKey } from './dataset-catalog.js';
import { nodeTopology } from './node-topology.js';
import { decodeNodeCache } from './nodecache.js';

export type ObjectKind = 'Node' | 'Dataset' | 'NodeCache' | 'Job';
export type ChangeType = 'upsert' | 'delete';

export interface FeedObserver {
  /** A NodeCache write was applied, ignored as stale, or rejected as malformed. */
  inventory?(node: string, outcome: ApplyOutcome): void;
  /** An object of another kind could not be used; the message names the field. */
  invalid?(kind: ObjectKind, message: string): void;
}

interface Meta {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> | null } | null;
}

export class InventoryFeed {
  private readonly nodes = new Set<string>();
  /** `namespace/name` of each Job → its `spec.completions`. */
  private readonly completions = new Map<string, number>();

  constructor(
    readonly index: LocalityIndex,
    private readonly now: () => number,
    private readonly observer: FeedObserver = {},
  ) {}

  apply(kind: ObjectKind, type: ChangeType, obj: unknown): void {
    if (kind === 'Node') this.node(type, obj as Meta);
    else if (kind === 'Dataset') this.dataset(type, obj as Meta);
    else if (kind === 'Job') this.job(type, obj as Meta & { spec?: { completions?: unknown } | null });
    else this.nodeCache(type, obj as Meta);
  }

  /** `spec.completions` of a Job seen (and not deleted), or undefined. */
  jobCompletions(namespace: string, name: string): number | undefined {
    return this.completions.get(`${namespace}/${name}`);
  }

  private job(type: ChangeType, obj: Meta & { spec?: { completions?: unknown } | null }): void {
    const name = obj?.metadata?.name;
    if (!name) return this.observer.invalid?.('Job', 'Job without metadata.name ignored');
    const key = `${obj.metadata?.namespace || 'default'}/${name}`;
    const completions = obj.spec?.completions;
    if (type === 'delete' || typeof completions !== 'number') this.completions.delete(key);
    else this.completions.set(key, completions);
  }

  private node(type: ChangeType, obj: Meta): void {
    const topology = nodeTopology(obj);
    if (!topology) return this.observer.invalid?.('Node', 'Node without metadata.name ignored');
    if (type === 'delete') {
      this.index.removeNode(topology.name);
      this.nodes.delete(topology.name);
    } else {
      this.index.upsertNode(topology);
      this.nodes.add(topology.name);
    }
  }

  /** Names of the Node objects seen (and not deleted), sorted. */
  nodeNames(): string[] {
    return [...this.nodes].sort();
  }

  private dataset(type: ChangeType, obj: Meta): void {
    if (type === 'delete') {
      const key = datasetObjectKey(obj);
      if (key) this.index.removeDataset(key);
      return;
    }
    try {
      const { catalog, problem } = datasetCatalog(obj as Parameters<typeof datasetCatalog>[0]);
      this.index.upsertDataset(catalog);
      if (problem) this.observer.invalid?.('Dataset', problem);
    } catch (err) {
      this.observer.invalid?.('Dataset', (err as Error).message);
    }
  }

  private nodeCache(type: ChangeType, obj: Meta): void {
    const name = obj?.metadata?.name;
    if (type === 'delete') {
      if (typeof name === 'string') this.index.removeInventory(name);
      return;
    }
    const node = typeof name === 'string' ? name : '(unnamed)';
    let outcome: ApplyOutcome;
    try {
      const { snapshot, updatedAt: written } = decodeNodeCache(obj);
      if (!snapshot) return;
      // Liveness counts from the agent's own write time when it is known (so every replica, and a
      // restarted one, ages an inventory alike), never from the future.
      const now = this.now();
      outcome = this.index.applyInventory(snapshot, written !== undefined && written < now ? written : now);
    } catch (err) {
      outcome = { kind: 'rejected', reason: (err as Error).message };
    }
    this.observer.inventory?.(node, outcome);
  }
}
