// report.json: everything a comparison found, deterministic for a seed (no wall-clock values).
import type { Cluster, ClusterSpec } from '../cluster.js';
import type { WorkloadReads } from '../bounds.js';
import type { RunResult } from '../engine.js';
import { completionTimes, quantile, round, type PolicyMetrics } from '../metrics.js';
import type { Workload } from '../workloads/types.js';

export const REPORT_SCHEMA = 'locus.dev/sim-report/v1';

export interface Report {
  schema: typeof REPORT_SCHEMA;
  seed: number;
  trace: { source: string; kind: Workload['kind']; jobs: number; tasks: number; datasets: number; notes: string[] };
  cluster: ClusterSpec & { inventoryWriteSecondsUsed: number };
  bounds: {
    requestedBytes: number;
    distinctBytes: number;
    /** 1 - distinct / requested: no policy, cache size or order of reads can do better. */
    compulsoryHitRatio: number;
  };
  policies: PolicyMetrics[];
  /** Per policy: JCT quantiles (seconds) at fractions 0.01..1 (CDF points). */
  jctCdf: Record<string, Array<[number, number]>>;
  /** Per policy: share of bytes read locally per time bucket (null when nothing was read). */
  localShare: { bucketSeconds: number; series: Record<string, Array<number | null>> };
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
  runs: RunResult[];
  tasksTotal: number;
}): Report {
  const { cluster, workload, runs } = input;
  const jctCdf: Report['jctCdf'] = {};
  for (const run of runs) {
    const jct = completionTimes(run);
    jctCdf[run.policy] = Array.from({ length: CDF_POINTS }, (_, i) => [round(quantile(jct, (i + 1) / CDF_POINTS)), (i + 1) / CDF_POINTS]);
  }
  // A common bucket width for every policy, at most SERIES_POINTS buckets over the longest run.
  const longest = Math.max(...runs.map((r) => r.localSeries.length, 1));
  const factor = Math.max(1, Math.ceil(longest / SERIES_POINTS));
  const series: Record<string, Array<number | null>> = {};
  for (const run of runs) {
    const out: Array<number | null> = [];
    for (let i = 0; i < run.localSeries.length; i += factor) {
      let local = 0;
      let remote = 0;
      for (let k = i; k < Math.min(i + factor, run.localSeries.length); k++) {
        local += run.localSeries[k];
        remote += run.remoteSeries[k] ?? 0;
      }
      out.push(local + remote > 0 ? round(local / (local + remote)) : null);
    }
    series[run.policy] = out;
  }
  return {
    schema: REPORT_SCHEMA,
    seed: input.seed,
    trace: {
      source: workload.source, kind: workload.kind, jobs: workload.jobs.length, tasks: input.tasksTotal,
      datasets: workload.datasets.length, notes: workload.notes,
    },
    cluster: { ...cluster.spec, inventoryWriteSecondsUsed: cluster.writeSeconds },
    bounds: { requestedBytes: input.reads.requestedBytes, distinctBytes: input.reads.distinctBytes, compulsoryHitRatio: round(input.compulsory) },
    policies: input.policies,
    jctCdf,
    localShare: { bucketSeconds: runs[0] ? runs[0].bucketSeconds * factor : 0, series },
  };
}
