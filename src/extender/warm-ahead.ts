// Warm-ahead for queued work: the leading extender replica (a Lease) watches the pods its schedulers
// could not place and the Jobs created suspended, plans with the core's planWarm which nodes warm which
// slices, and writes each node's items into its NodeCache's spec.warm (a merge patch, only when the
// items changed), which that node's agent turns into prefetch after its bound pods'. Planning reads the
// very index and policy prioritize scores with. Off unless --warm-budget is set.
//
// kube-scheduler never sends the extender a pod that no node fits, so the queue comes from the API:
// Pending pods with no node (field selector), their PodScheduled condition False/Unschedulable.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { NodeCacheWarmItem } from '../api/nodecache.js';
import type { LocalityIndex } from '../core/locality-index.js';
import type { PolicyName } from '../core/policies/index.js';
import type { ScoringConfig } from '../core/policies/config.js';
import { requestForPod } from '../core/pod-request.js';
import type { PodLike } from '../core/pod.js';
import { JOB_COMPLETION_INDEX_ANNOTATION } from '../core/pod-slices.js';
import { planWarm, warmTargetKey, type QueuedWork, type WarmItem, type WarmNode, type WarmSettings, type WarmTarget } from '../core/warm-plan.js';
import type { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import { LeaderElection } from '../kube/lease.js';
import type { KubeObject } from '../kube/object.js';
import { JOBS, NODE_CACHES, NODES, PODS } from '../kube/resources.js';
import type { ExtenderMetrics } from '../metrics/extender.js';

/** Indices of one suspended Indexed Job considered (the budget ends planning long before, in practice). */
export const MAX_JOB_INDICES = 1000;

export interface WarmAheadSettings extends WarmSettings {
  /** Pods (and Jobs' pod templates) with one of these spec.schedulerName are queued work. */
  schedulerNames: string[];
  lease: { namespace: string; name: string; identity: string; durationMs: number; retryMs: number };
  /** How often the leader plans, ms. */
  intervalMs: number;
}

export interface WarmAheadOptions {
  kc: KubeConfig;
  client: KubeClient;
  index: LocalityIndex;
  policy: PolicyName;
  scoring?: Partial<ScoringConfig>;
  /** `spec.completions` of a Job (the extender's Job informer), for the shard of an Indexed Job's pod. */
  jobCompletions: (namespace: string, name: string) => number | undefined;
  /** True once the extender's index has synced. */
  ready: () => boolean;
  settings: WarmAheadSettings;
  metrics: ExtenderMetrics;
  logger: Logger;
  now: () => number;
}

type Pod = KubeObject &
  PodLike & {
    spec?: { schedulerName?: string; nodeSelector?: Record<string, string> | null; volumes?: PodVolumes };
    status?: { conditions?: Array<{ type?: string; status?: string; reason?: string; lastTransitionTime?: string }> | null };
  };
type PodVolumes = NonNullable<NonNullable<PodLike['spec']>['volumes']>;
type Job = KubeObject & {
  spec?: {
    suspend?: boolean | null;
    completions?: number | null;
    completionMode?: string | null;
    template?: {
      metadata?: { labels?: Record<string, string> | null; annotations?: Record<string, string> | null } | null;
      spec?: { schedulerName?: string; nodeSelector?: Record<string, string> | null; volumes?: PodVolumes } | null;
    } | null;
  };
};
type NodeObject = KubeObject & { spec?: { unschedulable?: boolean | null } };
type NodeCacheObject = KubeObject & { spec?: { warm?: unknown } };

export class WarmAhead {
  private readonly election: LeaderElection;
  private informers: Informer[] = [];
  private readonly pods = new Map<string, Pod>();
  private readonly jobs = new Map<string, Job>();
  private readonly nodes = new Map<string, WarmNode>();
  /** Node → the identity of its NodeCache's spec.warm items as last seen or written. */
  private readonly written = new Map<string, string>();
  private assigned = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private planning: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(private readonly opts: WarmAheadOptions) {
    const { lease } = opts.settings;
    this.election = new LeaderElection({
      client: opts.client,
      ...lease,
      now: opts.now,
      onChange: (leading) => (leading ? this.lead() : void this.follow()),
      onError: (err) => opts.logger.warn({ err }, 'warm-ahead Lease not renewed'),
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  start(): void {
    this.election.start();
  }

  async stop(): Promise<void> {
    await this.election.stop();
    await this.follow();
  }

  /** One plan at a time: a tick that finds the last plan still writing is skipped. */
  private tick(): void {
    if (this.busy) return;
    this.busy = true;
    this.planning = this.plan()
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'warm-ahead planning failed'))
      .finally(() => {
        this.busy = false;
      });
  }

  private lead(): void {
    const { kc, client, logger, metrics, settings } = this.opts;
    logger.info({ identity: settings.lease.identity }, 'leading warm-ahead');
    metrics.warmLeader.set(1);
    this.forget();
    const watch = <T extends KubeObject>(resource: typeof PODS, set: (o: T) => void, remove: (o: T) => void, fieldSelector?: string) => {
      const informer = new Informer<T>(kc, client, {
        resource,
        ...(fieldSelector ? { fieldSelector } : {}),
        onRestart: (err) => {
          metrics.informerRestarts.inc({ resource: resource.plural });
          logger.warn({ err, resource: resource.plural }, 'warm-ahead watch ended with an error; restarting');
        },
      });
      informer.on('add', set).on('update', set).on('delete', remove);
      informer.start();
      return informer;
    };
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    this.informers = [
      watch<Pod>(
        PODS,
        (p) => this.pods.set(key(p), p),
        (p) => this.pods.delete(key(p)),
        'spec.nodeName=,status.phase=Pending',
      ),
      watch<Job>(
        JOBS,
        (j) => this.jobs.set(key(j), j),
        (j) => this.jobs.delete(key(j)),
      ),
      watch<NodeObject>(
        NODES,
        (n) =>
          this.nodes.set(n.metadata.name!, {
            name: n.metadata.name!,
            labels: n.metadata.labels ?? {},
            ...(n.spec?.unschedulable ? { unschedulable: true } : {}),
          }),
        (n) => this.nodes.delete(n.metadata.name!),
      ),
      watch<NodeCacheObject>(
        NODE_CACHES,
        (nc) => this.written.set(nc.metadata.name!, identityOf(nc.spec?.warm)),
        (nc) => this.written.delete(nc.metadata.name!),
      ),
    ];
    this.timer = setInterval(() => this.tick(), settings.intervalMs);
    this.timer.unref();
  }

  private async follow(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const informers = this.informers;
    this.informers = [];
    this.opts.metrics.warmLeader.set(0);
    await Promise.all(informers.map((i) => i.stop()));
    await this.planning;
    if (this.informers.length === 0) this.forget(); // unless leading again meanwhile
  }

  /** Drops what the last term watched and planned. */
  private forget(): void {
    for (const m of [this.pods, this.jobs, this.nodes, this.written]) m.clear();
    this.assigned = new Map();
    this.opts.metrics.warmPods.set(0);
    this.opts.metrics.warmPlannedBytes.set(0);
  }

  private async plan(): Promise<void> {
    const { index, metrics, logger, settings } = this.opts;
    if (!this.election.isLeader || this.informers.length === 0 || !this.opts.ready() || !this.informers.every((i) => i.hasSynced())) return;
    const now = this.opts.now();
    const plan = planWarm({
      queue: this.queue(now),
      nodes: [...this.nodes.values()],
      index,
      policy: this.opts.policy,
      ...(this.opts.scoring ? { scoring: this.opts.scoring } : {}),
      settings,
      now,
      previous: this.assigned,
    });
    this.assigned = plan.assigned;
    metrics.warmPods.set(plan.assigned.size);
    metrics.warmPlannedBytes.set(plan.bytes);
    for (const node of [...this.written.keys()]) {
      const items = (plan.byNode.get(node) ?? []).map(wireItem);
      const identity = identityOf(items);
      if (identity === this.written.get(node)) continue;
      try {
        await this.opts.client.mergePatch(NODE_CACHES, { name: node }, { spec: { warm: items.length > 0 ? items : null } });
        this.written.set(node, identity);
        metrics.warmWrites.inc({ outcome: 'ok' });
        logger.debug({ node, items: items.length }, 'warm-ahead items written');
      } catch (err) {
        metrics.warmWrites.inc({ outcome: 'error' });
        logger.warn({ err, node }, 'could not write warm-ahead items; retrying at the next plan');
      }
    }
  }

  /** Pods the schedulers could not place and suspended Jobs, with their Datasets and slices. */
  private queue(now: number): QueuedWork[] {
    const { index, scoring, settings } = this.opts;
    const names = new Set(settings.schedulerNames);
    const out: QueuedWork[] = [];
    const add = (target: WarmTarget, since: number, pod: PodLike, nodeSelector: Record<string, string> | null | undefined, completions?: number) => {
      const jobCompletions = completions !== undefined ? () => completions : this.opts.jobCompletions;
      const req = requestForPod(pod, [], index, now, scoring, { jobCompletions });
      const datasets = req.datasets.filter((ref) => index.dataset(`${ref.namespace}/${ref.name}`) !== undefined);
      if (datasets.length > 0) out.push({ target, since, datasets, ...(nodeSelector ? { nodeSelector } : {}) });
    };
    for (const pod of this.pods.values()) {
      const m = pod.metadata;
      if (m.deletionTimestamp || !names.has(pod.spec?.schedulerName ?? 'default-scheduler')) continue;
      const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      if (cond?.status !== 'False' || cond.reason !== 'Unschedulable') continue;
      const since = Date.parse(cond.lastTransitionTime ?? '');
      add({ kind: 'Pod', namespace: m.namespace!, name: m.name!, uid: m.uid ?? '' }, Number.isFinite(since) ? since : now, pod, pod.spec?.nodeSelector);
    }
    for (const job of this.jobs.values()) {
      const m = job.metadata;
      const spec = job.spec;
      const template = spec?.template;
      // The webhook routes pods that read Datasets to the data-aware scheduler: a template naming none qualifies.
      const scheduler = template?.spec?.schedulerName;
      if (spec?.suspend !== true || m.deletionTimestamp || (scheduler !== undefined && !names.has(scheduler))) continue;
      const since = Date.parse(m.creationTimestamp ?? '');
      const base = { kind: 'Job' as const, namespace: m.namespace!, name: m.name!, uid: m.uid ?? '' };
      const pod = (index?: number): PodLike => ({
        metadata: {
          namespace: m.namespace,
          name: m.name,
          labels: template?.metadata?.labels ?? {},
          annotations: { ...template?.metadata?.annotations, ...(index !== undefined ? { [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) } : {}) },
          ownerReferences: [{ kind: 'Job', name: m.name, controller: true }],
        },
        spec: { volumes: template?.spec?.volumes ?? [] },
      });
      const at = Number.isFinite(since) ? since : now;
      const completions = spec.completions ?? undefined;
      if (spec.completionMode === 'Indexed' && completions !== undefined && completions > 0) {
        for (let i = 0; i < Math.min(completions, MAX_JOB_INDICES); i++) add({ ...base, index: i }, at, pod(i), template?.spec?.nodeSelector, completions);
      } else {
        add(base, at, pod(), template?.spec?.nodeSelector); // its pods all read the same: one item
      }
    }
    return out;
  }
}

/** The wire form of an item (NodeCache spec.warm). */
function wireItem(item: WarmItem): NodeCacheWarmItem {
  const { target } = item;
  const who = { namespace: target.namespace, name: target.name, uid: target.uid };
  return {
    ...(target.kind === 'Pod' ? { pod: who } : { job: { ...who, ...(target.index !== undefined ? { index: target.index } : {}) } }),
    datasets: item.datasets,
    bytes: item.bytes,
  };
}

/**
 * What the items say, without their bytes: those shrink as the node fetches, and rewriting the object
 * for that alone would only make writes. An item's bytes are what the node missed when it was planned.
 */
function identityOf(warm: unknown): string {
  if (!Array.isArray(warm) || warm.length === 0) return '[]';
  return JSON.stringify(
    warm.map((raw) => {
      // Field by field: the API server gives objects back with their keys in its own order.
      const i = raw as Partial<NodeCacheWarmItem>;
      const who = i.pod ? warmTargetKey({ kind: 'Pod', ...i.pod }) : i.job ? warmTargetKey({ kind: 'Job', ...i.job }) : '?';
      return [who, i.pod?.uid ?? i.job?.uid, (i.datasets ?? []).map((d) => [d.namespace, d.name, d.slice ?? null])];
    }),
  );
}
