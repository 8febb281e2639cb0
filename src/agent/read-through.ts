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
  /** Blocks fetched ahead of a sequential reader. */
  readAhead: number;
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
   * The bytes of the segments in order. The first segment is opened before this returns, so a
   * failure there (the remote is down, the object changed) is reported before any byte is sent.
   * While a segment is sent, the blocks of the next `readAhead` segments are fetched if missing.
   */
  async read(segments: Segment[]): Promise<AsyncIterable<Buffer>> {
    if (segments.length === 0) return (async function* () {})();
    const first = await this.segment(segments[0]);
    const segment = (s: Segment) => this.segment(s);
    const prefetch = (s: Segment) => this.prefetch(s);
    const ahead = this.opts.readAhead;
    return (async function* () {
      for (let i = 0; i < segments.length; i++) {
        for (let j = i + 1; j <= i + ahead && j < segments.length; j++) prefetch(segments[j]);
        yield* i === 0 ? first : await segment(segments[i]);
      }
    })();
  }

  /** Starts fetching a missing block without waiting; a failure surfaces when the block is read. */
  private prefetch(seg: Segment): void {
    const { store, upstream } = this.opts;
    if (!store.has(blockId(seg.spec))) store.fetch(seg.spec, (spec) => upstream.loadBlock(spec)).catch(() => undefined);
  }

  private async segment(seg: Segment): Promise<AsyncIterable<Buffer> | Buffer[]> {
    const { store, upstream, metrics } = this.opts;
    const cached = await store.stream(blockId(seg.spec), seg.from, seg.length);
    if (cached) {
      metrics.hits.inc();
      metrics.bytesServed.inc({ source: 'cache' }, seg.length);
      return cached;
    }
    metrics.misses.inc();
    try {
      const block = await store.fetch(seg.spec, (spec) => upstream.loadBlock(spec));
      metrics.bytesServed.inc({ source: 'remote' }, seg.length);
      return slice(block, seg.from, seg.length);
    } catch (err) {
      if (err instanceof ObjectChangedError) {
        store.invalidate(err.bucket, err.key, err.etag);
        this.opts.catalogues.markStale(err.bucket, err.key);
      }
      throw err;
    }
  }
}

/** Bytes [from, from + length) of a block held as chunks, without copying. */
export function slice(chunks: readonly Buffer[], from: number, length: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of chunks) {
    const a = Math.max(from, at);
    const b = Math.min(from + length, at + c.length);
    if (b > a) out.push(c.subarray(a - at, b - at));
    at += c.length;
    if (at >= from + length) break;
  }
  return out;
}
