// Placement: the stages whose tasks wait for a slot, in (job, stage) order, and the policy's choice of a
// node for each. The core's scores for a task come from the extender's own filter/prioritize decisions
// over the index the modelled agents write; the index keeps its own caches, so nothing is memoised here.
import { Decisions } from '../src/core/decisions.js';
import { readPod } from '../src/api/scheduler-extender.js';
import type { PolicyName } from '../src/core/policies/index.js';
import type { Cluster } from './cluster.js';
import { SIM_NAMESPACE, type InventoryPublisher } from './inventory.js';
import { liveSliceBytes } from './oracle.js';
import type { NodeCacheModel } from './node-cache.js';
import type { Rng } from './rng.js';
import { WAIT, type PlaceContext, type PodObject, type SimPolicy } from './policies/types.js';
import { taskSlice } from './task-slice.js';
import { blockCount, type StageSpec, type Workload } from './workloads/types.js';

/** A stage with tasks left to place. */
interface Pending {
  job: number;
  stage: number;
  next: number;
  waitSince: number;
  wakeAt: number;
  /** Warm-ahead: tasks below this were considered for warming while they waited. */
  warmed: number;
}

/** Warm-ahead (sim/warm.ts): a waiting task's slice is warmed on the node the extender ranks best. */
export interface QueueWarmer {
  /** Whether the cluster-wide warm-ahead budget has room left. */
  canQueue(): boolean;
  queue(job: number, stage: number, task: number, node: number): void;
  /** The task was placed (wherever): its queued warming ends. */
  placed(job: number, stage: number, task: number): void;
}

/** What placing a task hands to the engine: the task's identity and its node. */
export interface Placed {
  job: number;
  stage: number;
  task: number;
  node: number;
}

export class Placement {
  readonly free: Int32Array;
  readonly peakBusy: Int32Array;
  freeTotal: number;
  private readonly pending: Pending[] = [];
  private readonly decisions = new Map<PolicyName, Decisions>();
  private readonly position: Map<string, number>;
  private readonly nodeNames: string[];
  private readonly ctx: PlaceContext & { job: number };
  /** Blocks of each Dataset in the catalog the index knows. */
  private readonly blockCounts: number[];
  private now = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly workload: Workload,
    private readonly policy: SimPolicy,
    private readonly publisher: InventoryPublisher,
    /** Every node's modelled cache as it is now (not as published): for references with perfect knowledge. */
    readonly caches: readonly NodeCacheModel[],
    rng: Rng,
    /** Asks for a scheduling cycle at a later time (a waiting stage's deadline). */
    private readonly wakeAt: (time: number) => void,
    /** Starts a placed task (called once per placement, in placement order). */
    private readonly start: (p: Placed) => void,
    private readonly warmer?: QueueWarmer,
  ) {
    const nodes = cluster.names.length;
    const slots = cluster.spec.slotsPerNode;
    this.free = new Int32Array(nodes).fill(slots);
    this.peakBusy = new Int32Array(nodes);
    this.freeTotal = nodes * slots;
    this.nodeNames = [...cluster.names];
    this.position = new Map(this.nodeNames.map((n, i) => [n, i]));
    this.ctx = {
      now: 0,
      stage: workload.jobs[0].stages[0],
      free: this.free,
      slotsPerNode: slots,
      names: this.nodeNames,
      extenderWeight: cluster.spec.extenderWeight,
      rng,
      waitingSince: 0,
      job: 0,
      task: 0,
      scores: (core) => this.scores(core, this.ctx.job, this.ctx.stage, this.ctx.task),
      pod: () => this.podFor(this.ctx.job, this.ctx.stage, this.ctx.task),
      liveBytes: (node) => liveSliceBytes(this.caches[node], this.ctx.stage, this.ctx.task, workload.datasets, cluster.blockSize),
    };
    this.blockCounts = workload.datasets.map((d) => blockCount(d.bytes, cluster.blockSize));
  }

  /** The pod task `task` of `stage` runs as: its Dataset as Datashim's labels name it, and its slice of it. */
  podFor(job: number, stage: StageSpec, task: number): PodObject {
    let labels: Record<string, string> = {};
    let annotations: Record<string, string> = {};
    if (stage.dataset >= 0) {
      ({ labels, annotations } = taskSlice(stage, this.blockCounts[stage.dataset], task));
      labels['dataset.0.id'] = this.workload.datasets[stage.dataset].name;
      labels['dataset.0.useas'] = 'mount';
    }
    const name = `${this.workload.jobs[job].id}-${stage.name}-${task}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    return {
      metadata: { name, namespace: SIM_NAMESPACE, uid: `${job}-${stage.name}-${task}`, labels, annotations },
      spec: { schedulerName: 'locus-scheduler' },
    };
  }

  /** The core's score (0..10) of every node for the pod, through the extender's filter and prioritize. */
  private scores(core: PolicyName, job: number, stage: StageSpec, task: number): Uint8Array {
    const scores = new Uint8Array(this.nodeNames.length);
    if (stage.dataset < 0) return scores;
    let d = this.decisions.get(core);
    if (!d)
      this.decisions.set(core, (d = new Decisions({ index: this.publisher.index, policy: core, now: () => Math.floor(this.now * 1000), ready: () => true })));
    // The pod as the extender reads it off the wire, then its own filter and prioritize decisions.
    const pod = readPod(this.podFor(job, stage, task), 'Pod');
    const passed = d.filter({ pod, nodeNames: this.nodeNames }).answer.NodeNames ?? this.nodeNames;
    // Answers come in the order asked: while every node passed, the i-th is node i (no name look-up).
    const answer = d.prioritize({ pod, nodeNames: passed }).answer;
    for (let i = 0; i < answer.names.length; i++) {
      const host = answer.names[i];
      scores[host === this.nodeNames[i] ? i : this.position.get(host)!] = answer.scores[i];
    }
    return scores;
  }

  /** A stage's tasks become placeable (its dependencies are done). */
  ready(job: number, stage: number): void {
    const entry: Pending = { job, stage, next: 0, waitSince: NaN, wakeAt: NaN, warmed: 0 };
    let lo = 0;
    let hi = this.pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.pending[mid];
      if (p.job < job || (p.job === job && p.stage < stage)) lo = mid + 1;
      else hi = mid;
    }
    this.pending.splice(lo, 0, entry);
  }

  /** A task left node `node`. */
  release(node: number): void {
    this.free[node]++;
    this.freeTotal++;
  }

  /** One scheduling cycle at `now`: places waiting tasks while slots are free; a promise only if a policy answers with one. */
  dispatch(now: number): Promise<void> | undefined {
    if (this.pending.length === 0 || (this.freeTotal === 0 && !this.warmer)) return undefined;
    this.now = now;
    this.ctx.now = now;
    this.publisher.refresh(now);
    const placing = this.placeFrom(0);
    if (this.warmer && !placing) this.warmWaiting(this.warmer);
    return placing;
  }

  /**
   * Warm-ahead: each task still waiting after the cycle, in queue order and once, is warmed on the node
   * the extender's `locality` scores rank best (ties: most free slots, then first), while the budget has
   * room; a task no node scores above 0 for has no best node and is not warmed.
   */
  private warmWaiting(warmer: QueueWarmer): void {
    for (const p of this.pending) {
      const stage = this.workload.jobs[p.job].stages[p.stage];
      if (stage.dataset < 0) continue;
      for (let task = Math.max(p.next, p.warmed); task < stage.tasks; task++) {
        if (!warmer.canQueue()) return;
        p.warmed = task + 1;
        const scores = this.scores('locality', p.job, stage, task);
        let best = -1;
        for (let n = 0; n < scores.length; n++) {
          if (scores[n] > 0 && (best < 0 || scores[n] > scores[best] || (scores[n] === scores[best] && this.free[n] > this.free[best]))) best = n;
        }
        if (best >= 0) warmer.queue(p.job, p.stage, task, best);
      }
    }
  }

  private placeFrom(i: number): Promise<void> | undefined {
    while (i < this.pending.length && this.freeTotal > 0) {
      const p = this.pending[i];
      this.ctx.job = p.job;
      this.ctx.stage = this.workload.jobs[p.job].stages[p.stage];
      this.ctx.task = p.next;
      this.ctx.waitingSince = Number.isNaN(p.waitSince) ? this.now : p.waitSince;
      const node = this.policy.place(this.ctx);
      if (typeof node !== 'number') return node.then((n) => this.placeFrom(this.settle(i, n)));
      i = this.settle(i, node);
    }
    return undefined;
  }

  /** Applies the policy's answer for `pending[i]`; returns the index of the next entry to place. */
  private settle(i: number, node: number): number {
    const p = this.pending[i];
    const stage = this.workload.jobs[p.job].stages[p.stage];
    if (node === WAIT) {
      if (Number.isNaN(p.waitSince)) p.waitSince = this.now;
      const wakeAt = p.waitSince + (this.policy.maxWait ?? 0);
      if (p.wakeAt !== wakeAt) {
        p.wakeAt = wakeAt;
        this.wakeAt(wakeAt);
      }
      return i + 1;
    }
    const slots = this.cluster.spec.slotsPerNode;
    if (!(node >= 0 && node < this.free.length && this.free[node] > 0))
      throw new Error(`policy ${this.policy.name} chose node ${node}, which has no free slot`);
    this.free[node]--;
    this.freeTotal--;
    this.peakBusy[node] = Math.max(this.peakBusy[node], slots - this.free[node]);
    p.waitSince = NaN;
    const task = p.next++;
    if (p.next === stage.tasks) this.pending.splice(i, 1);
    this.warmer?.placed(p.job, p.stage, task);
    this.start({ job: p.job, stage: p.stage, task, node });
    return i;
  }
}
