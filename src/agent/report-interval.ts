// How often an agent may write its NodeCache: the cluster's agents share a write budget (about 80
// writes/s in all), so the interval grows with the number of agents, within [min, max]: 2 s up to
// 160 nodes, 60 s from 4,800 nodes. The number of agents is the DaemonSet's
// `status.desiredNumberScheduled`: one small GET, instead of listing every Node from every node.
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/object.js';
import type { ResourceType } from '../kube/resources.js';

export interface IntervalPolicy {
  /** Writes per second all agents together should stay near. */
  clusterWritesPerSecond: number;
  minMs: number;
  maxMs: number;
}

export const DEFAULT_INTERVAL_POLICY: IntervalPolicy = { clusterWritesPerSecond: 80, minMs: 2_000, maxMs: 60_000 };

export function reportIntervalMs(agents: number, policy: IntervalPolicy = DEFAULT_INTERVAL_POLICY): number {
  const spread = (Math.max(1, agents) / policy.clusterWritesPerSecond) * 1000;
  return Math.round(Math.min(policy.maxMs, Math.max(policy.minMs, spread)));
}

export const DAEMON_SETS: ResourceType = { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true, statusSubresource: true };

/**
 * The report interval, from the agent DaemonSet's size, re-read every `refreshMs`. Until the first
 * answer (or when it cannot be read) the interval for `fallbackAgents` agents applies.
 */
export class ClusterSizedInterval {
  private agents: number;
  private readAt = -Infinity;
  private reading = false;

  constructor(
    private readonly opts: {
      client: KubeClient;
      daemonSet: { namespace: string; name: string };
      policy: IntervalPolicy;
      refreshMs: number;
      fallbackAgents: number;
      now(): number;
      log: Logger;
    },
  ) {
    this.agents = opts.fallbackAgents;
  }

  /** The current interval; starts a re-read in the background when the last one is old. */
  get(): number {
    if (!this.reading && this.opts.now() - this.readAt >= this.opts.refreshMs) {
      this.reading = true;
      this.readAt = this.opts.now();
      this.opts.client
        .get<KubeObject & { status?: { desiredNumberScheduled?: number } }>(DAEMON_SETS, this.opts.daemonSet)
        .then((ds) => {
          const n = ds?.status?.desiredNumberScheduled;
          if (typeof n === 'number' && n > 0) this.agents = n;
        })
        .catch((err: unknown) =>
          this.opts.log.warn({ err, daemonSet: this.opts.daemonSet }, 'could not read the agent DaemonSet; keeping the last report interval'),
        )
        .finally(() => {
          this.reading = false;
        });
    }
    return reportIntervalMs(this.agents, this.opts.policy);
  }
}
