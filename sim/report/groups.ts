// report.json's view of a workload's job groups (kinds of work in one workload) and, for a workload
// modelled on a published experiment, the simulator's speed-up beside the published one; and the cache
// beside the working set, so a reader sees whether capacity can bind at all.
import type { Cluster } from '../cluster.js';
import type { WorkloadReads } from '../bounds.js';
import type { RunResult } from '../engine.js';
import { round } from '../metrics.js';
import type { Workload } from '../workloads/types.js';

export interface CacheSummary {
  /** Cache of the whole cluster, bytes. */
  totalBytes: number;
  /** Distinct bytes the workload reads (what a cache would have to hold to miss only first reads). */
  workingSetBytes: number;
  /** totalBytes / workingSetBytes: below 1 the cache cannot hold the working set. */
  cacheToWorkingSet: number;
}

export function cacheSummary(cluster: Cluster, reads: WorkloadReads): CacheSummary {
  const totalBytes = cluster.spec.nodes * cluster.spec.cacheGiBPerNode * 2 ** 30;
  return { totalBytes, workingSetBytes: reads.distinctBytes, cacheToWorkingSet: round(reads.distinctBytes > 0 ? totalBytes / reads.distinctBytes : 0) };
}

export interface GroupSummary {
  group: string;
  jobs: number;
  /** Per policy: mean JCT (s) of the group's jobs. */
  meanJctSeconds: Record<string, number>;
  /** Per policy: the group's mean JCT under `no-cache` over the policy's (when no-cache ran). */
  vsNoCache: Record<string, number>;
}

export interface PublishedComparison {
  source: string;
  claims: Array<{ group: string; what: string; published: number; simulated: Record<string, number> }>;
}

/** Per job group (jobs without one are left out); empty when the workload has no groups. */
export function groupSummaries(workload: Workload, runs: RunResult[]): GroupSummary[] {
  const members = new Map<string, number[]>();
  workload.jobs.forEach((job, j) => {
    if (job.group === undefined) return;
    let list = members.get(job.group);
    if (!list) members.set(job.group, (list = []));
    list.push(j);
  });
  const remote = runs.find((r) => r.policy === 'no-cache');
  const mean = (run: RunResult, jobs: number[]) => jobs.reduce((t, j) => t + run.finish[j] - run.arrival[j], 0) / jobs.length;
  return [...members].map(([group, jobs]) => {
    const meanJctSeconds: Record<string, number> = {};
    const vsNoCache: Record<string, number> = {};
    for (const run of runs) {
      meanJctSeconds[run.policy] = round(mean(run, jobs));
      if (remote) vsNoCache[run.policy] = round(mean(remote, jobs) / mean(run, jobs));
    }
    return { group, jobs: jobs.length, meanJctSeconds, vsNoCache };
  });
}

/** The published claims with the simulated speed-up of each policy over `no-cache` for the same group. */
export function publishedComparison(workload: Workload, groups: GroupSummary[]): PublishedComparison | undefined {
  const published = workload.published;
  if (!published) return undefined;
  return {
    source: published.source,
    claims: published.claims.map((c) => ({
      group: c.group,
      what: c.what,
      published: c.speedup,
      simulated: groups.find((g) => g.group === c.group)?.vsNoCache ?? {},
    })),
  };
}
