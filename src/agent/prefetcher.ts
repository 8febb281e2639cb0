// Prefetch on bind: the blocks that pods bound to this node will read are fetched in the background,
// before and while their containers start, and kept against eviction while the pods run.
//
// Each pod's blocks, in slice order, are cut at the pod budget; the pods, in the order they were bound,
// at the node budget (a block two pods read counts once). Pods take turns, a block each, and at most
// `concurrency` prefetches run; the block store starts a prefetch only while no read is fetching, and a
// read that wants a block being prefetched joins that fetch. A pod that goes away drops its queued
// blocks (those being fetched finish). Every block the bound pods read, not only the budgeted ones, is
// the store's demand: those on disk are pinned, up to its pin share.
//
// Warm-ahead: the queued work the extender planned for this node (its NodeCache's spec.warm) comes after
// every bound pod, within the same budgets: its blocks are fetched only while no bound pod's wait, and
// pinned after theirs. An item whose pod is now bound here is planned as the bound pod (what was fetched
// for it stays); an item that disappears drops its queued blocks as a pod that goes away does.
import type { Logger } from 'pino';
import type { PodLike } from '../core/pod.js';
import type { AgentMetrics } from '../metrics/agent.js';
import type { BlockStore } from './block-store.js';
import type { Catalogs } from './catalogs.js';
import { blockIds } from './inventory.js';
import { datasetBlock, type BlockSpec, type Layout } from './layout.js';
import { podDemand, warmDemand, type PodDemand } from './pod-demand.js';

/** Queued work the extender planned for this node: a warm item of its NodeCache. */
export interface WarmWork {
  /** `Pod ns/name` or `Job ns/name[#index]`. */
  key: string;
  /** `ns/name` of the pod, when the work is a pod: once bound here it is planned as a bound pod. */
  pod?: string;
  datasets: ReadonlyArray<{ namespace: string; name: string; slice?: string }>;
}

type For = 'bound' | 'queued';

export interface PrefetchSettings {
  /** Bytes of each pod's slices fetched ahead, from their first block. */
  podBudgetBytes: number;
  /** Bytes fetched ahead for all bound pods together (a block counted once). */
  nodeBudgetBytes: number;
  /** Prefetches at once; 0 fetches nothing ahead (blocks are still pinned). */
  concurrency: number;
}

export interface PrefetcherOptions extends PrefetchSettings {
  store: BlockStore;
  catalogs: Catalogs;
  /** Fetches a block onto disk as a prefetch (true when kept). */
  fetch(spec: BlockSpec): Promise<boolean>;
  /** `spec.completions` of a Job, for the shard count of its Indexed pods (absent: not looked up). */
  jobCompletions?(namespace: string, name: string): Promise<number | undefined>;
  metrics: AgentMetrics;
  log: Logger;
}

interface Planned {
  id: string;
  layout: Layout;
  index: number;
  dataset: string;
  for: For;
}

export class Prefetcher {
  /** Bound pods by `ns/name`, in the order they were first seen, with what their demand depends on. */
  private readonly pods = new Map<string, { pod: PodLike; fingerprint: string }>();
  /** Queued work planned for this node, oldest first. */
  private warm: { items: readonly WarmWork[]; fingerprint: string } = { items: [], fingerprint: '[]' };
  /** Per pod (bound pods', then queued work's) with blocks left, those blocks in order. */
  private queues: Record<For, Planned[][]> = { bound: [], queued: [] };
  private turns: Record<For, number> = { bound: 0, queued: 0 };
  private running = 0;
  private readonly inflight = new Set<Promise<void>>();
  /** `spec.completions` of the Jobs owning bound Indexed pods, by `ns/name`; a pod waits while its Job is looked up. */
  private readonly completions = new Map<string, number | undefined>();
  private readonly lookingUp = new Set<string>();
  private scheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(private readonly opts: PrefetcherOptions) {}

  /** A pod bound to the node, running or about to (added or changed). */
  setPod(key: string, pod: PodLike): void {
    const fingerprint = JSON.stringify([pod.metadata?.labels, pod.metadata?.annotations, pod.spec?.volumes]);
    if (this.pods.get(key)?.fingerprint === fingerprint) return; // status updates change nothing read
    this.pods.set(key, { pod, fingerprint });
    this.replan();
  }

  /** A pod deleted or finished: its queued blocks are dropped and its blocks no longer pinned. */
  removePod(key: string): void {
    if (this.pods.delete(key)) this.replan();
  }

  /** The queued work planned for this node now (the whole list: items absent are dropped). */
  setWarm(items: readonly WarmWork[]): void {
    const fingerprint = JSON.stringify(items);
    if (fingerprint === this.warm.fingerprint) return;
    this.warm = { items, fingerprint };
    this.replan();
  }

  /** Plans again from the bound pods (once per turn of the event loop): after they, the Datasets or their listings changed. */
  replan(): void {
    if (this.closed || this.scheduled) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.plan();
    });
  }

  private plan(): void {
    if (this.closed) return;
    const { store, catalogs, podBudgetBytes, nodeBudgetBytes, metrics, log } = this.opts;
    const layouts = catalogs.layouts();
    /** The Job whose completions the core asked for and are not known, for the pod being planned; every Job asked for. */
    const pending: { job?: { namespace: string; name: string } } = {};
    const jobsAsked = new Set<string>();
    const lookup = {
      source: (key: string) => catalogs.source(key),
      layout: (key: string) => layouts.get(key),
      jobCompletions: (namespace: string, name: string) => {
        const job = `${namespace}/${name}`;
        jobsAsked.add(job);
        if (!this.completions.has(job)) pending.job = { namespace, name };
        return this.completions.get(job);
      },
    };
    /** Pods reading exactly what an earlier pod reads add nothing (replicas): planned once. */
    const seen = new Set<string>();
    const demand: string[] = [];
    const demanded = new Set<string>();
    const planned = new Set<string>();
    const queues: Record<For, Planned[][]> = { bound: [], queued: [] };
    let nodeBytes = 0;
    /** Adds a pod's (or queued work's) blocks: all to the demand, a prefix within the budgets to the queue. */
    const take = (d: PodDemand, tier: For): void => {
      const signature = d.datasets.map((x) => `${x.dataset}@${x.layout.version}:${x.ranges.join(',')}`).join(' ');
      if (seen.has(signature)) return;
      seen.add(signature);
      const queue: Planned[] = [];
      let podBytes = 0;
      let open = true;
      for (const { dataset, layout, ranges } of d.datasets) {
        const { ids, lengths } = blockIds(layout);
        for (let r = 0; r < ranges.length; r += 2) {
          for (let i = ranges[r]; i < ranges[r + 1]; i++) {
            const id = ids[i];
            if (!demanded.has(id)) {
              demanded.add(id);
              demand.push(id);
            }
            if (!open) continue;
            const counted = planned.has(id);
            if (podBytes + lengths[i] > podBudgetBytes || (!counted && nodeBytes + lengths[i] > nodeBudgetBytes)) {
              open = false; // budgets take a prefix of the pod's blocks
              continue;
            }
            podBytes += lengths[i];
            if (counted) continue;
            planned.add(id);
            nodeBytes += lengths[i];
            queue.push({ id, layout, index: i, dataset, for: tier });
          }
        }
      }
      if (queue.length > 0) queues[tier].push(queue);
    };
    const listMissing = (d: PodDemand, key: string) => {
      // A listing that arrives changes the catalogs, which plans again.
      for (const source of d.unlisted) catalogs.layout(source).catch((err: unknown) => log.warn({ err, pod: key }, 'could not list Dataset'));
    };
    let pods = 0;
    for (const [key, { pod }] of this.pods) {
      pending.job = undefined;
      const d = podDemand(pod, this.opts.jobCompletions ? lookup : { source: lookup.source, layout: lookup.layout });
      if (pending.job) {
        this.lookUp(pending.job); // the pod's shard count is on the way: plan it then, not whole now
        continue;
      }
      listMissing(d, key);
      if (d.datasets.length > 0) pods++;
      take(d, 'bound');
    }
    let warmPods = 0;
    for (const item of this.warm.items) {
      if (item.pod !== undefined && this.pods.has(item.pod)) continue; // bound here now: planned above
      const d = warmDemand(item.datasets, lookup);
      listMissing(d, item.key);
      if (d.datasets.length > 0) warmPods++;
      take(d, 'queued');
    }
    for (const job of this.completions.keys()) if (!jobsAsked.has(job)) this.completions.delete(job);
    let cancelled = 0;
    for (const q of [...this.queues.bound, ...this.queues.queued]) for (const p of q) if (!planned.has(p.id) && !store.has(p.id)) cancelled++;
    metrics.prefetchCancelled.inc(cancelled);
    metrics.prefetchPods.set(pods);
    metrics.warmPods.set(warmPods);
    this.queues = queues;
    this.turns = { bound: 0, queued: 0 };
    store.setDemand(demand);
    this.pump();
  }

  /** Reads a Job's `spec.completions` (once at a time), then plans again; a failure counts as unknown. */
  private lookUp(job: { namespace: string; name: string }): void {
    const key = `${job.namespace}/${job.name}`;
    if (this.lookingUp.has(key) || !this.opts.jobCompletions) return;
    this.lookingUp.add(key);
    void this.opts
      .jobCompletions(job.namespace, job.name)
      .catch((err: unknown) => {
        this.opts.log.warn({ err, job: key }, 'could not read Job; its pods count as reading their Datasets whole');
        return undefined;
      })
      .then((n) => {
        this.lookingUp.delete(key);
        this.completions.set(key, n);
        this.replan();
      });
  }

  /** Stops prefetching; waits for the fetches running. */
  async close(): Promise<void> {
    this.closed = true;
    clearImmediate(this.scheduled);
    this.queues = { bound: [], queued: [] };
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private pump(): void {
    const { store, metrics } = this.opts;
    while (!this.closed && this.running < this.opts.concurrency) {
      const next = this.next();
      if (!next) break;
      this.start(next);
    }
    let queued = 0;
    for (const q of [...this.queues.bound, ...this.queues.queued]) for (const p of q) if (!store.has(p.id)) queued++;
    metrics.prefetchQueued.set(queued);
  }

  /**
   * The next block to fetch: bound pods' before queued work's, pods of a tier taking turns; blocks on
   * disk or being fetched already are passed over.
   */
  private next(): Planned | undefined {
    const { store } = this.opts;
    for (const tier of ['bound', 'queued'] as const) {
      const queues = this.queues[tier];
      while (queues.length > 0) {
        const turn = this.turns[tier] % queues.length;
        const q = queues[turn];
        const p = q.shift()!;
        if (q.length === 0) queues.splice(turn, 1);
        this.turns[tier] = q.length === 0 ? turn : turn + 1;
        if (!store.has(p.id) && !store.isFetching(p.id)) return p;
      }
    }
    return undefined;
  }

  private start(p: Planned): void {
    const { metrics, log } = this.opts;
    const spec = datasetBlock(p.layout, p.index, p.dataset);
    this.running++;
    const run: Promise<void> = this.opts
      .fetch(spec)
      .then(
        (kept) => {
          if (!kept) return metrics.prefetchFailed.inc();
          metrics.prefetchedBlocks.inc({ for: p.for });
          metrics.prefetchedBytes.inc({ for: p.for }, spec.length);
        },
        (err: unknown) => {
          metrics.prefetchFailed.inc();
          log.warn({ err, dataset: p.dataset, block: p.index }, 'prefetch failed; the block is fetched when read');
        },
      )
      .finally(() => {
        this.running--;
        this.inflight.delete(run);
        this.pump();
      });
    this.inflight.add(run);
  }
}
