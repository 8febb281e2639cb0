// Per-policy figures from a run: completion times, bytes by source, hit ratios against the bounds,
// remote bandwidth and speedups. Numbers are rounded so reports read well and compare byte for byte.
import type { RunResult } from './engine.js';

export interface PolicyMetrics {
  policy: string;
  jobs: number;
  tasks: number;
  /** Job completion time (finish - arrival), seconds. */
  jctSeconds: { mean: number; median: number; p95: number };
  /** Last finish minus first arrival, seconds. */
  makespanSeconds: number;
  bytes: { requested: number; local: number; remote: number };
  /** Share of requested bytes read from the node's own cache. */
  hitRatio: number;
  blockHitRatio: number;
  /** Remote bytes over the makespan, and the busiest time bucket, Gb/s. */
  remoteGbps: { mean: number; peak: number };
  /** hitRatio as a share of the compulsory-miss bound (1 = every non-first read was local). */
  compulsoryShare: number;
  /** Belady's MIN over the cluster's whole cache capacity, for this policy's own order of reads. */
  clairvoyantHitRatio?: number;
  clairvoyantShare?: number;
  /** Local bytes as a share of the block-aware oracle's (the report's reference line), when it ran. */
  oracleShare?: number;
  /** Mean JCT of the baseline over this policy's (above 1 = faster). */
  speedup: { vsDefault?: number; vsNoCache?: number };
  inventoryWrites: number;
  peakBusySlots: number;
  /**
   * Share of the time tasks held a slot that they spent computing rather than waiting for data: GPU
   * utilisation for training workers (a step waits for its data) and serving replicas (loading weights).
   */
  computeShare: number;
  /** Serving: seconds from a replica's creation to its weights loaded (queueing for a slot included). */
  coldStartSeconds?: { mean: number; p50: number; p99: number };
  /** Runs with the warm cache modelled (`--warm`): where bytes came from, what was fetched ahead, the first block's wait. */
  warm?: {
    /** Mean seconds from a task's container start to its first block read. */
    firstBlockSeconds: number;
    /** Bytes fetched from the object store (reads and fetches ahead): egress. */
    egressBytes: number;
    /** Bytes read from a node of the same zone (reads and fetches ahead). */
    peerBytes: number;
    prefetchedBytes: number;
    /** Of those, bytes evicted before any read or never read. */
    wastedPrefetchBytes: number;
    /** Of those, bytes warmed for queued tasks. */
    warmAheadBytes: number;
  };
}

/** Rounds to 6 significant digits (reports stay readable and stable). */
export function round(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(6));
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function completionTimes(run: RunResult): Float64Array {
  return Float64Array.from(run.finish, (f, i) => f - run.arrival[i]).sort();
}

export function policyMetrics(run: RunResult, compulsoryHitRatio: number, clairvoyantBytes?: number, serving = false): Omit<PolicyMetrics, 'speedup'> {
  const jct = completionTimes(run);
  let sum = 0;
  for (const x of jct) sum += x;
  const requested = run.localBytes + run.remoteBytes;
  const hitRatio = requested > 0 ? run.localBytes / requested : 0;
  let peak = 0;
  for (const b of run.remoteSeries) peak = Math.max(peak, b);
  const m: Omit<PolicyMetrics, 'speedup'> = {
    policy: run.policy,
    jobs: jct.length,
    tasks: run.tasks,
    jctSeconds: { mean: round(sum / jct.length), median: round(quantile(jct, 0.5)), p95: round(quantile(jct, 0.95)) },
    makespanSeconds: round(run.makespan),
    bytes: { requested, local: run.localBytes, remote: run.remoteBytes },
    hitRatio: round(hitRatio),
    blockHitRatio: round(run.blockReads > 0 ? run.blockHits / run.blockReads : 0),
    remoteGbps: { mean: round(run.makespan > 0 ? (run.remoteBytes * 8) / run.makespan / 1e9 : 0), peak: round((peak * 8) / run.bucketSeconds / 1e9) },
    compulsoryShare: round(compulsoryHitRatio > 0 ? hitRatio / compulsoryHitRatio : 0),
    inventoryWrites: run.inventoryWrites,
    peakBusySlots: Math.max(0, ...run.peakBusy),
    computeShare: round(run.slotSeconds > 0 ? run.computeSeconds / run.slotSeconds : 0),
  };
  if (serving) {
    const cold = Float64Array.from(run.ready, (r, i) => r - run.arrival[i]).sort();
    let total = 0;
    for (const x of cold) total += x;
    m.coldStartSeconds = { mean: round(total / cold.length), p50: round(quantile(cold, 0.5)), p99: round(quantile(cold, 0.99)) };
  }
  if (run.warm) {
    const w = run.warm;
    m.warm = {
      firstBlockSeconds: round(w.firstBlockSeconds),
      egressBytes: w.egressBytes,
      peerBytes: w.peerBytes,
      prefetchedBytes: w.prefetchedBytes,
      wastedPrefetchBytes: w.wastedPrefetchBytes,
      warmAheadBytes: w.warmAheadBytes,
    };
  }
  if (clairvoyantBytes !== undefined && requested > 0) {
    m.clairvoyantHitRatio = round(clairvoyantBytes / requested);
    m.clairvoyantShare = round(clairvoyantBytes > 0 ? run.localBytes / clairvoyantBytes : 0);
  }
  return m;
}

/** Adds each policy's local bytes as a share of the oracle's. */
export function withOracleShares(all: PolicyMetrics[], oracle: PolicyMetrics): PolicyMetrics[] {
  return all.map((m) => ({ ...m, oracleShare: round(oracle.bytes.local > 0 ? m.bytes.local / oracle.bytes.local : 0) }));
}

/** Adds speedups against `default` and `no-cache` when those policies ran. */
export function withSpeedups(all: Array<Omit<PolicyMetrics, 'speedup'>>): PolicyMetrics[] {
  const mean = (name: string) => all.find((m) => m.policy === name)?.jctSeconds.mean;
  const base = mean('default');
  const remote = mean('no-cache');
  return all.map((m) => ({
    ...m,
    speedup: {
      ...(base !== undefined ? { vsDefault: round(base / m.jctSeconds.mean) } : {}),
      ...(remote !== undefined ? { vsNoCache: round(remote / m.jctSeconds.mean) } : {}),
    },
  }));
}
