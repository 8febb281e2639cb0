// Blocks on local disk with a byte capacity and LRU eviction.
//
// A block file is `<id>.blk`: magic, header length, the JSON header (the BlockSpec and the check
// chunk size), a SHA-256 digest per check chunk, a seal (SHA-256 of everything before it), then the
// block's bytes. Check chunks are CHECK_CHUNK-byte pieces of each part, so parts fetched in parallel
// are hashed as they stream in. A read verifies the chunks it touches, so a block edited or rotted on
// disk is dropped and fetched again instead of served; a start checks each file's seal and size only.
//
// A block is streamed from the remote straight into a temporary file (never held in memory whole),
// fsynced, renamed into place and the directory fsynced, so a crash leaves at most a temporary file,
// which the next start deletes. Concurrent misses of one block share one remote fetch (single
// flight). Eviction happens before a block is written and waits for the evicted files to be gone, so
// the disk never holds more than the capacity; when the disk fills anyway (ENOSPC: other users of the
// disk), the capacity shrinks to what fitted and the write is retried once after evicting.
//
// Reads go first: a prefetch takes a fetch slot only while no read is fetching or waiting for one, and
// a read that wants a block still waiting as a prefetch lifts it to a read's turn. Blocks that pods bound
// to the node will read (setDemand) are pinned while on disk, up to a share of the capacity; eviction,
// for room or after ENOSPC, takes the least recently used block that is not pinned, surplus copies
// first (blocks the zone holds enough copies of elsewhere, as setSurplus says: see zone-copies.ts).
//
// A block may be loaded from several sources in turn (a peer agent, then the object store): a source
// that fails, or whose bytes do not match the digest it vouched for, is dropped with its partial file
// and the next one loads the block from the start.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, open as openFile, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../metrics/agent.js';
import { blockId, type BlockSpec } from './layout.js';

const MAGIC = Buffer.from('LOCUSBK2');
const PREFIX = MAGIC.length + 4;
const MAX_HEADER = 16 * 1024 * 1024;
const DIGEST = 32;
const SUFFIX = '.blk';
/** Bytes each digest covers. */
export const CHECK_CHUNK = 256 * 1024;
/** Bytes read from disk (and verified) at a time: what one reader holds in memory. */
const READ_BYTES = 1024 * 1024;
/** Bytes of one part gathered before a write, so a block costs few system calls. */
const WRITE_BATCH = 256 * 1024;

interface Entry {
  spec: BlockSpec;
  /** Bytes on disk: header, digests, seal and data. */
  fileBytes: number;
  digestOffset: number;
  dataOffset: number;
}

/** What a source says of a block it loaded. */
export interface Loaded {
  /** The block's digest (blockDigest) as the source knows it: the block is kept only when its bytes match. */
  digest?: string;
  /** Where the bytes came from, for metrics (default `upstream`). */
  source?: 'peer' | 'upstream';
}

/** Streams a block's parts into `sink`, in order within each part (parts may interleave). */
export type BlockLoader = (spec: BlockSpec, sink: (part: number, chunk: Buffer) => Promise<void>) => Promise<Loaded | void>;

/** The bytes a source loaded do not match the digest it vouched for. */
export class DigestMismatchError extends Error {}

/** A block's digest: SHA-256 (hex) over its check-chunk digests, which are SHA-256 of its bytes. */
export function blockDigest(chunkDigests: readonly Buffer[]): string {
  const h = createHash('sha256');
  for (const d of chunkDigests) h.update(d);
  return h.digest('hex');
}

/** A cached block whose bytes no longer match their digests: it has been dropped. */
export class CorruptBlockError extends Error {
  constructor(
    readonly id: string,
    at: number,
  ) {
    super(`block ${id} is corrupt on disk (check chunk at byte ${at}); it was dropped`);
  }
}

export interface BlockStoreOptions {
  dir: string;
  capacityBytes: number;
  /** Share of the capacity that blocks bound pods will read may hold against eviction (0 to below 1; default 0). */
  pinShare?: number;
  /** Remote block fetches at once (default 8). */
  maxFetches?: number;
  metrics: AgentMetrics;
  log: Logger;
  /** Opens files (tests inject disk errors here). */
  open?: (path: string, flags: string) => Promise<FileHandle>;
}

export interface FetchOptions {
  /** Fetched ahead of a read: waits while reads are fetching. */
  prefetch?: boolean;
  /** A source other than the last failed (the next one loads the block): for metrics. */
  onFailover?: (err: unknown) => void;
}

/** One block being fetched: readers of it share `done`. */
interface Flight {
  done: Promise<boolean>;
  prefetch: boolean;
  started: boolean;
  start(): void;
}

export type EvictionReason = 'capacity' | 'disk-full';

export class BlockStore {
  private readonly lru: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Flight>();
  /** `bucket/key` → ids of the blocks holding bytes of that object. */
  private readonly byObject = new Map<string, Set<string>>();
  private readonly unlinking = new Set<Promise<void>>();
  private readonly listeners = new Set<() => void>();
  private readonly open: (path: string, flags: string) => Promise<FileHandle>;
  private capacity: number;
  private reserved = 0;
  private fetching = 0;
  /** Fetches running for reads (a prefetch a read joined counts): while any runs, no prefetch starts. */
  private readsFetching = 0;
  private readonly waiting: Flight[] = [];
  private readonly pinShare: number;
  /** Blocks bound pods will read, most wanted first, and the same as a set. */
  private demand: readonly string[] = [];
  private demandSet = new Set<string>();
  private pinned = new Set<string>();
  private pinnedFileBytes = 0;
  /** Whether the zone holds enough copies of a block without this one (set with peer fill). */
  private surplus: ((id: string, spec: BlockSpec) => boolean) | undefined;
  /** Why the block being deleted is evicted (undefined: dropped for another reason, not an eviction). */
  private evicting: EvictionReason | undefined;

  private constructor(private readonly opts: BlockStoreOptions) {
    this.capacity = opts.capacityBytes;
    this.pinShare = opts.pinShare ?? 0;
    this.open = opts.open ?? ((path, flags) => openFile(path, flags));
    this.lru = new LRUCache<string, Entry>({
      maxSize: opts.capacityBytes,
      sizeCalculation: (e) => e.fileBytes,
      dispose: (entry, id, reason) => this.removed(id, entry, reason),
    });
    opts.metrics.capacityBytes.set(opts.capacityBytes);
  }

  /** Opens (creating) the cache directory and rebuilds the inventory from the blocks on disk. */
  static async open(opts: BlockStoreOptions): Promise<BlockStore> {
    if (!(opts.capacityBytes > 0)) throw new RangeError(`capacityBytes must be positive, got ${opts.capacityBytes}`);
    const share = opts.pinShare ?? 0;
    if (!(share >= 0 && share < 1)) throw new RangeError(`pinShare must be from 0 to below 1, got ${share}`);
    await mkdir(opts.dir, { recursive: true });
    const store = new BlockStore(opts);
    await store.rebuild();
    return store;
  }

  /** The capacity in use: the configured one, or less after the disk filled up. */
  get capacityBytes(): number {
    return this.capacity;
  }
  get usedBytes(): number {
    return this.lru.calculatedSize;
  }

  /** Whether the block is on disk (does not count as a use). */
  has(id: string): boolean {
    return this.lru.has(id);
  }

  /** Bytes on disk of the blocks kept against eviction. */
  get pinnedBytes(): number {
    return this.pinnedFileBytes;
  }

  isPinned(id: string): boolean {
    return this.pinned.has(id);
  }

  /**
   * Marks blocks of which the zone holds enough copies without this one (`surplus`): among unpinned
   * blocks they are evicted first, least recently used first.
   */
  setSurplus(surplus: (id: string, spec: BlockSpec) => boolean): void {
    this.surplus = surplus;
  }

  /** What a block on disk holds (does not count as a use). */
  spec(id: string): BlockSpec | undefined {
    return this.lru.peek(id)?.spec;
  }

  /** The digest of a block on disk (blockDigest of its sealed check-chunk digests), or undefined when it is not there. */
  async digest(id: string): Promise<string | undefined> {
    const entry = this.lru.peek(id);
    if (!entry) return undefined;
    const fh = await this.open(this.path(id), 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined; // evicted meanwhile
      throw err;
    });
    if (!fh) return undefined;
    try {
      const table = Buffer.alloc(entry.dataOffset - entry.digestOffset - DIGEST);
      await readFully(fh, table, entry.digestOffset);
      const digests: Buffer[] = [];
      for (let at = 0; at < table.length; at += DIGEST) digests.push(table.subarray(at, at + DIGEST));
      return blockDigest(digests);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** Whether the block is being fetched (or waits for a fetch slot). */
  isFetching(id: string): boolean {
    return this.inflight.has(id);
  }

  /**
   * The blocks pods bound to the node will read, most wanted first. Those on disk are pinned, in this
   * order, up to `pinShare` of the capacity; the rest are evicted least recently used first, as any block.
   */
  setDemand(ids: readonly string[]): void {
    this.demand = ids;
    this.demandSet = new Set(ids);
    this.repin();
  }

  /** The blocks on disk, least recently used last. */
  *blocks(): IterableIterator<[string, BlockSpec]> {
    for (const [id, e] of this.lru.entries()) yield [id, e.spec];
  }

  /** Called (synchronously) whenever a block is added or removed. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `length` bytes at `from` of a cached block, or undefined when it is not on disk. */
  async read(id: string, from: number, length: number): Promise<Buffer | undefined> {
    const chunks = await this.stream(id, from, length);
    if (!chunks) return undefined;
    const out: Buffer[] = [];
    for await (const c of chunks) out.push(c);
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /**
   * `length` bytes at `from` of a cached block, verified check chunk by check chunk, or undefined
   * when it is not on disk. The file is opened and the first chunk verified before this returns, so a
   * later eviction cannot cut the read short and a corrupt start is reported (CorruptBlockError)
   * before any byte is sent; corruption further on ends the stream with that error.
   */
  async stream(id: string, from: number, length: number): Promise<AsyncIterable<Buffer> | undefined> {
    const entry = this.lru.get(id);
    if (!entry) return undefined;
    let fh: FileHandle;
    try {
      fh = await this.open(this.path(id), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // evicted meanwhile
      throw err;
    }
    const chunks = checkChunks(entry.spec).filter((c) => c.start < from + length && c.start + c.length > from);
    const reads = batches(chunks);
    let first: Buffer;
    let digests: Buffer;
    try {
      const now = new Date();
      await fh.utimes(now, now).catch(() => undefined); // the modification time records use, so LRU order survives a restart
      digests = Buffer.alloc(chunks.length * DIGEST);
      await readFully(fh, digests, entry.digestOffset + chunks[0].index * DIGEST);
      first = await this.verified(fh, id, entry, reads[0], digests);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    const verify = (r: CheckChunk[]) => this.verified(fh, id, entry, r, digests.subarray((r[0].index - chunks[0].index) * DIGEST));
    const cut = (r: CheckChunk[], data: Buffer) => {
      const start = r[0].start;
      return data.subarray(Math.max(from, start) - start, Math.min(from + length, start + data.length) - start);
    };
    const body = (async function* () {
      try {
        yield cut(reads[0], first);
        for (let i = 1; i < reads.length; i++) yield cut(reads[i], await verify(reads[i]));
      } finally {
        await fh.close().catch(() => undefined);
      }
    })();
    // A reader that leaves before the first chunk never enters the generator: close the file then too.
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => body.next(),
        return: async () => {
          await fh.close().catch(() => undefined);
          return body.return(undefined);
        },
      }),
    };
  }

  /** Consecutive check chunks read from disk in one go, each compared with its digest (`digests` starts at the first); a mismatch drops the block. */
  private async verified(fh: FileHandle, id: string, entry: Entry, run: CheckChunk[], digests: Buffer): Promise<Buffer> {
    const start = run[0].start;
    const last = run[run.length - 1];
    const data = Buffer.allocUnsafe(last.start + last.length - start);
    await readFully(fh, data, entry.dataOffset + start);
    run.forEach((c, i) => {
      const digest = createHash('sha256')
        .update(data.subarray(c.start - start, c.start - start + c.length))
        .digest();
      if (!timingSafeEqual(digest, digests.subarray(i * DIGEST, (i + 1) * DIGEST))) {
        this.opts.metrics.corruptBlocks.inc();
        this.opts.log.warn({ id, at: c.start }, 'cached block failed its checksum; dropped, it will be fetched again');
        if (this.lru.peek(id) === entry) this.lru.delete(id);
        throw new CorruptBlockError(id, c.start);
      }
    });
    return data;
  }

  /**
   * Fetches the block with `load` (or the first of several sources that succeeds) into the cache.
   * Concurrent calls for one id share one load. Resolves true when the block is on disk, false when it
   * could not be kept (larger than the capacity, the disk full or failing): the caller then reads what
   * it needs from the remote.
   */
  fetch(spec: BlockSpec, load: BlockLoader | readonly BlockLoader[], opts: FetchOptions = {}): Promise<boolean> {
    const id = blockId(spec);
    if (this.lru.has(id)) return Promise.resolve(true);
    const running = this.inflight.get(id);
    if (running) {
      if (!opts.prefetch) this.promote(running);
      return running.done;
    }
    this.opts.metrics.fetches.inc();
    let start!: () => void;
    const slot = new Promise<void>((resolve) => (start = resolve));
    const flight: Flight = { done: Promise.resolve(false), prefetch: opts.prefetch === true, started: false, start };
    flight.done = (async () => {
      await slot;
      try {
        return await this.store(id, spec, [load].flat(), opts);
      } finally {
        this.release(flight);
      }
    })().finally(() => this.inflight.delete(id));
    this.inflight.set(id, flight);
    this.waiting.push(flight);
    this.dispatch();
    return flight.done;
  }

  /** A read joins a prefetch: it is a read's fetch from now on (and takes a read's turn if still waiting). */
  private promote(flight: Flight): void {
    if (!flight.prefetch) return;
    flight.prefetch = false;
    if (flight.started) this.readsFetching++;
    else this.dispatch();
  }

  /** Starts waiting fetches while fewer than `maxFetches` run: reads first, prefetches only while no read fetches. */
  private dispatch(): void {
    while (this.fetching < (this.opts.maxFetches ?? 8) && this.waiting.length > 0) {
      let i = this.waiting.findIndex((f) => !f.prefetch);
      if (i < 0) {
        if (this.readsFetching > 0) return;
        i = 0;
      }
      const [next] = this.waiting.splice(i, 1);
      this.fetching++;
      if (!next.prefetch) this.readsFetching++;
      next.started = true;
      next.start();
    }
  }

  private release(flight: Flight): void {
    this.fetching--;
    if (!flight.prefetch) this.readsFetching--;
    this.dispatch();
  }

  /** Drops the blocks holding bytes of `bucket/key` in a version other than `etag`; returns how many. */
  invalidate(bucket: string, key: string, etag: string): number {
    const ids = this.byObject.get(`${bucket}/${key}`);
    if (!ids) return 0;
    let dropped = 0;
    for (const id of [...ids]) {
      const e = this.lru.peek(id);
      if (e && e.spec.parts.some((p) => p.key === key && p.etag !== etag)) {
        this.lru.delete(id);
        dropped++;
      }
    }
    this.opts.metrics.invalidations.inc(dropped);
    return dropped;
  }

  /** Waits for evicted files to be deleted (tests and shutdown). */
  async settle(): Promise<void> {
    while (this.unlinking.size > 0) await Promise.all([...this.unlinking]);
  }

  private path(id: string): string {
    return join(this.opts.dir, id + SUFFIX);
  }

  /** Writes the block; on ENOSPC shrinks the capacity to what fitted, evicts and tries once more. */
  private async store(id: string, spec: BlockSpec, sources: readonly BlockLoader[], opts: FetchOptions): Promise<boolean> {
    const layout = fileLayout(spec);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!(await this.reserve(layout.fileBytes, attempt === 0 ? 'capacity' : 'disk-full'))) return false;
      try {
        const loaded = await this.writeFrom(id, spec, layout, sources, opts);
        const source = loaded?.source ?? 'upstream';
        this.opts.metrics.filledBlocks.inc({ source });
        this.opts.metrics.filledBytes.inc({ source }, spec.length);
        this.add(id, { spec, fileBytes: layout.fileBytes, digestOffset: layout.digestOffset, dataOffset: layout.dataOffset });
        return true;
      } catch (err) {
        if (!(err instanceof DiskError)) throw err; // the remote's: the reader gets it
        if (err.code !== 'ENOSPC') {
          this.opts.log.warn({ err: err.cause, id }, 'could not store block; served from the remote');
          return false;
        }
        this.opts.metrics.diskFull.inc();
        this.shrink(this.lru.calculatedSize + this.reserved - layout.fileBytes);
        this.opts.log.warn({ id, capacityBytes: this.capacity }, 'the cache disk is full: capacity lowered to what fits, evicting to make room');
      } finally {
        this.reserved -= layout.fileBytes;
      }
    }
    return false;
  }

  /** Lowers the capacity (the disk holds less than configured); pins shrink with it; evicts down to it. */
  private shrink(bytes: number): void {
    this.capacity = Math.max(0, Math.min(this.capacity, bytes));
    this.opts.metrics.capacityBytes.set(this.capacity);
    this.repin();
    while (this.lru.calculatedSize > this.capacity && this.evictOne('disk-full'));
  }

  /** Writes the block from the first source that succeeds; a source's failure other than the disk's moves on to the next. */
  private async writeFrom(id: string, spec: BlockSpec, layout: FileLayout, sources: readonly BlockLoader[], opts: FetchOptions): Promise<Loaded | void> {
    for (let i = 0; ; i++) {
      try {
        return await this.write(id, spec, layout, sources[i]);
      } catch (err) {
        if (err instanceof DiskError || i === sources.length - 1) throw err;
        opts.onFailover?.(err);
      }
    }
  }

  /** Evicts the least recently used block that is not pinned, surplus copies first; false when there is none. */
  private evictOne(reason: EvictionReason): boolean {
    const surplus = this.surplus;
    const spare = surplus && this.leastRecent((id, e) => !this.pinned.has(id) && surplus(id, e.spec));
    const victim = spare ?? this.leastRecent((id) => !this.pinned.has(id));
    if (victim === undefined) return false;
    if (spare !== undefined) this.opts.metrics.surplusEvictions.inc();
    this.evicting = reason;
    try {
      this.lru.delete(victim);
    } finally {
      this.evicting = undefined;
    }
    return true;
  }

  private leastRecent(eligible: (id: string, entry: Entry) => boolean): string | undefined {
    for (const id of this.lru.rkeys()) if (eligible(id, this.lru.peek(id)!)) return id;
    return undefined;
  }

  /** Pins the demanded blocks on disk (but `leaving`, being deleted), most wanted first, within pinShare × capacity. */
  private repin(leaving?: string): void {
    const limit = this.pinShare * this.capacity;
    const pinned = new Set<string>();
    let bytes = 0;
    for (const id of this.demand) {
      const e = id === leaving ? undefined : this.lru.peek(id);
      if (!e || pinned.has(id) || bytes + e.fileBytes > limit) continue;
      pinned.add(id);
      bytes += e.fileBytes;
    }
    this.pinned = pinned;
    this.pinnedFileBytes = bytes;
    this.opts.metrics.pinnedBytes.set(bytes);
    this.opts.metrics.pinnedBlocks.set(pinned.size);
  }

  private async write(id: string, spec: BlockSpec, layout: FileLayout, load: BlockLoader): Promise<Loaded | void> {
    const tmp = join(this.opts.dir, `${id}.tmp-${randomBytes(4).toString('hex')}`);
    const fh = await onDisk(() => this.open(tmp, 'wx'));
    try {
      const parts = partWriters(fh, spec, layout);
      const loaded = await load(spec, (i, chunk) => parts[i].push(chunk));
      const digests: Buffer[] = [];
      for (const p of parts) digests.push(...(await p.end()));
      if (loaded?.digest !== undefined && loaded.digest !== blockDigest(digests)) {
        throw new DigestMismatchError(`block ${id}: the bytes received do not match the digest the source sent`);
      }
      const head = Buffer.concat([layout.head, ...digests]);
      const seal = createHash('sha256').update(head).digest();
      await onDisk(async () => {
        await writeAll(fh, Buffer.concat([head, seal]), 0);
        await fh.sync();
        await fh.close();
        await rename(tmp, this.path(id));
        await syncDir(this.opts.dir);
      });
      return loaded;
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Evicts until `bytes` more fit beside the cache and the writes in progress; false when they never can. */
  private async reserve(bytes: number, reason: EvictionReason): Promise<boolean> {
    if (bytes + this.reserved + this.pinnedFileBytes > this.capacity) return false;
    while (this.lru.calculatedSize + this.reserved + bytes > this.capacity) {
      if (!this.evictOne(reason)) return false;
    }
    this.reserved += bytes;
    await this.settle();
    return true;
  }

  private add(id: string, entry: Entry): void {
    this.lru.set(id, entry);
    for (const p of entry.spec.parts) {
      const k = `${entry.spec.bucket}/${p.key}`;
      let ids = this.byObject.get(k);
      if (!ids) this.byObject.set(k, (ids = new Set()));
      ids.add(id);
    }
    if (this.demandSet.has(id)) this.repin();
    this.changed();
  }

  private removed(id: string, entry: Entry, reason: LRUCache.DisposeReason): void {
    // 'evict': lru-cache itself made room (a restart with a smaller capacity).
    if (this.evicting || reason === 'evict') this.opts.metrics.evictions.inc({ reason: this.evicting ?? 'capacity' });
    if (this.pinned.has(id)) this.repin(id); // lru-cache calls dispose before the entry is gone
    for (const p of entry.spec.parts) {
      const k = `${entry.spec.bucket}/${p.key}`;
      const ids = this.byObject.get(k);
      ids?.delete(id);
      if (ids?.size === 0) this.byObject.delete(k);
    }
    const u = unlink(this.path(id))
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.opts.log.warn({ err, id }, 'could not delete block file');
      })
      .finally(() => this.unlinking.delete(u));
    this.unlinking.add(u);
    this.changed();
  }

  private changed(): void {
    const m = this.opts.metrics;
    m.usedBytes.set(this.lru.calculatedSize);
    m.blocks.set(this.lru.size);
    for (const l of this.listeners) l();
  }

  /** Loads every sealed block file, least recently used first (by modification time); deletes the rest. */
  private async rebuild(): Promise<void> {
    const found: { id: string; entry: Entry; mtime: number }[] = [];
    let dropped = 0;
    for (const name of await readdir(this.opts.dir)) {
      const file = join(this.opts.dir, name);
      const valid = name.endsWith(SUFFIX) ? await readBlockFile(file, name.slice(0, -SUFFIX.length)) : undefined;
      if (valid) found.push(valid);
      else {
        dropped++;
        if (name.endsWith(SUFFIX)) this.opts.metrics.corruptBlocks.inc();
        await unlink(file).catch(() => undefined);
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.add(f.id, f.entry);
    await this.settle();
    this.opts.log.info({ blocks: this.lru.size, bytes: this.lru.calculatedSize, dropped }, 'cache inventory rebuilt from disk');
  }
}

/** A check chunk: `index` in the block's digest table, bytes [start, start + length) of the block. */
interface CheckChunk {
  index: number;
  start: number;
  length: number;
}

/** Consecutive check chunks in runs of at most READ_BYTES (one chunk may be a run of its own). */
function batches(chunks: CheckChunk[]): CheckChunk[][] {
  const out: CheckChunk[][] = [];
  let bytes = 0;
  for (const c of chunks) {
    if (out.length === 0 || bytes + c.length > READ_BYTES) {
      out.push([]);
      bytes = 0;
    }
    out[out.length - 1].push(c);
    bytes += c.length;
  }
  return out;
}

/** Each part cut into CHECK_CHUNK pieces, in block order. */
function checkChunks(spec: Pick<BlockSpec, 'parts'>): CheckChunk[] {
  const out: CheckChunk[] = [];
  let base = 0;
  for (const p of spec.parts) {
    for (let at = 0; at < p.length; at += CHECK_CHUNK) out.push({ index: out.length, start: base + at, length: Math.min(CHECK_CHUNK, p.length - at) });
    base += p.length;
  }
  return out;
}

interface FileLayout {
  /** Magic, header length and header. */
  head: Buffer;
  digestOffset: number;
  dataOffset: number;
  fileBytes: number;
}

function fileLayout(spec: BlockSpec): FileLayout {
  const header = Buffer.from(JSON.stringify({ ...spec, checkChunk: CHECK_CHUNK }));
  const prefix = Buffer.alloc(PREFIX);
  MAGIC.copy(prefix);
  prefix.writeUInt32BE(header.length, MAGIC.length);
  return { head: Buffer.concat([prefix, header]), ...offsets(header.length, spec) };
}

/** Where a block file's digests and data start, and its size, given its header's length. */
function offsets(headerLength: number, spec: BlockSpec): Omit<FileLayout, 'head'> {
  const digestOffset = PREFIX + headerLength;
  const dataOffset = digestOffset + checkChunks(spec).length * DIGEST + DIGEST;
  return { digestOffset, dataOffset, fileBytes: dataOffset + spec.length };
}

/**
 * One writer per part: chunks arrive in order, are hashed per check chunk and written at the part's
 * place in batches. `end` checks the part's length and returns its digests.
 */
function partWriters(fh: FileHandle, spec: BlockSpec, layout: FileLayout) {
  let base = 0;
  return spec.parts.map((part) => {
    const at = layout.dataOffset + base;
    base += part.length;
    const digests: Buffer[] = [];
    let hash = createHash('sha256');
    let inChunk = 0;
    let written = 0;
    let received = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batchBytes === 0) return;
      const [b, n] = [batch, batchBytes];
      batch = [];
      batchBytes = 0;
      await onDisk(() => writeAll(fh, b, at + written));
      written += n;
    };
    return {
      async push(chunk: Buffer): Promise<void> {
        received += chunk.length;
        if (received > part.length) throw new Error(`part ${part.key} of block: received more than its ${part.length} bytes`);
        for (let off = 0; off < chunk.length;) {
          const n = Math.min(chunk.length - off, CHECK_CHUNK - inChunk);
          hash.update(chunk.subarray(off, off + n));
          inChunk += n;
          off += n;
          if (inChunk === CHECK_CHUNK) {
            digests.push(hash.digest());
            hash = createHash('sha256');
            inChunk = 0;
          }
        }
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= WRITE_BATCH) await flush();
      },
      async end(): Promise<Buffer[]> {
        if (received !== part.length) throw new Error(`part ${part.key} of block: received ${received} of ${part.length} bytes`);
        await flush();
        if (inChunk > 0) digests.push(hash.digest());
        return digests;
      },
    };
  });
}

/** Writes buffers at `position`, with few system calls (writev, in batches below IOV_MAX). */
async function writeAll(fh: FileHandle, data: Buffer | Buffer[], position: number): Promise<void> {
  const chunks = Array.isArray(data) ? data : [data];
  for (let i = 0; i < chunks.length; i += 512) {
    const batch = chunks.slice(i, i + 512);
    const want = batch.reduce((n, c) => n + c.length, 0);
    const { bytesWritten } = await fh.writev(batch, position);
    if (bytesWritten !== want) throw new Error(`short write (${bytesWritten} of ${want} bytes)`);
    position += want;
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  const { bytesRead } = await fh.read(buf, 0, buf.length, position);
  if (bytesRead !== buf.length) throw new Error(`block file is short: read ${bytesRead} of ${buf.length} bytes at ${position}`);
}

/** Makes a rename in `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await openFile(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A failure of the cache's disk, told apart from the remote's: a reader is served despite it. */
class DiskError extends Error {
  readonly code: string | undefined;
  constructor(override readonly cause: unknown) {
    super(`cache disk: ${(cause as Error).message}`);
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

async function onDisk<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new DiskError(err);
  }
}

/** A block file's entry when its seal, name and size agree; undefined otherwise. */
async function readBlockFile(file: string, id: string): Promise<{ id: string; entry: Entry; mtime: number } | undefined> {
  const fh = await openFile(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const st = await stat(file);
    const prefix = Buffer.alloc(PREFIX);
    await readFully(fh, prefix, 0);
    if (!prefix.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const headerLength = prefix.readUInt32BE(MAGIC.length);
    if (headerLength > MAX_HEADER || PREFIX + headerLength > st.size) return undefined;
    const header = Buffer.alloc(headerLength);
    await readFully(fh, header, PREFIX);
    const { checkChunk, ...spec } = JSON.parse(header.toString('utf8')) as BlockSpec & { checkChunk: number };
    if (checkChunk !== CHECK_CHUNK || !Array.isArray(spec.parts) || typeof spec.bucket !== 'string' || blockId(spec) !== id) return undefined;
    if (spec.parts.reduce((n, p) => n + p.length, 0) !== spec.length) return undefined;
    const layout = offsets(headerLength, spec);
    if (st.size !== layout.fileBytes) return undefined;
    const table = Buffer.alloc(layout.dataOffset - layout.digestOffset);
    await readFully(fh, table, layout.digestOffset);
    const seal = createHash('sha256')
      .update(prefix)
      .update(header)
      .update(table.subarray(0, table.length - DIGEST))
      .digest();
    if (!seal.equals(table.subarray(table.length - DIGEST))) return undefined;
    return { id, entry: { spec, fileBytes: st.size, digestOffset: layout.digestOffset, dataOffset: layout.dataOffset }, mtime: st.mtimeMs };
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}
