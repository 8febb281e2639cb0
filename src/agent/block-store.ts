// Blocks on local disk with a byte capacity and LRU eviction.
//
// A block file is `<id>.blk`: magic, header length, the JSON BlockSpec, then the block's bytes. It is
// written under a temporary name and renamed into place, so a crash leaves at most a temporary file,
// which the next start deletes; a `.blk` file whose size disagrees with its header is deleted too.
// Concurrent misses of one block share one remote fetch (single flight). Eviction happens before a
// block is written, and waits for the evicted files to be gone, so the disk never holds more than
// the capacity.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../metrics/agent.js';
import { blockId, type BlockSpec } from './layout.js';

const MAGIC = Buffer.from('LOCUSBK1');
const PREFIX = MAGIC.length + 4;
const MAX_HEADER = 16 * 1024 * 1024;
const SUFFIX = '.blk';

interface Entry {
  spec: BlockSpec;
  /** Bytes on disk: header and data. */
  fileBytes: number;
  dataOffset: number;
}

export interface BlockStoreOptions {
  dir: string;
  capacityBytes: number;
  /** Remote block fetches at once (default 8); each holds its block in memory until stored. */
  maxFetches?: number;
  metrics: AgentMetrics;
  log: Logger;
}

export class BlockStore {
  private readonly lru: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<Buffer[]>>();
  /** `bucket/key` → ids of the blocks holding bytes of that object. */
  private readonly byObject = new Map<string, Set<string>>();
  private readonly unlinking = new Set<Promise<void>>();
  private readonly listeners = new Set<() => void>();
  private reserved = 0;
  private fetching = 0;
  private readonly fetchQueue: (() => void)[] = [];

  private constructor(private readonly opts: BlockStoreOptions) {
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
    await mkdir(opts.dir, { recursive: true });
    const store = new BlockStore(opts);
    await store.rebuild();
    return store;
  }

  get capacityBytes(): number { return this.opts.capacityBytes; }
  get usedBytes(): number { return this.lru.calculatedSize; }

  /** Whether the block is on disk (does not count as a use). */
  has(id: string): boolean { return this.lru.has(id); }

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
    const chunks = await this.stream(id, from, length, length);
    if (!chunks) return undefined;
    const out: Buffer[] = [];
    for await (const c of chunks) out.push(c);
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /**
   * `length` bytes at `from` of a cached block in chunks of at most `chunkBytes`, or undefined when
   * it is not on disk. The file is opened before this returns, so a later eviction cannot cut it short.
   */
  async stream(id: string, from: number, length: number, chunkBytes = 1024 * 1024): Promise<AsyncIterable<Buffer> | undefined> {
    const entry = this.lru.get(id);
    if (!entry) return undefined;
    let fh: FileHandle;
    try {
      fh = await open(this.path(id), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // evicted meanwhile
      throw err;
    }
    const now = new Date();
    await fh.utimes(now, now).catch(() => undefined); // the modification time records use, so LRU order survives a restart
    const chunks = (async function* () {
      try {
        for (let at = 0; at < length; at += chunkBytes) {
          const n = Math.min(chunkBytes, length - at);
          const buf = Buffer.allocUnsafe(n);
          const { bytesRead } = await fh.read(buf, 0, n, entry.dataOffset + from + at);
          if (bytesRead !== n) throw new Error(`block ${id} is short: read ${bytesRead} of ${n} bytes at ${from + at}`);
          yield buf;
        }
      } finally {
        await fh.close().catch(() => undefined);
      }
    })();
    // A reader that leaves before the first chunk never enters the generator: close the file then too.
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => chunks.next(),
        return: async () => {
          await fh.close().catch(() => undefined);
          return chunks.return(undefined);
        },
      }),
    };
  }

  /**
   * The whole block (as chunks), fetched with `load` and stored. Concurrent calls for one id share
   * one `load`. A block that cannot be stored (larger than the capacity, disk error) is still returned.
   */
  fetch(spec: BlockSpec, load: (spec: BlockSpec) => Promise<Buffer[]>): Promise<Buffer[]> {
    const id = blockId(spec);
    const running = this.inflight.get(id);
    if (running) return running;
    this.opts.metrics.fetches.inc();
    const p = (async () => {
      await this.fetchSlot();
      let data: Buffer[];
      try {
        data = await load(spec);
      } finally {
        this.releaseFetchSlot();
      }
      const loaded = data.reduce((n, c) => n + c.length, 0);
      if (loaded !== spec.length) throw new Error(`block ${id}: loaded ${loaded} bytes, expected ${spec.length}`);
      await this.store(id, spec, data).catch((err: unknown) => this.opts.log.warn({ err, id }, 'could not store block; served uncached'));
      return data;
    })().finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  /** Waits for one of `maxFetches` remote fetches: blocks in flight are held in memory. */
  private fetchSlot(): Promise<void> {
    if (this.fetching < (this.opts.maxFetches ?? 8)) {
      this.fetching++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.fetchQueue.push(resolve));
  }

  private releaseFetchSlot(): void {
    const next = this.fetchQueue.shift();
    if (next) next(); // the slot passes on
    else this.fetching--;
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

  private async store(id: string, spec: BlockSpec, data: Buffer[]): Promise<void> {
    if (this.lru.has(id)) return;
    const header = Buffer.from(JSON.stringify(spec));
    const prefix = Buffer.alloc(PREFIX);
    MAGIC.copy(prefix);
    prefix.writeUInt32BE(header.length, MAGIC.length);
    const fileBytes = PREFIX + header.length + spec.length;
    if (!(await this.reserve(fileBytes))) return;
    const tmp = join(this.opts.dir, `${id}.tmp-${randomBytes(4).toString('hex')}`);
    try {
      await writeChunks(tmp, [prefix, header, ...data]);
      await rename(tmp, this.path(id));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    } finally {
      this.reserved -= fileBytes;
    }
    this.add(id, { spec, fileBytes, dataOffset: PREFIX + header.length });
  }

  /** Evicts until `bytes` more fit beside the cache and the writes in progress; false when they never can. */
  private async reserve(bytes: number): Promise<boolean> {
    while (this.lru.calculatedSize + this.reserved + bytes > this.opts.capacityBytes) {
      if (this.lru.size === 0) return false;
      this.lru.pop();
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
    this.changed();
  }

  private removed(id: string, entry: Entry, reason: LRUCache.DisposeReason): void {
    if (reason === 'evict') this.opts.metrics.evictions.inc();
    for (const p of entry.spec.parts) {
      const k = `${entry.spec.bucket}/${p.key}`;
      const ids = this.byObject.get(k);
      ids?.delete(id);
      if (ids?.size === 0) this.byObject.delete(k);
    }
    const u = unlink(this.path(id))
      .catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') this.opts.log.warn({ err, id }, 'could not delete block file'); })
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

  /** Loads every complete block file, least recently used first (by modification time); deletes the rest. */
  private async rebuild(): Promise<void> {
    const found: { id: string; entry: Entry; mtime: number }[] = [];
    let dropped = 0;
    for (const name of await readdir(this.opts.dir)) {
      const file = join(this.opts.dir, name);
      const valid = name.endsWith(SUFFIX) ? await readBlockFile(file, name.slice(0, -SUFFIX.length)) : undefined;
      if (valid) found.push(valid);
      else {
        dropped++;
        await unlink(file).catch(() => undefined);
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.add(f.id, f.entry);
    await this.settle();
    this.opts.log.info({ blocks: this.lru.size, bytes: this.lru.calculatedSize, dropped }, 'cache inventory rebuilt from disk');
  }
}

/** Writes chunks to a new file with few system calls (writev, in batches below IOV_MAX). */
async function writeChunks(file: string, chunks: Buffer[]): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    for (let i = 0; i < chunks.length; i += 512) {
      const batch = chunks.slice(i, i + 512);
      const want = batch.reduce((n, c) => n + c.length, 0);
      const { bytesWritten } = await fh.writev(batch);
      if (bytesWritten !== want) throw new Error(`${file}: short write (${bytesWritten} of ${want} bytes)`);
    }
  } finally {
    await fh.close();
  }
}

/** A block file's entry when it is complete and consistent with its name; undefined otherwise. */
async function readBlockFile(file: string, id: string): Promise<{ id: string; entry: Entry; mtime: number } | undefined> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const st = await stat(file);
    const prefix = Buffer.alloc(PREFIX);
    await fh.read(prefix, 0, PREFIX, 0);
    if (!prefix.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const headerLength = prefix.readUInt32BE(MAGIC.length);
    if (headerLength > MAX_HEADER || PREFIX + headerLength > st.size) return undefined;
    const header = Buffer.alloc(headerLength);
    await fh.read(header, 0, headerLength, PREFIX);
    const spec = JSON.parse(header.toString('utf8')) as BlockSpec;
    if (!Array.isArray(spec.parts) || typeof spec.bucket !== 'string' || blockId(spec) !== id) return undefined;
    if (spec.parts.reduce((n, p) => n + p.length, 0) !== spec.length) return undefined;
    if (st.size !== PREFIX + headerLength + spec.length) return undefined;
    return { id, entry: { spec, fileBytes: st.size, dataOffset: PREFIX + headerLength }, mtime: st.mtimeMs };
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}
