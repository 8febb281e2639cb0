// Which Dataset an object key belongs to (bucket + longest prefix, within the namespace that claimed
// the bytes first), and each Dataset's key-ordered
// listing, laid out in blocks. The agent versions a listing exactly as the operator versions its
// catalog, so with an operator the listing is used only when its version is the Dataset's
// `status.catalog.version` (and re-listed when that changes); until then the Dataset's objects are
// cached per object and not reported. Without an operator (a file of Datasets) a listing is trusted
// for `relistMs`.
import type { Logger } from 'pino';
import { datasetKey, type PrefixBlocks } from '../core/types.js';
import { buildLayout, type Layout, type ListedObject } from './layout.js';

/** A Dataset as the agent needs it. */
export interface DatasetSource {
  namespace: string;
  name: string;
  bucket: string;
  prefix: string;
  /** Block size when there is no operator catalog. */
  blockSize?: number;
  /**
   * The operator's `status.catalog`: the version the agent's listing must match, its block size, and
   * its top-level prefixes (where `prefix` slices of pods on the node start and end).
   */
  catalog?: { version: string; blockSize: number; prefixes?: PrefixBlocks[]; prefixesTruncated?: boolean };
  /** When the Dataset was created (ms since the epoch): the first namespace to claim bytes keeps them. */
  claimedAt?: number;
  /** Copies of each block the zone keeps when capacity is tight (`spec.cache.zoneCopies`; default the agent's --zone-copies). */
  zoneCopies?: number;
}

export interface CatalogsOptions {
  list(bucket: string, prefix: string): Promise<ListedObject[]>;
  defaultBlockSize: number;
  /** How long a self-versioned listing is trusted. */
  relistMs: number;
  /** How long to wait before listing again after a listing disagreed with the operator's catalog. */
  retryMs: number;
  now(): number;
  log: Logger;
}

interface Loaded {
  source: DatasetSource;
  layout: Layout;
  at: number;
  stale: boolean;
}

export class Catalogs {
  private sources: DatasetSource[] = [];
  private byKey = new Map<string, DatasetSource>();
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<Layout | undefined>>();
  private readonly disagreedAt = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly opts: CatalogsOptions) {}

  /** Replaces the set of Datasets; layouts of Datasets that left or moved are dropped. */
  setSources(sources: readonly DatasetSource[]): void {
    this.sources = [...sources].sort((a, b) => b.prefix.length - a.prefix.length);
    this.byKey = new Map(sources.map((s) => [datasetKey(s.namespace, s.name), s]));
    let changed = false;
    for (const [key, l] of this.loaded) {
      const s = this.byKey.get(key);
      if (!s || s.bucket !== l.source.bucket || s.prefix !== l.source.prefix) {
        this.loaded.delete(key);
        changed = true;
      }
    }
    if (changed) this.changed();
  }

  /**
   * The Dataset holding `bucket/key`. Where Datasets of several namespaces claim it, the namespace of
   * the earliest claim keeps it, so a Dataset created later elsewhere (any tenant may name any bucket)
   * cannot take over how this namespace's reads are counted; within that namespace the longest prefix wins.
   */
  match(bucket: string, key: string): DatasetSource | undefined {
    const claims = this.sources.filter((s) => s.bucket === bucket && key.startsWith(s.prefix));
    if (claims.length <= 1) return claims[0];
    const first = claims.reduce((a, b) => (earlier(b, a) ? b : a));
    return claims.find((s) => s.namespace === first.namespace);
  }

  source(key: string): DatasetSource | undefined {
    return this.byKey.get(key);
  }

  /** The layout in use for a Dataset key, without listing. */
  current(key: string): Layout | undefined {
    return this.loaded.get(key)?.layout;
  }

  /** Layouts in use, per Dataset key. */
  layouts(): Map<string, Layout> {
    return new Map([...this.loaded].map(([k, l]) => [k, l.layout]));
  }

  /** Marks the Datasets holding `bucket/key` for listing again (an object changed under them). */
  markStale(bucket: string, key: string): void {
    for (const l of this.loaded.values()) if (l.source.bucket === bucket && key.startsWith(l.source.prefix)) l.stale = true;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The Dataset's current layout, listing it when needed; undefined while no usable listing exists. */
  async layout(source: DatasetSource): Promise<Layout | undefined> {
    const key = datasetKey(source.namespace, source.name);
    const current = this.loaded.get(key);
    if (current && this.fresh(current, source)) return current.layout;
    const since = this.disagreedAt.get(key);
    if (since !== undefined && this.opts.now() - since < this.opts.retryMs) return current?.layout;
    let p = this.loading.get(key);
    if (!p) {
      p = this.load(key, source).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  private fresh(l: Loaded, source: DatasetSource): boolean {
    if (l.stale) return false;
    if (source.catalog) return l.layout.version === source.catalog.version && l.layout.blockSize === source.catalog.blockSize;
    return this.opts.now() - l.at < this.opts.relistMs;
  }

  private async load(key: string, source: DatasetSource): Promise<Layout | undefined> {
    const listing = await this.opts.list(source.bucket, source.prefix);
    const c = source.catalog;
    const layout = buildLayout(source.bucket, source.prefix, listing, c?.blockSize ?? source.blockSize ?? this.opts.defaultBlockSize);
    if (c && layout.version !== c.version) {
      this.disagreedAt.set(key, this.opts.now());
      this.opts.log.warn(
        { dataset: key, catalog: c, listed: { version: layout.version, objectCount: layout.objects.length, totalBytes: layout.totalBytes } },
        'listing disagrees with the Dataset catalog; its objects are cached per object until the operator refreshes status.catalog',
      );
      if (this.loaded.delete(key)) this.changed();
      return undefined;
    }
    this.disagreedAt.delete(key);
    const previous = this.loaded.get(key);
    this.loaded.set(key, { source, layout, at: this.opts.now(), stale: false });
    if (previous?.layout.version !== layout.version || previous.layout.blockSize !== layout.blockSize) this.changed();
    return layout;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

/** Whether `a` claimed before `b`; same time: the lexically first namespace, so every agent agrees. */
function earlier(a: DatasetSource, b: DatasetSource): boolean {
  const ta = a.claimedAt ?? 0;
  const tb = b.claimedAt ?? 0;
  return ta !== tb ? ta < tb : a.namespace < b.namespace;
}
