// report.json: everything a comparison found, deterministic for a seed (no wall-clock values).
import type { Cluster, ClusterSpec } from '../cluster.js';
import type { WorkloadReads } from '../bounds.js';
import type { RunResult } from '../engine.js';
import { completionTimes, quantile, round, type PolicyMetrics } from '../metrics.js';
import type { WarmReport } from './warm.js';
import { cacheSummary, groupSummaries, publishedComparison, type CacheSummary, type GroupSummary, type PublishedComparison } from './groups.js';
import type { Workload } from '../workloads/types.js';

export const REPORT_SCHEMA = 'locus.dev/sim-report/v1';

export interface Report {
  schema: typeof REPORT_SCHEMA;
  seed: number;
  trace: { source: string; kind: Workload['kind']; jobs: number; tasks: number; datasets: number; notes: string[] };
  cluster: ClusterSpec & { inventoryWriteSecondsUsed: number };
  /** The cluster's cache beside the workload's working set. */
  cache: CacheSummary;
  bounds: {
    requestedBytes: number;
    distinctBytes: number;
    /** 1 - distinct / requested: no policy, cache size or order of reads can do better. */
    compulsoryHitRatio: number;
    /** Local byte share of the block-aware oracle: a reference (perfect knowledge of live caches), not a bound. */
    oracleHitRatio?: number;
  };
  policies: PolicyMetrics[];
  /** The block-aware oracle's line, labelled as a reference: not a policy users run. */
  oracle?: PolicyMetrics & { label: string };
  /** Per policy: JCT quantiles (seconds) at fractions 0.01..1 (CDF points). */
  jctCdf: Record<string, Array<[number, number]>>;
  /**
   * Per policy: share of bytes read locally per time bucket (null when nothing was read), and
   * cumulative: from the start of the run to the end of each bucket (null until anything was read).
   */
  localShare: { bucketSeconds: number; series: Record<string, Array<number | null>>; cumulative: Record<string, Array<number | null>> };
  /** Jobs by input bytes in decades (empty classes left out): how many, and each policy's mean JCT (s). */
  jctBySize: Array<{ label: string; maxBytes: number | null; jobs: number; meanJctSeconds: Record<string, number> }>;
  /** Per job group of a workload that mixes kinds of work (absent when it has none). */
  groups?: GroupSummary[];
  /** For a workload modelled on a published experiment: each published speed-up beside the simulated ones. */
  published?: PublishedComparison;
  /** With `--warm`: the warm cache's parameters and, per policy, what each option adds. */
  warm?: WarmReport;
}

const CDF_POINTS = 100;
const SERIES_POINTS = 100;

export function buildReport(input: {
  cluster: Cluster;
  workload: Workload;
  seed: number;
  reads: WorkloadReads;
  compulsory: number;
  policies: PolicyMetrics[];
  oracle?: PolicyMetrics & { label: string };
  runs: RunResult[];
  tasksTotal: number;
}): Report {
  const groups = groupSummaries(input.workload, input.runs);
  const published = publishedComparison(input.workload, groups);
  const { cluster, workload, runs } = input;
  const jctCdf: Report['jctCdf'] = {};
  for (const run of runs) {
    const jct = completionTimes(run);
    jctCdf[run.policy] = Array.from({ length: CDF_POINTS }, (_, i) => [round(quantile(jct, (i + 1) / CDF_POINTS)), (i + 1) / CDF_POINTS]);
  }
  // A common bucket width for every policy, at most SERIES_POINTS buckets over the longest run. A series
  // ends at its last non-empty bucket (no-cache never reads locally: its local series is empty).
  const buckets = (r: RunResult) => Math.max(r.localSeries.length, r.remoteSeries.length);
  const longest = Math.max(...runs.map(buckets), 1);
  const factor = Math.max(1, Math.ceil(longest / SERIES_POINTS));
  const series: Record<string, Array<number | null>> = {};
  const cumulative: Record<string, Array<number | null>> = {};
  for (const run of runs) {
    const out: Array<number | null> = [];
    const sum: Array<number | null> = [];
    let localSum = 0;
    let allSum = 0;
    for (let i = 0; i < buckets(run); i += factor) {
      let local = 0;
      let remote = 0;
      for (let k = i; k < Math.min(i + factor, buckets(run)); k++) {
        local += run.localSeries[k] ?? 0;
        remote += run.remoteSeries[k] ?? 0;
      }
      out.push(local + remote > 0 ? round(local / (local + remote)) : null);
      localSum += local;
      allSum += local + remote;
      sum.push(allSum > 0 ? round(localSum / allSum) : null);
    }
    series[run.policy] = out;
    cumulative[run.policy] = sum;
  }
  return {
    schema: REPORT_SCHEMA,
    seed: input.seed,
    trace: {
      source: workload.source,
      kind: workload.kind,
      jobs: workload.jobs.length,
      tasks: input.tasksTotal,
      datasets: workload.datasets.length,
      notes: workload.notes,
    },
    cluster: { ...cluster.spec, inventoryWriteSecondsUsed: cluster.writeSeconds },
    cache: cacheSummary(cluster, input.reads),
    bounds: {
      requestedBytes: input.reads.requestedBytes,
      distinctBytes: input.reads.distinctBytes,
      compulsoryHitRatio: round(input.compulsory),
      ...(input.oracle ? { oracleHitRatio: input.oracle.hitRatio } : {}),
    },
    policies: input.policies,
    ...(input.oracle ? { oracle: input.oracle } : {}),
    jctCdf,
    localShare: { bucketSeconds: runs[0] ? runs[0].bucketSeconds * factor : 0, series, cumulative },
    jctBySize: jctBySize(workload, cluster.blockSize, runs),
    ...(groups.length > 0 ? { groups } : {}),
    ...(published ? { published } : {}),
  };
}

const GiB = 2 ** 30;
const SIZE_CLASSES = [
  { label: '< 1 GiB', maxBytes: GiB },
  { label: '1–10 GiB', maxBytes: 10 * GiB },
  { label: '10–100 GiB', maxBytes: 100 * GiB },
  { label: '≥ 100 GiB', maxBytes: null },
];

/** Bytes a job's tasks read over all passes (the first `readBlocks` blocks of each stage's dataset). */
function inputBytes(workload: Workload, job: Workload['jobs'][number], blockSize: number): number {
  let bytes = 0;
  for (const s of job.stages) {
    if (s.dataset < 0) continue;
    // only a dataset's last block is short
    bytes += Math.min(s.readBlocks * blockSize, workload.datasets[s.dataset].bytes) * s.passes;
  }
  return bytes;
}

function jctBySize(workload: Workload, blockSize: number, runs: RunResult[]): Report['jctBySize'] {
  const cls = workload.jobs.map((job) => {
    const bytes = inputBytes(workload, job, blockSize);
    return SIZE_CLASSES.findIndex((c) => c.maxBytes === null || bytes < c.maxBytes);
  });
  return SIZE_CLASSES.flatMap((c, k) => {
    const members = cls.flatMap((x, j) => (x === k ? [j] : []));
    if (members.length === 0) return [];
    const meanJctSeconds: Record<string, number> = {};
    for (const run of runs) meanJctSeconds[run.policy] = round(members.reduce((t, j) => t + run.finish[j] - run.arrival[j], 0) / members.length);
    return [{ ...c, jobs: members.length, meanJctSeconds }];
  });
}
