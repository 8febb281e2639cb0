// The discrete-event engine: jobs arrive, their stages' tasks are placed one slot each by a policy,
// read their blocks through the node's cache (read-through) or from the object store, compute, and
// finish. Simulated time is in seconds; nothing depends on the wall clock.
import { Decisions } from '../src/core/decisions.js';
import { readPod } from '../src/api/scheduler-extender.js';
import type { PolicyName } from '../src/core/policies/index.js';
import type { Cluster } from './cluster.js';
import { EventHeap } from './heap.js';
import { InventoryPublisher, SIM_NAMESPACE, type SnapshotSink } from './inventory.js';
import { NodeCacheModel, type BlockNumbering } from './node-cache.js';
import { Rng } from './rng.js';
import { WAIT, type PlaceContext, type PodObject, type SimPolicy } from './policies/types.js';
import { blockBytes, taskBlocks, type StageSpec, type Workload } from './workloads/types.js';

export interface EngineOptions {
  cluster: Cluster;
  workload: Workload;
  policy: SimPolicy;
  seed: number;
  /** Keep every block read, as a global block id, in order (for the clairvoyant bound). */
  recordReads?: boolean;
  /** Told of every inventory snapshot written. */
  sink?: SnapshotSink;
  /** Told of every placement. */
  onPlace?: (p: { job: string; stage: string; task: number; node: string; time: number }) => void;
  /** Told now and then how many tasks have finished. */
  onProgress?: (tasksDone: number) => void;
}

export interface RunResult {
  policy: string;
  arrival: Float64Array;
  finish: Float64Array;
  tasks: number;
  blockReads: number;
  blockHits: number;
  localBytes: number;
  remoteBytes: number;
  makespan: number;
  /** Local and remote bytes read per `bucketSeconds` of simulated time, by the start of the pass. */
  bucketSeconds: number;
  localSeries: number[];
  remoteSeries: number[];
  /** Most slots ever busy at once, per node. */
  peakBusy: Int32Array;
  inventoryWrites: number;
  reads?: Int32Array;
}

interface Pending {
  job: number;
  stage: number;
  next: number;
  waitSince: number;
  wakeAt: number;
}

interface JobState {
  deps: Int32Array;
  done: Int32Array;
  stagesLeft: number;
}

/** A placed task; it is also the event of its current pass ending. */
interface Running {
  kind: 'pass-end';
  job: number;
  stage: number;
  task: number;
  node: number;
  pass: number;
  remote: boolean;
  local: boolean;
}

type Event =
  | { kind: 'arrive'; job: number }
  | Running
  | { kind: 'tick' }
  | { kind: 'wake' };

const TICK: Event = { kind: 'tick' };
const WAKE: Event = { kind: 'wake' };

/** Global numbering of every dataset's blocks, so a cache can hold blocks of any dataset. */
export function blockNumbering(workload: Workload, blockSize: number): BlockNumbering & { total: number } {
  const bases = new Float64Array(workload.datasets.length + 1);
  for (let d = 0; d < workload.datasets.length; d++) bases[d + 1] = bases[d] + Math.max(1, Math.ceil(workload.datasets[d].bytes / blockSize));
  if (bases[bases.length - 1] > 2 ** 31 - 1) throw new Error(`the workload has ${bases[bases.length - 1]} blocks; use a larger blockMiB`);
  return {
    total: bases[bases.length - 1],
    base: (d) => bases[d],
    datasetOf(global) {
      let lo = 0;
      let hi = bases.length - 2;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (bases[mid] <= global) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    },
  };
}

export async function runSimulation(opts: EngineOptions): Promise<RunResult> {
  const { cluster, workload, policy } = opts;
  const nodes = cluster.names.length;
  const slots = cluster.spec.slotsPerNode;
  const blockSize = cluster.blockSize;
  const numbering = blockNumbering(workload, blockSize);
  const caches = cluster.names.map(() => new NodeCacheModel(policy.caches ? cluster.spec.cacheGiBPerNode * 2 ** 30 : 0, cluster.spec.eviction === 'lru', numbering));
  const publisher = new InventoryPublisher(cluster, workload, caches, opts.sink);
  const rng = new Rng(opts.seed);
  const heap = new EventHeap<Event>();
  const free = new Int32Array(nodes).fill(slots);
  const peakBusy = new Int32Array(nodes);
  const remoteOn = new Int32Array(nodes);
  const localOn = new Int32Array(nodes);
  let remoteAll = 0;
  let freeTotal = nodes * slots;
  let now = 0;

  const jobs = workload.jobs;
  if (jobs.length === 0) throw new Error(`${workload.source}: the trace has no jobs (check its time window)`);
  const arrival = Float64Array.from(jobs, (j) => j.arrival);
  const finish = new Float64Array(jobs.length).fill(NaN);
  const state: JobState[] = new Array(jobs.length);
  const pending: Pending[] = [];
  const span = jobs.length > 0 ? jobs[jobs.length - 1].arrival - jobs[0].arrival : 0;
  const bucketSeconds = Math.max(1, Math.ceil(span / 100));
  const localSeries: number[] = [];
  const remoteSeries: number[] = [];
  let reads = opts.recordReads ? new Int32Array(1 << 16) : undefined;
  let blockReads = 0;
  let blockHits = 0;
  let localBytes = 0;
  let remoteBytes = 0;
  let tasksDone = 0;
  let tickPending = false;

  // The core's scores of every node for a dataset's pods, as the extender's decisions compute them.
  // They change only when a written snapshot changes what some node holds of that dataset, or when an
  // inventory passes its TTL or comes back, so they are kept per dataset until one of these happens.
  const decisions = new Map<PolicyName, Decisions>();
  const memo = new Map<PolicyName, Array<{ generation: number; live: number; untilMs: number; scores: Uint8Array }>>();
  const nodeNames = [...cluster.names];
  const noScores = new Uint8Array(nodes);
  const position = new Map(nodeNames.map((n, i) => [n, i]));
  const podFor = (job: number, stage: StageSpec): PodObject => {
    const labels: Record<string, string> = {};
    if (stage.dataset >= 0) {
      labels['dataset.0.id'] = workload.datasets[stage.dataset].name;
      labels['dataset.0.useas'] = 'mount';
    }
    const name = `${jobs[job].id}-${stage.name}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    return { metadata: { name, namespace: SIM_NAMESPACE, uid: `${job}-${stage.name}`, labels }, spec: { schedulerName: 'locus-scheduler' } };
  };
  const coreScores = (core: PolicyName, job: number, stage: StageSpec): Uint8Array => {
    if (stage.dataset < 0) return noScores;
    const nowMs = Math.floor(now * 1000);
    const generation = publisher.datasetGeneration[stage.dataset];
    let byDataset = memo.get(core);
    if (!byDataset) memo.set(core, (byDataset = []));
    const hit = byDataset[stage.dataset];
    if (hit && hit.generation === generation && hit.live === publisher.liveGeneration && nowMs <= hit.untilMs) return hit.scores;
    let d = decisions.get(core);
    if (!d) decisions.set(core, (d = new Decisions({ index: publisher.index, policy: core, now: () => Math.floor(now * 1000), ready: () => true })));
    // The pod as the extender reads it off the wire, then its own filter and prioritize decisions.
    const pod = readPod(podFor(job, stage), 'Pod');
    const passed = d.filter({ pod, nodeNames }).answer.NodeNames ?? nodeNames;
    const scores = new Uint8Array(nodes);
    for (const hp of d.prioritize({ pod, nodeNames: passed }).answer) scores[position.get(hp.Host)!] = hp.Score;
    byDataset[stage.dataset] = { generation, live: publisher.liveGeneration, untilMs: publisher.liveUntilMs(nowMs), scores };
    return scores;
  };

  const ctx: PlaceContext & { job: number } = {
    now: 0, stage: jobs[0].stages[0], free, slotsPerNode: slots, names: nodeNames, extenderWeight: cluster.spec.extenderWeight,
    rng, waitingSince: 0, job: 0,
    scores: (core) => coreScores(core, ctx.job, ctx.stage),
    pod: () => podFor(ctx.job, ctx.stage),
  };

  const record = (global: number) => {
    if (!reads) return;
    if (blockReads >= reads.length) {
      const grown = new Int32Array(reads.length * 2);
      grown.set(reads);
      reads = grown;
    }
    reads[blockReads] = global;
  };

  const addBytes = (series: number[], bytes: number) => {
    const b = Math.floor(now / bucketSeconds);
    while (series.length <= b) series.push(0);
    series[b] += bytes;
  };

  const startPass = (t: Running) => {
    const stage = jobs[t.job].stages[t.stage];
    let local = 0;
    let remote = 0;
    if (stage.dataset >= 0) {
      const total = workload.datasets[stage.dataset].bytes;
      const cache = caches[t.node];
      const [from, to] = taskBlocks(stage, t.task, t.pass);
      for (let b = from; b < to; b++) {
        const bytes = blockBytes(total, blockSize, b);
        record(numbering.base(stage.dataset) + b);
        blockReads++;
        if (policy.caches && cache.read(stage.dataset, b, bytes)) {
          local += bytes;
          blockHits++;
        } else {
          remote += bytes;
        }
      }
      if (policy.readsInventory && !tickPending && cache.changed.size > 0) {
        tickPending = true;
        heap.push((Math.floor(now / cluster.writeSeconds) + 1) * cluster.writeSeconds, TICK);
      }
    }
    localBytes += local;
    remoteBytes += remote;
    addBytes(localSeries, local);
    addBytes(remoteSeries, remote);
    t.local = local > 0;
    t.remote = remote > 0;
    let readSeconds = 0;
    if (t.local) readSeconds += local / (cluster.localBytesPerSecond / ++localOn[t.node]);
    if (t.remote) {
      remoteAll++;
      readSeconds += remote / Math.min(cluster.streamBytesPerSecond, cluster.nicBytesPerSecond / ++remoteOn[t.node], cluster.storeBytesPerSecond / remoteAll);
    }
    const duration = stage.overlapIO ? Math.max(stage.computeSeconds, readSeconds) : stage.computeSeconds + readSeconds;
    heap.push(now + duration, t);
  };

  const ready = (job: number, stage: number) => {
    const entry: Pending = { job, stage, next: 0, waitSince: NaN, wakeAt: NaN };
    let lo = 0;
    let hi = pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = pending[mid];
      if (p.job < job || (p.job === job && p.stage < stage)) lo = mid + 1;
      else hi = mid;
    }
    pending.splice(lo, 0, entry);
  };

  /** Places pending tasks from `pending[i]` on while slots are free; a promise only if a policy answers with one. */
  const placeFrom = (i: number): Promise<void> | undefined => {
    while (i < pending.length && freeTotal > 0) {
      const p = pending[i];
      ctx.job = p.job;
      ctx.stage = jobs[p.job].stages[p.stage];
      ctx.waitingSince = Number.isNaN(p.waitSince) ? now : p.waitSince;
      const node = policy.place(ctx);
      if (typeof node !== 'number') return node.then((n) => placeFrom(settle(i, n)));
      i = settle(i, node);
    }
    return undefined;
  };

  /** Applies the policy's answer for `pending[i]`; returns the index of the next entry to place. */
  const settle = (i: number, node: number): number => {
    const p = pending[i];
    const stage = jobs[p.job].stages[p.stage];
    if (node === WAIT) {
      if (Number.isNaN(p.waitSince)) p.waitSince = now;
      const wakeAt = p.waitSince + (policy.maxWait ?? 0);
      if (p.wakeAt !== wakeAt) {
        p.wakeAt = wakeAt;
        heap.push(wakeAt, WAKE);
      }
      return i + 1;
    }
    if (!(node >= 0 && node < nodes && free[node] > 0)) throw new Error(`policy ${policy.name} chose node ${node}, which has no free slot`);
    free[node]--;
    freeTotal--;
    peakBusy[node] = Math.max(peakBusy[node], slots - free[node]);
    p.waitSince = NaN;
    const task: Running = { kind: 'pass-end', job: p.job, stage: p.stage, task: p.next++, node, pass: 0, remote: false, local: false };
    opts.onPlace?.({ job: jobs[p.job].id, stage: stage.name, task: task.task, node: cluster.names[node], time: now });
    startPass(task);
    if (p.next === stage.tasks) pending.splice(i, 1);
    return i;
  };

  const dispatch = (): Promise<void> | undefined => {
    if (freeTotal === 0 || pending.length === 0) return undefined;
    publisher.refresh(now);
    ctx.now = now;
    return placeFrom(0);
  };

  const endPass = (t: Running) => {
    if (t.local) localOn[t.node]--;
    if (t.remote) {
      remoteOn[t.node]--;
      remoteAll--;
    }
    const job = jobs[t.job];
    const stage = job.stages[t.stage];
    if (++t.pass < stage.passes) return startPass(t);
    free[t.node]++;
    freeTotal++;
    if (++tasksDone % 4096 === 0) opts.onProgress?.(tasksDone);
    const s = state[t.job];
    if (++s.done[t.stage] < stage.tasks) return;
    if (--s.stagesLeft === 0) {
      finish[t.job] = now;
      return;
    }
    job.stages.forEach((next, k) => {
      if (next.after.includes(t.stage) && --s.deps[k] === 0) ready(t.job, k);
    });
  };

  jobs.forEach((job, j) => heap.push(job.arrival, { kind: 'arrive', job: j }));
  while (heap.size > 0) {
    now = heap.peekTime();
    // Everything due at this instant happens before placement, as in one scheduling cycle.
    while (heap.size > 0 && heap.peekTime() === now) {
      const e = heap.pop();
      if (e.kind === 'arrive') {
        const job = jobs[e.job];
        state[e.job] = { deps: Int32Array.from(job.stages, (s) => s.after.length), done: new Int32Array(job.stages.length), stagesLeft: job.stages.length };
        job.stages.forEach((s, k) => { if (s.after.length === 0) ready(e.job, k); });
      } else if (e.kind === 'pass-end') {
        endPass(e);
      } else if (e.kind === 'tick') {
        tickPending = false;
        publisher.writeChanged(now);
      }
    }
    const placing = dispatch();
    if (placing) await placing;
  }
  if (tasksDone % 4096 !== 0) opts.onProgress?.(tasksDone);

  let last = 0;
  for (let j = 0; j < jobs.length; j++) last = Math.max(last, finish[j]);
  return {
    policy: policy.name, arrival, finish, tasks: tasksDone, blockReads, blockHits, localBytes, remoteBytes,
    makespan: last - jobs[0].arrival,
    bucketSeconds, localSeries, remoteSeries, peakBusy, inventoryWrites: publisher.writes,
    reads: reads?.subarray(0, blockReads),
  };
}
