// One comparison: a workload replayed on a cluster under each policy, with the bounds, as a report.
import type { Cluster } from './cluster.js';
import { beladyBytes, workloadReads } from './bounds.js';
import { runSimulation, type RunResult } from './engine.js';
import { policyMetrics, withOracleShares, withSpeedups } from './metrics.js';
import { ORACLE_LABEL, oraclePolicy } from './oracle.js';
import { makePolicy, withWarm, type SimPolicyName } from './policies/index.js';
import type { SimPolicy } from './policies/types.js';
import { buildReport, type Report } from './report/json.js';
import { warmComparisons } from './report/warm.js';
import { NO_WARM, WarmSpec, warmVariants, type WarmOption } from './warm.js';
import type { Workload } from './workloads/types.js';

export interface CompareOptions {
  cluster: Cluster;
  workload: Workload;
  policies: SimPolicyName[];
  seed: number;
  /** Compute the clairvoyant bound per policy (needs every read kept in memory). */
  clairvoyant?: boolean;
  /** Also run the block-aware oracle, the report's reference line (default true). */
  oracle?: boolean;
  /**
   * Warm-cache options to compare: every policy (that caches) runs without them, with each alone and with
   * all together, every run modelling pod start-up; absent: no warm cache, as before.
   */
  warm?: WarmOption[];
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
  const warmSpec = opts.warm ? WarmSpec.parse(cluster.spec.warm ?? {}) : undefined;
  const measure = async (policy: SimPolicy) => {
    opts.onPolicy?.(policy.name, tasksTotal);
    const run = await runSimulation({
      cluster,
      workload,
      policy,
      seed: opts.seed,
      recordReads: opts.clairvoyant ?? true,
      onProgress: opts.onProgress,
      ...(warmSpec ? { warm: { options: policy.warm ?? NO_WARM, spec: warmSpec } } : {}),
    });
    const clairvoyant = run.reads ? beladyBytes(run.reads, workload, cluster.blockSize, capacity) : undefined;
    run.reads = undefined;
    return { run, metrics: policyMetrics(run, compulsory, clairvoyant, workload.kind === 'serving') };
  };
  const runs: RunResult[] = [];
  const metrics = [];
  for (const name of opts.policies) {
    const policy = makePolicy(name, cluster.spec);
    // without a cache there is nothing to warm: such a policy runs once (with start-up, as the others)
    const variants = opts.warm && policy.caches ? warmVariants(opts.warm) : [NO_WARM];
    for (const warm of variants) {
      const m = await measure(opts.warm ? withWarm(policy, warm) : policy);
      runs.push(m.run);
      metrics.push(m.metrics);
    }
  }
  const reference = (opts.oracle ?? true) ? await measure(oraclePolicy) : undefined;
  const all = withSpeedups(reference ? [...metrics, reference.metrics] : metrics);
  const oracle = reference ? { ...all.pop()!, label: ORACLE_LABEL } : undefined;
  const policies = oracle ? withOracleShares(all, oracle) : all;
  const report = buildReport({ cluster, workload, seed: opts.seed, reads, compulsory, policies, oracle, runs, tasksTotal });
  if (opts.warm && warmSpec) report.warm = { spec: warmSpec, options: opts.warm, comparisons: warmComparisons(opts.policies, opts.warm, policies) };
  return { report, runs };
}
