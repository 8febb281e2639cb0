// The discrete-event engine: jobs arrive, their stages' tasks are placed one slot each by a policy,
// read their blocks through the node's cache (read-through) or from the object store as flows that
// share bandwidth max-min fairly (flows.ts), compute, and finish. A training worker reads ahead of its
// computing through a bounded prefetch buffer, so it waits for data when storage is slow. Simulated
// time is in seconds; nothing depends on the wall clock. With the warm cache's options (sim/warm.ts) a
// placed task's container starts after the pod's start-up delay, while its node fetches ahead.
//
// The loop pops every event due at one instant, hands each to its named handler, then runs one
// scheduling cycle (placement), as kube-scheduler would after those changes.
import { requestBoundRate, type Cluster } from './cluster.js';
import { EventHeap } from './heap.js';
import { InventoryPublisher, type SnapshotSink } from './inventory.js';
import { NodeCacheModel, type BlockNumbering } from './node-cache.js';
import { Placement, type Placed } from './placement.js';
import { FlowNetwork } from './flows.js';
import { Rng } from './rng.js';
import type { SimPolicy } from './policies/types.js';
import { WarmCache, type PrefetchFlow, type WarmPod, type WarmRun, type WarmTotals } from './warm.js';
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
  /** Model the warm cache with these options (none on: the base a warm comparison measures against). */
  warm?: WarmRun;
}

/** A warm run's figures: bytes by source, fetched ahead and wasted, and the mean time to a task's first block. */
export interface WarmResult extends WarmTotals {
  /** Mean seconds from a task's container start to its first block read (tasks reading a dataset). */
  firstBlockSeconds: number;
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
  /** Per job: when its first task had read its first pass (a serving replica: its weights loaded). */
  ready: Float64Array;
  /** Seconds tasks spent computing, and holding a slot (their ratio: GPU utilisation for training). */
  computeSeconds: number;
  slotSeconds: number;
  /** Local and remote bytes read per `bucketSeconds` of simulated time, by the start of each block's read. */
  bucketSeconds: number;
  localSeries: number[];
  remoteSeries: number[];
  /** Most slots ever busy at once, per node. */
  peakBusy: Int32Array;
  inventoryWrites: number;
  reads?: Int32Array;
  warm?: WarmResult;
}

/** A placed task and where its current pass stands: blocks read ahead through a bounded buffer, then computed. */
interface Running extends Placed {
  pass: number;
  /** Blocks [from, to) of this pass; `next` is the next to read. */
  from: number;
  to: number;
  next: number;
  /** Read and not yet computed; a read in flight; computing now. */
  buffered: number;
  reading: boolean;
  computing: boolean;
  /** Blocks computed this pass; compute seconds of the pass; when the task took its slot. */
  computed: number;
  passCompute: number;
  placedAt: number;
  /** Warm runs: when its container starts; whether its first block arrived; the block its read fetches remotely (-1: none); its pod as the agent sees it. */
  startedAt?: number;
  firstRead?: boolean;
  fetching?: number;
  warmPod?: WarmPod;
}

type Flow = Running | PrefetchFlow<Running>;

type Event =
  | { kind: 'arrive'; job: number }
  | { kind: 'computed'; task: Running }
  | { kind: 'flows'; version: number }
  | { kind: 'tick' }
  | { kind: 'wake' }
  | { kind: 'start'; task: Running };

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

/** One run's state and its event handlers. */
class Simulation {
  readonly heap = new EventHeap<Event>();
  readonly placement: Placement;
  readonly numbering: BlockNumbering & { total: number };
  readonly caches: NodeCacheModel[];
  readonly publisher: InventoryPublisher;
  readonly flows: FlowNetwork<Flow>;
  readonly warm?: WarmCache<Running>;
  /** Warm-ahead: the pods queued for a node, by task. */
  private readonly queuedPods = new Map<string, WarmPod>();
  private firstBlockSum = 0;
  private firstBlockTasks = 0;
  readonly arrival: Float64Array;
  readonly finish: Float64Array;
  readonly ready: Float64Array;
  readonly bucketSeconds: number;
  readonly localSeries: number[] = [];
  readonly remoteSeries: number[] = [];
  now = 0;
  reads?: Int32Array;
  blockReads = 0;
  blockHits = 0;
  localBytes = 0;
  remoteBytes = 0;
  tasksDone = 0;
  computeSeconds = 0;
  slotSeconds = 0;
  /** The flow-end event in the heap is current only while its version is this one. */
  private flowVersion = 0;
  private flowsChanged = false;
  private tickPending = false;
  /** Per job: per stage, dependencies left and tasks done; and stages left. */
  private readonly deps: Int32Array[];
  private readonly done: Int32Array[];
  private readonly stagesLeft: Int32Array;

  constructor(private readonly opts: EngineOptions) {
    const { cluster, workload, policy } = opts;
    const jobs = workload.jobs;
    if (jobs.length === 0) throw new Error(`${workload.source}: the trace has no jobs (check its time window)`);
    this.numbering = blockNumbering(workload, cluster.blockSize);
    this.caches = cluster.names.map(
      () => new NodeCacheModel(policy.caches ? cluster.spec.cacheGiBPerNode * 2 ** 30 : 0, cluster.spec.eviction === 'lru', this.numbering),
    );
    this.publisher = new InventoryPublisher(cluster, workload, this.caches, opts.sink);
    if (opts.warm) {
      const sizes = workload.datasets.map((d) => d.bytes);
      this.warm = new WarmCache<Running>(
        opts.warm,
        cluster,
        this.caches,
        opts.seed,
        () => this.now,
        (links, ceiling, bytes, flow) => {
          this.flowsChanged = true;
          this.flows.start(this.now, links, ceiling, bytes, flow);
        },
        (d, b) => blockBytes(sizes[d], cluster.blockSize, b),
      );
    }
    const warmAhead = this.warm?.run.options['warm-ahead'];
    this.placement = new Placement(
      cluster,
      workload,
      policy,
      this.publisher,
      this.caches,
      new Rng(opts.seed),
      (t) => this.heap.push(t, WAKE),
      (p) => this.place(p),
      warmAhead
        ? {
            canQueue: () => this.warm!.hasWarmAheadRoom(),
            queue: (j, s, task, node) => this.queue(j, s, task, node),
            placed: (j, s, task) => this.unqueue(j, s, task),
          }
        : undefined,
    );
    this.flows = new FlowNetwork<Flow>(this.warm ? [...cluster.linkCapacity, ...this.warm.extraLinks()] : cluster.linkCapacity);
    this.arrival = Float64Array.from(jobs, (j) => j.arrival);
    this.finish = new Float64Array(jobs.length).fill(NaN);
    this.ready = new Float64Array(jobs.length).fill(NaN);
    this.deps = new Array(jobs.length);
    this.done = new Array(jobs.length);
    this.stagesLeft = new Int32Array(jobs.length);
    const span = jobs[jobs.length - 1].arrival - jobs[0].arrival;
    this.bucketSeconds = Math.max(1, Math.ceil(span / 100));
    if (opts.recordReads) this.reads = new Int32Array(1 << 16);
    jobs.forEach((job, j) => this.heap.push(job.arrival, { kind: 'arrive', job: j }));
  }

  /** A job is submitted: its stages without dependencies become placeable. */
  arrive(j: number): void {
    const job = this.opts.workload.jobs[j];
    this.deps[j] = Int32Array.from(job.stages, (s) => s.after.length);
    this.done[j] = new Int32Array(job.stages.length);
    this.stagesLeft[j] = job.stages.length;
    job.stages.forEach((s, k) => {
      if (s.after.length === 0) this.placement.ready(j, k);
    });
  }

  /** The placement of a task: it starts its first pass on its node. */
  place(p: Placed): void {
    const jobs = this.opts.workload.jobs;
    this.opts.onPlace?.({ job: jobs[p.job].id, stage: jobs[p.job].stages[p.stage].name, task: p.task, node: this.opts.cluster.names[p.node], time: this.now });
    const t: Running = {
      job: p.job,
      stage: p.stage,
      task: p.task,
      node: p.node,
      pass: 0,
      from: 0,
      to: 0,
      next: 0,
      buffered: 0,
      reading: false,
      computing: false,
      computed: 0,
      passCompute: 0,
      placedAt: this.now,
    };
    if (!this.warm) return this.startPass(t);
    // The pod is bound: its container starts after the start-up delay, while the agent fetches its slice ahead.
    t.startedAt = this.now + this.warm.startSeconds;
    t.firstRead = false;
    t.fetching = -1;
    const stage = jobs[p.job].stages[p.stage];
    if (stage.dataset >= 0) {
      const [from, to] = taskBlocks(stage, p.task, 0);
      const base = this.numbering.base(stage.dataset);
      t.warmPod = this.warm.add({ node: p.node, dataset: stage.dataset, base, from, to, queued: false, readAt: () => (t.pass === 0 ? t.next : to) });
    }
    this.heap.push(t.startedAt, { kind: 'start', task: t });
  }

  /** A task's container started (warm runs): its first pass begins. */
  started(t: Running): void {
    this.startPass(t);
  }

  /** Flows are due to end: each ended read delivers its block to its task; each ended prefetch, its block to the cache. */
  flowsDue(version: number): void {
    if (version === this.flowVersion) this.flows.finish(this.now, (f) => ('prefetch' in f ? this.prefetchDone(f) : this.blockRead(f)));
  }

  /** Warm-ahead: task `task` of a stage waits; its slice is warmed on `node`, the node the scorer ranks best. */
  private queue(job: number, stageIndex: number, task: number, node: number): void {
    const stage = this.opts.workload.jobs[job].stages[stageIndex];
    const [from, to] = taskBlocks(stage, task, 0);
    const pod = this.warm!.add({ node, dataset: stage.dataset, base: this.numbering.base(stage.dataset), from, to, queued: true, readAt: () => from });
    this.queuedPods.set(`${job}/${stageIndex}/${task}`, pod);
  }

  /** A queued task was placed: its warm-ahead entry goes (its pod is bound now, wherever it runs). */
  private unqueue(job: number, stage: number, task: number): void {
    const key = `${job}/${stage}/${task}`;
    const pod = this.queuedPods.get(key);
    if (!pod) return;
    this.queuedPods.delete(key);
    this.warm!.remove(pod);
  }

  private prefetchDone(f: PrefetchFlow<Running>): void {
    this.flowsChanged = true;
    const waiters = this.warm!.prefetched(f);
    this.scheduleTick(this.caches[f.node]);
    for (const t of waiters) this.blockRead(t);
    // after the joined readers' next reads have started, as after a read's own fetch
    this.warm!.fetchEnded(f);
  }

  /** A task finished computing what it had (one block, or the whole pass when reads precede computing). */
  computed(t: Running): void {
    t.computing = false;
    const stage = this.opts.workload.jobs[t.job].stages[t.stage];
    if (stage.overlapIO && t.to > t.from && ++t.computed < t.to - t.from) return this.pump(t, stage);
    this.passEnd(t, stage);
  }

  /** The agents' write interval came round: every node whose cache changed writes its inventory. */
  tick(): void {
    this.tickPending = false;
    this.publisher.writeChanged(this.now);
  }

  /** After the instant's events and placements: the next flow end, if flows started or ended. */
  settleFlows(): void {
    if (!this.flowsChanged) return;
    this.flowsChanged = false;
    const next = this.flows.nextEnd();
    if (Number.isFinite(next)) this.heap.push(next, { kind: 'flows', version: ++this.flowVersion });
  }

  private startPass(t: Running): void {
    const stage = this.opts.workload.jobs[t.job].stages[t.stage];
    if (stage.dataset >= 0) [t.from, t.to] = taskBlocks(stage, t.task, t.pass);
    else t.from = t.to = 0;
    t.next = t.from;
    t.buffered = 0;
    t.computed = 0;
    t.passCompute = stage.computeSeconds;
    this.pump(t, stage);
  }

  /**
   * Moves a task's pass on: reads its next block while its buffer has room (training: up to the
   * prefetch depth ahead of computing; otherwise every block before computing), and computes what it has.
   */
  private pump(t: Running, stage: StageSpec): void {
    if (!t.computing) this.compute(t, stage);
    const depth = stage.overlapIO ? this.opts.cluster.prefetchBlocks : Infinity;
    if (!t.reading && t.next < t.to && t.buffered < depth) this.startRead(t, stage);
  }

  /** Starts computing the next buffered block (training), or the whole pass once every block is read. */
  private compute(t: Running, stage: StageSpec): void {
    let seconds: number;
    if (stage.overlapIO && t.to > t.from) {
      if (t.buffered === 0) return;
      t.buffered--;
      // A block's share of the pass's compute is its share of the pass's bytes.
      const total = this.opts.workload.datasets[stage.dataset].bytes;
      const bs = this.opts.cluster.blockSize;
      const passBytes = Math.min(t.to * bs, total) - t.from * bs;
      seconds = (t.passCompute * blockBytes(total, bs, t.from + t.computed)) / passBytes;
    } else {
      if (t.reading || t.next < t.to) return;
      seconds = t.passCompute;
    }
    t.computing = true;
    this.heap.push(this.now + seconds, { kind: 'computed', task: t });
  }

  /** Reads block `t.next` through the node's cache: a local flow on a hit, a remote one on a miss. */
  private startRead(t: Running, stage: StageSpec): void {
    const { cluster, workload, policy } = this.opts;
    const b = t.next++;
    const bytes = blockBytes(workload.datasets[stage.dataset].bytes, cluster.blockSize, b);
    // A loader fetching one object per sample is bound by request latency, not only by bandwidth.
    const sampleBytes = workload.datasets[stage.dataset].sampleBytes;
    const streams = stage.loaderStreams ?? cluster.spec.loaderStreams;
    const cache = this.caches[t.node];
    this.record(this.numbering.base(stage.dataset) + b);
    t.reading = true;
    this.flowsChanged = true;
    if (this.warm) return this.warmRead(t, stage.dataset, b, bytes, sampleBytes, streams);
    if (policy.caches && cache.read(stage.dataset, b, bytes)) {
      this.blockHits++;
      this.localBytes += bytes;
      this.addBytes(this.localSeries, bytes);
      const device = cluster.linkCapacity[cluster.localPath[t.node][0]];
      this.flows.start(this.now, cluster.localPath[t.node], requestBoundRate(sampleBytes, cluster.localFirstByteSeconds, device, streams, Infinity), bytes, t);
    } else {
      this.remoteBytes += bytes;
      this.addBytes(this.remoteSeries, bytes);
      const stream = cluster.streamBytesPerSecond;
      this.flows.start(this.now, cluster.remotePath[t.node], requestBoundRate(sampleBytes, cluster.remoteFirstByteSeconds, stream, streams, stream), bytes, t);
    }
    this.scheduleTick(cache);
  }

  /**
   * A read with the warm cache: a hit; or joining the node's fetch ahead of that block (a miss that waits
   * for it); or a miss filled from a zone peer holding the block (peer option), else from the object store.
   */
  private warmRead(t: Running, dataset: number, b: number, bytes: number, sampleBytes: number | undefined, streams: number): void {
    const { cluster } = this.opts;
    const warm = this.warm!;
    const cache = this.caches[t.node];
    const global = this.numbering.base(dataset) + b;
    if (cache.lookup(global)) {
      this.blockHits++;
      this.localBytes += bytes;
      this.addBytes(this.localSeries, bytes);
      const device = cluster.linkCapacity[cluster.localPath[t.node][0]];
      this.flows.start(this.now, cluster.localPath[t.node], requestBoundRate(sampleBytes, cluster.localFirstByteSeconds, device, streams, Infinity), bytes, t);
      return;
    }
    this.remoteBytes += bytes;
    this.addBytes(this.remoteSeries, bytes);
    const ahead = warm.inflight(t.node, global);
    if (ahead) return warm.join(ahead, t);
    const holder = warm.peerHolder(t.node, global);
    cache.insert(dataset, b, bytes);
    t.fetching = global;
    warm.readStarted(t.node, global);
    if (holder >= 0) {
      // The pod's requests go to its own agent, which reads the whole block from the peer.
      warm.totals.peerBytes += bytes;
      const nic = cluster.linkCapacity[cluster.remotePath[t.node][0]];
      this.flows.start(this.now, warm.peerPath(holder, t.node), requestBoundRate(sampleBytes, cluster.localFirstByteSeconds, nic, streams, Infinity), bytes, t);
    } else {
      warm.totals.egressBytes += bytes;
      const stream = cluster.streamBytesPerSecond;
      this.flows.start(this.now, cluster.remotePath[t.node], requestBoundRate(sampleBytes, cluster.remoteFirstByteSeconds, stream, streams, stream), bytes, t);
    }
    this.scheduleTick(cache);
  }

  /** The agents write at the next interval after their cache changed (for policies that read the inventory). */
  private scheduleTick(cache: NodeCacheModel): void {
    const { cluster, policy } = this.opts;
    if (policy.readsInventory && !this.tickPending && cache.changed.size > 0) {
      this.tickPending = true;
      this.heap.push((Math.floor(this.now / cluster.writeSeconds) + 1) * cluster.writeSeconds, TICK);
    }
  }

  private blockRead(t: Running): void {
    this.flowsChanged = true;
    t.reading = false;
    t.buffered++;
    if (t.pass === 0 && t.next === t.to && Number.isNaN(this.ready[t.job])) this.ready[t.job] = this.now;
    if (t.firstRead === false) {
      t.firstRead = true;
      this.firstBlockSum += this.now - t.startedAt!;
      this.firstBlockTasks++;
    }
    const fetched = t.fetching;
    t.fetching = -1;
    this.pump(t, this.opts.workload.jobs[t.job].stages[t.stage]);
    // after the task's next read has started, so a prefetch does not slip in between a reader's misses
    if (fetched !== undefined && fetched >= 0) this.warm!.readEnded(t.node, fetched);
  }

  /** A pass ended: the next starts, or the task frees its slot and may finish its stage and job. */
  private passEnd(t: Running, stage: StageSpec): void {
    this.computeSeconds += t.passCompute;
    if (++t.pass < stage.passes) return this.startPass(t);
    const job = this.opts.workload.jobs[t.job];
    this.slotSeconds += this.now - t.placedAt;
    if (t.warmPod) this.warm!.remove(t.warmPod);
    this.placement.release(t.node);
    if (++this.tasksDone % 4096 === 0) this.opts.onProgress?.(this.tasksDone);
    if (stage.dataset < 0 && Number.isNaN(this.ready[t.job])) this.ready[t.job] = t.placedAt;
    if (++this.done[t.job][t.stage] < stage.tasks) return;
    if (--this.stagesLeft[t.job] === 0) {
      this.finish[t.job] = this.now;
      return;
    }
    const deps = this.deps[t.job];
    job.stages.forEach((next, k) => {
      if (next.after.includes(t.stage) && --deps[k] === 0) this.placement.ready(t.job, k);
    });
  }

  private record(global: number): void {
    if (this.reads) {
      if (this.blockReads >= this.reads.length) {
        const grown = new Int32Array(this.reads.length * 2);
        grown.set(this.reads);
        this.reads = grown;
      }
      this.reads[this.blockReads] = global;
    }
    this.blockReads++;
  }

  private addBytes(series: number[], bytes: number): void {
    const b = Math.floor(this.now / this.bucketSeconds);
    while (series.length <= b) series.push(0);
    series[b] += bytes;
  }

  result(): RunResult {
    const { workload, policy } = this.opts;
    let last = 0;
    for (const f of this.finish) last = Math.max(last, f);
    return {
      policy: policy.name,
      arrival: this.arrival,
      finish: this.finish,
      ready: this.ready,
      tasks: this.tasksDone,
      blockReads: this.blockReads,
      blockHits: this.blockHits,
      localBytes: this.localBytes,
      remoteBytes: this.remoteBytes,
      makespan: last - workload.jobs[0].arrival,
      bucketSeconds: this.bucketSeconds,
      localSeries: this.localSeries,
      remoteSeries: this.remoteSeries,
      peakBusy: this.placement.peakBusy,
      inventoryWrites: this.publisher.writes,
      computeSeconds: this.computeSeconds,
      slotSeconds: this.slotSeconds,
      reads: this.reads?.subarray(0, this.blockReads),
      ...(this.warm ? { warm: { ...this.warm.finish(), firstBlockSeconds: this.firstBlockTasks > 0 ? this.firstBlockSum / this.firstBlockTasks : 0 } } : {}),
    };
  }
}

export async function runSimulation(opts: EngineOptions): Promise<RunResult> {
  const sim = new Simulation(opts);
  const { heap } = sim;
  while (heap.size > 0) {
    const now = (sim.now = heap.peekTime());
    // Everything due at this instant happens before placement, as in one scheduling cycle.
    while (heap.size > 0 && heap.peekTime() === now) {
      const e = heap.pop();
      switch (e.kind) {
        case 'arrive':
          sim.arrive(e.job);
          break;
        case 'computed':
          sim.computed(e.task);
          break;
        case 'flows':
          sim.flowsDue(e.version);
          break;
        case 'tick':
          sim.tick();
          break;
        case 'start':
          sim.started(e.task);
          break;
        case 'wake':
          break; // only asks for the scheduling cycle below
      }
    }
    const placing = sim.placement.dispatch(now);
    if (placing) await placing;
    sim.settleFlows();
  }
  if (sim.tasksDone % 4096 !== 0) opts.onProgress?.(sim.tasksDone);
  return sim.result();
}
