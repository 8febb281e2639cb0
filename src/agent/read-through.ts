// The read path: an object key and byte range become block segments (Dataset blocks when the key
// belongs to a Dataset with a usable catalogue, per-object blocks otherwise), each served from disk
// or fetched once from the remote, with one block of read-ahead for sequential readers.
import type { AgentMetrics } from '../metrics/agent.js';
import type { BlockStore } from './block-store.js';
import type { Catalogues } from './catalogues.js';
import { blockId, datasetSegments, objectSegments, type ListedObject, type Segment } from './layout.js';
import { ObjectChangedError, type Upstream } from './upstream.js';
import { datasetKey } from '../core/types.js';

/** An object as the agent serves it. */
export interface ObjectView extends ListedObject {
  bucket: string;
  contentType?: string;
  /** `ns/name` when its blocks are the Dataset's. */
  dataset?: string;
  /** The segments holding bytes [start, end], inclusive. */
  segments(start: number, end: number): Segment[];
}

export interface ReadThroughOptions {
  store: BlockStore;
  upstream: Upstream;
  catalogues: Catalogues;
  metrics: AgentMetrics;
  /** Block size for objects outside every Dataset. */
  blockSize: number;
}

export class ReadThrough {
  constructor(private readonly opts: ReadThroughOptions) {}

  /** The object at `bucket/key`: from its Dataset's catalogue when listed there, else a HEAD upstream. */
  async resolve(bucket: string, key: string): Promise<ObjectView> {
    const { catalogues, upstream, blockSize } = this.opts;
    const source = catalogues.match(bucket, key);
    const layout = source && (await catalogues.layout(source));
    const obj = layout?.byKey.get(key);
    if (source && layout && obj) {
      const dataset = datasetKey(source.namespace, source.name);
      return { ...obj, bucket, dataset, segments: (s, e) => datasetSegments(layout, key, s, e, dataset) };
    }
    const head = await upstream.head(bucket, key);
    const listed: ListedObject = { key, size: head.ContentLength ?? 0, etag: head.ETag ?? '', ...(head.LastModified ? { lastModified: head.LastModified } : {}) };
    this.observe(bucket, key, listed.etag);
    return {
      ...listed,
      bucket,
      ...(head.ContentType ? { contentType: head.ContentType } : {}),
      segments: (s, e) => objectSegments(bucket, listed, blockSize, s, e),
    };
  }

  /** An ETag seen for an object: blocks of other versions of it are dropped. */
  observe(bucket: string, key: string, etag: string): void {
    if (etag && this.opts.store.invalidate(bucket, key, etag) > 0) this.opts.catalogues.markStale(bucket, key);
  }

  /**
   * The bytes of the segments in order. The first segment is read before this returns, so a failure
   * there (the remote is down, the object changed) is reported before any byte is sent.
   */
  async read(segments: Segment[]): Promise<AsyncIterable<Buffer>> {
    if (segments.length === 0) return (async function* () {})();
    const first = await this.segment(segments[0]);
    const next = (i: number) => {
      const p = this.segment(segments[i]);
      p.catch(() => undefined); // a reader that went away leaves its read-ahead to finish quietly
      return p;
    };
    return (async function* () {
      let ahead = segments.length > 1 ? next(1) : undefined;
      yield first;
      for (let i = 1; i < segments.length; i++) {
        const current = ahead!;
        ahead = i + 1 < segments.length ? next(i + 1) : undefined;
        yield await current;
      }
    })();
  }

  private async segment(seg: Segment): Promise<Buffer> {
    const { store, upstream, metrics } = this.opts;
    const cached = await store.read(blockId(seg.spec), seg.from, seg.length);
    if (cached) {
      metrics.hits.inc();
      metrics.bytesServed.inc({ source: 'cache' }, seg.length);
      return cached;
    }
    metrics.misses.inc();
    try {
      const block = await store.fetch(seg.spec, (spec) => upstream.loadBlock(spec));
      metrics.bytesServed.inc({ source: 'remote' }, seg.length);
      return block.subarray(seg.from, seg.from + seg.length);
    } catch (err) {
      if (err instanceof ObjectChangedError) {
        store.invalidate(err.bucket, err.key, err.etag);
        this.opts.catalogues.markStale(err.bucket, err.key);
      }
      throw err;
    }
  }
}
