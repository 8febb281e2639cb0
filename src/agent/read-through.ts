// The read path: an object key and byte range become block segments (Dataset blocks when the key
// belongs to a Dataset with a usable catalog, per-object blocks otherwise), each served from disk
// or fetched once from the remote onto disk and served from there, with read-ahead for sequential
// readers. Bytes are streamed, never gathered per block: a 10-byte read of a big block holds one
// check chunk in memory. A block the cache cannot keep is read from the remote, only the bytes asked for.
// A missing Dataset block that a peer agent of the zone holds is filled from that peer first.
import type { AgentMetrics } from '../metrics/agent.js';
import { CorruptBlockError, DigestMismatchError, type BlockLoader, type BlockStore, type FetchOptions } from './block-store.js';
import type { Catalogs, DatasetSource } from './catalogs.js';
import { blockId, datasetSegments, objectSegments, type BlockSpec, type ListedObject, type Segment } from './layout.js';
import { PeerError, type PeerFill } from './peer-fill.js';
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
  catalogs: Catalogs;
  metrics: AgentMetrics;
  /** Block size for objects outside every Dataset. */
  blockSize: number;
  /** Blocks fetched ahead of a sequential reader. */
  readAhead: number;
  /** Reads missing Dataset blocks from peers of the zone before the remote. */
  peers?: PeerFill;
}

export class ReadThrough {
  constructor(private readonly opts: ReadThroughOptions) {}

  /**
   * The object at `bucket/key`: from its Dataset's catalog when listed there, else a HEAD upstream.
   * `dataset`: the Dataset the reader is authenticated for, whose blocks these are; else the one
   * the catalogs match.
   */
  async resolve(bucket: string, key: string, dataset?: DatasetSource): Promise<ObjectView> {
    const { catalogs, upstream, blockSize } = this.opts;
    const source = dataset ?? catalogs.match(bucket, key);
    const layout = source && (await catalogs.layout(source));
    const obj = layout?.byKey.get(key);
    if (source && layout && obj) {
      const dataset = datasetKey(source.namespace, source.name);
      return { ...obj, bucket, dataset, segments: (s, e) => datasetSegments(layout, key, s, e, dataset) };
    }
    const head = await upstream.head(bucket, key);
    const listed: ListedObject = {
      key,
      size: head.ContentLength ?? 0,
      etag: head.ETag ?? '',
      ...(head.LastModified ? { lastModified: head.LastModified } : {}),
    };
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
    if (etag && this.opts.store.invalidate(bucket, key, etag) > 0) this.opts.catalogs.markStale(bucket, key);
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
    const fetchAhead = (s: Segment) => this.fetchAhead(s);
    const ahead = this.opts.readAhead;
    const body = (async function* () {
      for (let i = 0; i < segments.length; i++) {
        for (let j = i + 1; j <= i + ahead && j < segments.length; j++) fetchAhead(segments[j]);
        yield* i === 0 ? first : await segment(segments[i]);
      }
    })();
    // A reader that leaves before the first byte never enters the generator: release the first segment then too.
    return releasing(body, first[Symbol.asyncIterator]());
  }

  /** Starts fetching a missing block without waiting; a failure surfaces when the block is read. */
  private fetchAhead(seg: Segment): void {
    if (!this.opts.store.has(blockId(seg.spec))) this.fetch(seg.spec).catch(() => undefined);
  }

  /**
   * Fetches a block from the remote onto disk (BlockStore.fetch: true when kept). An object found
   * changed under the block drops its blocks and marks its Datasets for listing again.
   */
  async fetch(spec: BlockSpec, opts: FetchOptions = {}): Promise<boolean> {
    const { store, upstream, catalogs, metrics } = this.opts;
    const fromUpstream: BlockLoader = (s, sink) => upstream.loadBlock(s, sink);
    const fromPeer = this.peerLoader(spec);
    const onFailover = (err: unknown) =>
      metrics.peerFailures.inc({ reason: err instanceof PeerError ? err.reason : err instanceof DigestMismatchError ? 'checksum' : 'transfer' });
    try {
      return await store.fetch(spec, fromPeer ? [fromPeer, fromUpstream] : fromUpstream, { ...opts, onFailover });
    } catch (err) {
      if (err instanceof ObjectChangedError) {
        store.invalidate(err.bucket, err.key, err.etag);
        catalogs.markStale(err.bucket, err.key);
      }
      throw err;
    }
  }

  /** A peer's loader for a missing block of a Dataset whose layout is in use, when a peer of the zone holds it. */
  private peerLoader(spec: BlockSpec): BlockLoader | undefined {
    const { peers, store, catalogs } = this.opts;
    if (!peers || !spec.dataset || store.has(blockId(spec)) || store.isFetching(blockId(spec))) return undefined;
    const source = catalogs.source(spec.dataset);
    const layout = catalogs.current(spec.dataset);
    return source && layout ? peers.loader(spec, source, layout) : undefined;
  }

  private async segment(seg: Segment): Promise<AsyncIterable<Buffer>> {
    const { upstream, metrics } = this.opts;
    const cached = await this.fromDisk(seg);
    if (cached) {
      metrics.hits.inc();
      metrics.bytesServed.inc({ source: 'cache' }, seg.length);
      return cached;
    }
    metrics.misses.inc();
    metrics.bytesServed.inc({ source: 'remote' }, seg.length);
    if (await this.fetch(seg.spec)) {
      const stored = await this.fromDisk(seg);
      if (stored) return stored;
    }
    // Not kept (larger than the cache, disk failing, or evicted at once): only the bytes asked for.
    return upstream.readRange(seg.spec, seg.from, seg.length);
  }

  /**
   * The segment from disk, or undefined when the block is not there or its first chunk failed its
   * checksum. A chunk further on that fails (the block is then dropped) does not cut the reader
   * off: the rest of the segment is read again, which fetches the block anew.
   */
  private async fromDisk(seg: Segment): Promise<AsyncIterable<Buffer> | undefined> {
    let stream: AsyncIterable<Buffer> | undefined;
    try {
      stream = await this.opts.store.stream(blockId(seg.spec), seg.from, seg.length);
    } catch (err) {
      if (err instanceof CorruptBlockError) return undefined;
      throw err;
    }
    if (!stream) return undefined;
    const inner = stream[Symbol.asyncIterator]();
    const rest = (sent: number) => this.segment({ spec: seg.spec, from: seg.from + sent, length: seg.length - sent });
    const body = (async function* () {
      let sent = 0;
      try {
        for (let r = await inner.next(); !r.done; r = await inner.next()) {
          sent += r.value.length;
          yield r.value;
        }
      } catch (err) {
        if (!(err instanceof CorruptBlockError)) throw err;
        yield* await rest(sent);
      }
    })();
    return releasing(body, inner);
  }
}

/** `body`, closing `inner` too when the reader leaves before `body` started (a generator's finally would not run). */
function releasing(body: AsyncGenerator<Buffer>, inner: AsyncIterator<Buffer>): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => body.next(),
      return: async () => {
        await inner.return?.();
        return body.return(undefined);
      },
    }),
  };
}
