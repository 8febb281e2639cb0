// One comparison: a workload replayed on a cluster under each policy, with the bounds, as a report.
import type { Cluster } from './cluster.js';
import { beladyBytes, workloadReads } from './bounds.js';
import { runSimulation, type RunResult } from './engine.js';
import { policyMetrics, withSpeedups } from './metrics.js';
import { makePolicy, type SimPolicyName } from './policies/index.js';
import { buildReport, type Report } from './report/json.js';
import type { Workload } from './workloads/types.js';

export interface CompareOptions {
  cluster: Cluster;
  workload: Workload;
  policies: SimPolicyName[];
  seed: number;
  /** Compute the clairvoyant bound per policy (needs every read kept in memory). */
  clairvoyant?: boolean;
  onPolicy?: (name: string, tasksTotal: number) => void;
  onProgress?: (tasksDone: number) => void;
}

export async function compare(opts: CompareOptions): Promise<{ report: Report; runs: RunResult[] }> {
  const { cluster, workload } = opts;
  const reads = workloadReads(workload, cluster.blockSize);
  const compulsory = reads.requestedBytes > 0 ? 1 - reads.distinctBytes / reads.requestedBytes : 0;
  const capacity = cluster.spec.nodes * cluster.spec.cacheGiBPerNode * 2 ** 30;
  let tasksTotal = 0;
  for (const job of workload.jobs) for (const s of job.stages) tasksTotal += s.tasks;
  const runs: RunResult[] = [];
  const metrics = [];
  for (const name of opts.policies) {
    opts.onPolicy?.(name, tasksTotal);
    const run = await runSimulation({
      cluster, workload, policy: makePolicy(name, cluster.spec), seed: opts.seed,
      recordReads: opts.clairvoyant ?? true, onProgress: opts.onProgress,
    });
    const clairvoyant = run.reads ? beladyBytes(run.reads, workload, cluster.blockSize, capacity) : undefined;
    run.reads = undefined;
    runs.push(run);
    metrics.push(policyMetrics(run, compulsory, clairvoyant));
  }
  const report = buildReport({ cluster, workload, seed: opts.seed, reads, compulsory, policies: withSpeedups(metrics), runs, tasksTotal });
  return { report, runs };
}
