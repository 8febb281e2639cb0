// The modelled cluster: nodes with slots and a block cache, zones, and the bandwidths reads share.
// A spec is a preset name or a YAML/JSON file; every field is documented in the README.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WarmSpec } from './warm.js';

export const ClusterSpec = z
  .object({
    name: z.string().default('custom'),
    nodes: z.number().int().positive(),
    /** Task slots per node: cores for Spark executors' tasks, GPUs for training workers. */
    slotsPerNode: z.number().int().positive(),
    /** Nodes are spread round-robin over this many zones (`zone-0`, …) of one region. */
    zones: z.number().int().positive().default(1),
    cacheGiBPerNode: z.number().nonnegative(),
    eviction: z.enum(['lru', 'fifo']).default('lru'),
    blockMiB: z.number().positive().default(128),
    /** Read bandwidth of a node's local cache, GB/s, shared by the node's concurrent readers. */
    localReadGBps: z.number().positive(),
    /** Per-node network interface, Gb/s. */
    nicGbps: z.number().positive(),
    /** Aggregate object-store bandwidth, Gb/s, shared by every concurrent remote reader. */
    objectStoreGbps: z.number().positive(),
    /** Most one reader gets from the object store (one stream of GETs), Gb/s. */
    objectStoreStreamGbps: z.number().positive(),
    /** Each zone's link to the object store, Gb/s, shared by the zone's remote readers; absent: not a limit. */
    zoneUplinkGbps: z.number().positive().optional(),
    /**
     * Time to first byte of one request to the object store (or shared file server), ms. Reads of datasets
     * stored as one object per sample pay it per sample; 0: no per-request cost (big-object reads only).
     */
    remoteFirstByteMs: z.number().nonnegative().default(0),
    /** Time to first byte of one request to the node's own cache (the agent on loopback, NVMe), ms. */
    localFirstByteMs: z.number().nonnegative().default(0),
    /** Concurrent sample requests of one training worker: its data loader's worker processes. */
    loaderStreams: z.number().int().positive().default(4),
    /** A training worker's read-ahead (its data loader's prefetch buffer), MiB; at least one block. */
    prefetchMiB: z.number().positive().default(512),
    /** Seconds between an agent's inventory writes; default as the agents: nodes/80, within 2..60. */
    inventoryWriteSeconds: z.number().positive().optional(),
    /** An unchanged inventory is rewritten this often (s), and expires after inventoryTtlSeconds. */
    inventoryRefreshSeconds: z.number().positive().default(600),
    inventoryTtlSeconds: z.number().positive().default(900),
    /** kube-scheduler's `weight` for the extender: total = least-allocated (0..100) + weight × 10 × score. */
    extenderWeight: z.number().nonnegative().default(5),
    /** Delay scheduling: wait up to this long (s) for a slot on a node with score >= delayMinScore. */
    delaySeconds: z.number().nonnegative().default(5),
    delayMinScore: z.number().int().min(1).max(10).default(5),
    /** The warm cache's parameters (`locus sim --warm`); absent: the defaults of sim/warm.ts. */
    warm: WarmSpec.optional(),
  })
  .strict();
export type ClusterSpec = z.infer<typeof ClusterSpec>;

export const PRESETS: Record<string, ClusterSpec> = {
  spark: ClusterSpec.parse({
    name: 'spark',
    nodes: 100,
    slotsPerNode: 16,
    zones: 3,
    cacheGiBPerNode: 200,
    localReadGBps: 2,
    nicGbps: 10,
    objectStoreGbps: 100,
    objectStoreStreamGbps: 1,
    remoteFirstByteMs: 20,
    localFirstByteMs: 0.5,
  }),
  /** The spark cluster with a tenth of the cache, so that capacity binds on the SWIM traces. */
  'spark-small-cache': ClusterSpec.parse({
    name: 'spark-small-cache',
    nodes: 100,
    slotsPerNode: 16,
    zones: 3,
    cacheGiBPerNode: 20,
    localReadGBps: 2,
    nicGbps: 10,
    objectStoreGbps: 100,
    objectStoreStreamGbps: 1,
    remoteFirstByteMs: 20,
    localFirstByteMs: 0.5,
  }),
  gpu: ClusterSpec.parse({
    name: 'gpu',
    nodes: 32,
    slotsPerNode: 8,
    zones: 2,
    cacheGiBPerNode: 1024,
    localReadGBps: 4,
    nicGbps: 25,
    objectStoreGbps: 40,
    objectStoreStreamGbps: 2,
    remoteFirstByteMs: 20,
    localFirstByteMs: 0.5,
  }),
  /** Hoard's testbed (arXiv:1812.00669): 4 nodes × 4 GPUs, two NVMe disks each, a 10 Gb/s NFS server. */
  hoard: ClusterSpec.parse({
    name: 'hoard',
    nodes: 4,
    slotsPerNode: 4,
    zones: 1,
    cacheGiBPerNode: 1490,
    localReadGBps: 4,
    nicGbps: 10,
    objectStoreGbps: 10,
    objectStoreStreamGbps: 10,
  }),
  /** A small cluster reading an object store, as in Datashim's evaluation (CLOUD 2021); each node can cache the working set. */
  datashim: ClusterSpec.parse({
    name: 'datashim',
    nodes: 4,
    slotsPerNode: 8,
    zones: 1,
    cacheGiBPerNode: 256,
    localReadGBps: 2,
    nicGbps: 10,
    objectStoreGbps: 10,
    objectStoreStreamGbps: 1,
    remoteFirstByteMs: 20,
    localFirstByteMs: 0.5,
  }),
};

/** Resolves a preset name or a spec file (YAML or JSON); errors name the field and the fix. */
export function loadCluster(nameOrFile: string): ClusterSpec {
  const preset = PRESETS[nameOrFile];
  if (preset) return preset;
  let text: string;
  try {
    text = readFileSync(nameOrFile, 'utf8');
  } catch {
    throw new Error(`--cluster "${nameOrFile}" is neither a preset (${Object.keys(PRESETS).join(', ')}) nor a readable file`);
  }
  return parseCluster(parseYaml(text), nameOrFile);
}

export function parseCluster(raw: unknown, source: string): ClusterSpec {
  const parsed = ClusterSpec.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`${source}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; fields: ${Object.keys(ClusterSpec.shape).join(', ')}`);
}

/** What the engine uses: the spec in bytes and seconds, with node names and zones spelled out. */
export interface Cluster {
  spec: ClusterSpec;
  names: string[];
  zoneOf: string[];
  region: string;
  blockSize: number;
  cacheBlocks: number;
  streamBytesPerSecond: number;
  /** Per-request first-byte latency of the object store and of a node's cache, seconds. */
  remoteFirstByteSeconds: number;
  localFirstByteSeconds: number;
  writeSeconds: number;
  /** Blocks a training worker may hold read but not yet consumed, or be reading. */
  prefetchBlocks: number;
  /** Capacity (bytes/s) of every link a read may cross, indexed as `localPath` and `remotePath` name them. */
  linkCapacity: number[];
  /** Links of a read from node `n`'s own cache: its cache device. */
  localPath: number[][];
  /** Links of a read from the object store to node `n`: its NIC, its zone's uplink if limited, the store. */
  remotePath: number[][];
}

export function buildCluster(spec: ClusterSpec): Cluster {
  const width = String(spec.nodes - 1).length;
  const names = Array.from({ length: spec.nodes }, (_, i) => `node-${String(i).padStart(width, '0')}`);
  const blockSize = Math.round(spec.blockMiB * 2 ** 20);
  const zoneOf = names.map((_, i) => `zone-${i % spec.zones}`);
  // Links: cache device of node n = n, NIC of node n = nodes + n, uplink of zone z = 2 nodes + z, store last.
  const n = spec.nodes;
  const uplinks = spec.zoneUplinkGbps === undefined ? 0 : spec.zones;
  const store = 2 * n + uplinks;
  const linkCapacity = [
    ...names.map(() => spec.localReadGBps * 1e9),
    ...names.map(() => (spec.nicGbps * 1e9) / 8),
    ...Array.from({ length: uplinks }, () => (spec.zoneUplinkGbps! * 1e9) / 8),
    (spec.objectStoreGbps * 1e9) / 8,
  ];
  return {
    spec,
    names,
    zoneOf,
    region: 'region-0',
    blockSize,
    cacheBlocks: Math.floor((spec.cacheGiBPerNode * 2 ** 30) / blockSize),
    streamBytesPerSecond: (spec.objectStoreStreamGbps * 1e9) / 8,
    remoteFirstByteSeconds: spec.remoteFirstByteMs / 1000,
    localFirstByteSeconds: spec.localFirstByteMs / 1000,
    writeSeconds: spec.inventoryWriteSeconds ?? Math.min(60, Math.max(2, spec.nodes / 80)),
    prefetchBlocks: Math.max(1, Math.floor(spec.prefetchMiB / spec.blockMiB)),
    linkCapacity,
    localPath: names.map((_, i) => [i]),
    remotePath: names.map((_, i) => (uplinks > 0 ? [n + i, 2 * n + (i % spec.zones), store] : [n + i, store])),
  };
}

/**
 * Most one reader gets when it fetches samples of `sampleBytes` one request each over `streams`
 * concurrent streams, each request waiting `firstByteSeconds` before it transfers at `streamRate`:
 * streams × s / (ttfb + s / rate), and never more than `cap` (the reader's stream cap). Without a
 * sample size (big-object reads) or a first-byte latency there is no per-request cost: `cap`.
 */
export function requestBoundRate(sampleBytes: number | undefined, firstByteSeconds: number, streamRate: number, streams: number, cap: number): number {
  if (sampleBytes === undefined || firstByteSeconds === 0) return cap;
  return Math.min(cap, (streams * sampleBytes) / (firstByteSeconds + sampleBytes / streamRate));
}
