// The warm cache, as the agents run it: prefetch on bind (a bound pod's slice fetched in the background
// while its container starts, reads first), warm-ahead for queued work (a waiting task's slice fetched on
// the node the scorer ranks best, within a cluster-wide budget), pinning (blocks bound or queued pods will
// read are not evicted, up to a share of capacity) and peer fill (a miss on a block a node of the same
// zone holds is read from that node over the zone's network, not from the object store; under pressure a
// node gives up first the blocks its zone holds enough copies of elsewhere, by the agents' rule). Each is an
// option of a policy; a run with any warm option, or the base run it is compared with, models pod start-up.
import { z } from 'zod';
import { surplusCopy } from '../src/core/zone-copies.js';
import type { Cluster } from './cluster.js';
import type { NodeCacheModel } from './node-cache.js';
import { Rng } from './rng.js';

export const WARM_OPTIONS = ['prefetch', 'warm-ahead', 'pin', 'peer'] as const;
export type WarmOption = (typeof WARM_OPTIONS)[number];
export type WarmOptions = Readonly<Record<WarmOption, boolean>>;

export const NO_WARM: WarmOptions = { prefetch: false, 'warm-ahead': false, pin: false, peer: false };

/** `all` or a comma-separated list of WARM_OPTIONS; unknown names are an error listing the known ones. */
export function parseWarmList(list: string): WarmOption[] {
  if (list === 'all') return [...WARM_OPTIONS];
  const names = [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
  for (const n of names) {
    if (!(WARM_OPTIONS as readonly string[]).includes(n)) throw new Error(`--warm: unknown option "${n}"; known: ${WARM_OPTIONS.join(', ')} (or all)`);
  }
  if (names.length === 0) throw new Error(`--warm: give at least one of ${WARM_OPTIONS.join(', ')}, or all`);
  return WARM_OPTIONS.filter((o) => names.includes(o));
}

/** The runs a warm comparison makes of each policy: none (base), each option alone, then all of them together. */
export function warmVariants(options: readonly WarmOption[]): WarmOptions[] {
  const only = (on: readonly WarmOption[]): WarmOptions => ({ ...NO_WARM, ...Object.fromEntries(on.map((o) => [o, true])) });
  return [NO_WARM, ...options.map((o) => only([o])), ...(options.length > 1 ? [only(options)] : [])];
}

/** ` +prefetch`, ` +all` (every option), or '' (base): appended to the policy's name. */
export function warmSuffix(options: WarmOptions): string {
  const on = WARM_OPTIONS.filter((o) => options[o]);
  if (on.length === 0) return '';
  return on.length === WARM_OPTIONS.length ? ' +all' : ` +${on.join('+')}`;
}

/** The warm cache's parameters; a cluster spec's `warm` object overrides any of them. Sources in the README. */
export const WarmSpec = z
  .object({
    /**
     * Seconds from a pod's binding to its container's first read (image present, init): Kubernetes' pod
     * start-up SLO (sig-scalability) bounds its 99th percentile at 5 s without image pulls.
     */
    podStartSeconds: z.number().nonnegative().default(5),
    /** The agent's defaults: --prefetch-concurrency, --prefetch-pod-budget, --pin-share (node budget = pinShare × capacity). */
    prefetchConcurrency: z.number().int().positive().default(2),
    prefetchPodBudgetGiB: z.number().positive().default(64),
    pinShare: z.number().min(0).max(0.9).default(0.5),
    /** Bytes warmed ahead for queued pods across the cluster, as a share of the cluster's cache (assumed). */
    warmAheadShare: z.number().min(0).max(1).default(0.05),
    /** Each zone's network for peer reads (Gb/s), shared by them; absent: only NICs and cache devices limit them. */
    zoneLinkGbps: z.number().positive().optional(),
    /** The agent's --zone-copies default: copies of a block the zone keeps when capacity is tight (peer). */
    zoneCopies: z.number().int().min(1).max(16).default(1),
  })
  .strict();
export type WarmSpec = z.infer<typeof WarmSpec>;

/** What the engine is told for a warm run: the options on, and the parameters. */
export interface WarmRun {
  options: WarmOptions;
  spec: WarmSpec;
}

/** A pod whose slice a node fetches ahead: bound to the node (its task running or starting) or queued for it. */
export interface WarmPod {
  node: number;
  dataset: number;
  base: number;
  from: number;
  to: number;
  /** Next block to consider fetching; blocks [from, limit) fit the budgets. */
  cursor: number;
  limit: number;
  /** For a bound pod: its task's next block to read (blocks before it need no fetching). */
  readAt: () => number;
  queued: boolean;
}

/** A block being fetched ahead, and the reads that joined it (which make it a read's fetch, as in the agent's block store). */
export interface PrefetchFlow<T> {
  prefetch: true;
  node: number;
  dataset: number;
  block: number;
  global: number;
  bytes: number;
  waiters: T[];
}

export interface WarmTotals {
  /** Bytes fetched from the object store (reads and prefetches): egress. */
  egressBytes: number;
  /** Bytes read from a peer in the zone (reads and prefetches). */
  peerBytes: number;
  prefetchedBytes: number;
  /** Prefetched bytes evicted before any read, or never read by the end of the run. */
  wastedPrefetchBytes: number;
  /** Blocks and bytes queued pods had warmed. */
  warmAheadBytes: number;
}

/** Per node: the pods it fetches ahead for (bind order, queued pods after), the fetches in flight. */
class NodeWarm<T> {
  readonly pods: WarmPod[] = [];
  turn = 0;
  active = 0;
  /** Blocks reads are fetching remotely now (not on disk yet, so no peer can read them). */
  readonly reading = new Set<number>();
  /** Per block fetched: from when the node's inventory shows it to peers (its agent's next write). */
  readonly published = new Map<number, number>();
  readonly inflight = new Map<number, PrefetchFlow<T>>();
}

export class WarmCache<T> {
  readonly nodes: Array<NodeWarm<T>>;
  readonly totals: WarmTotals = { egressBytes: 0, peerBytes: 0, prefetchedBytes: 0, wastedPrefetchBytes: 0, warmAheadBytes: 0 };
  readonly startSeconds: number;
  private readonly podBudget: number;
  private readonly nodeBudget: number;
  private readonly warmAheadBudget: number;
  private warmAheadUsed = 0;
  /** Nodes of each node's zone, by index. */
  private readonly zoneNodes: number[][];
  /** Peer picks are drawn apart from placement's ties, so a peer option does not shift placement draws. */
  private readonly rng: Rng;
  /** Links of a peer read from holder h to node n: h's cache device, h's NIC, the zone's link if limited, n's NIC. */
  readonly peerLinks: number[];

  constructor(
    readonly run: WarmRun,
    private readonly cluster: Cluster,
    private readonly caches: NodeCacheModel[],
    seed: number,
    /** The simulated time, s. */
    private readonly now: () => number,
    /** Starts a fetch over `links` (bytes/s ceiling) for the flow; the engine owns the flow network. */
    private readonly startFlow: (links: number[], ceiling: number, bytes: number, flow: PrefetchFlow<T>) => void,
    /** Blocks of dataset `d` (block sizes as blockBytes gives them). */
    private readonly blockBytes: (dataset: number, block: number) => number,
  ) {
    const { spec } = run;
    this.startSeconds = spec.podStartSeconds;
    this.podBudget = spec.prefetchPodBudgetGiB * 2 ** 30;
    const capacity = cluster.spec.cacheGiBPerNode * 2 ** 30;
    this.nodeBudget = spec.pinShare * capacity;
    this.warmAheadBudget = spec.warmAheadShare * capacity * cluster.spec.nodes;
    this.nodes = cluster.names.map(() => new NodeWarm<T>());
    const zones = cluster.spec.zones;
    this.zoneNodes = cluster.names.map((_, n) => cluster.names.flatMap((__, m) => (m % zones === n % zones ? [m] : [])));
    this.rng = new Rng(seed ^ 0x5eed);
    const base = cluster.linkCapacity.length;
    this.peerLinks = run.options.peer && spec.zoneLinkGbps !== undefined ? Array.from({ length: zones }, (_, z) => base + z) : [];
    if (run.options.pin) for (const c of caches) c.pinWithin(spec.pinShare * c.capacityBytes);
    if (run.options.peer) caches.forEach((c, n) => c.surplusWith((global, dataset, block) => this.surplusCopy(n, global, `${dataset}#${block}`)));
  }

  /** Link capacities the flow network needs beyond the cluster's: the zones' peer links. */
  extraLinks(): number[] {
    return this.peerLinks.map(() => (this.run.spec.zoneLinkGbps! * 1e9) / 8);
  }

  /**
   * A node of `node`'s zone other than it whose inventory shows the block and that holds it on disk now
   * (one at random), or -1. A block its own read is still fetching is not there yet (that peer would
   * answer 404); one fetched since its agent's last write is not in its inventory yet.
   */
  peerHolder(node: number, global: number): number {
    if (!this.run.options.peer) return -1;
    let count = 0;
    const now = this.now();
    for (const m of this.zoneNodes[node]) if (this.shows(m, node, global, now)) count++;
    if (count === 0) return -1;
    let k = this.rng.int(count);
    for (const m of this.zoneNodes[node]) if (this.shows(m, node, global, now) && k-- === 0) return m;
    return -1;
  }

  /**
   * Whether `node`'s copy of a global block is one more than its zone needs: the core's rendezvous rule
   * (`surplusCopy`) over the other nodes of the zone whose inventory shows the block, as the agent decides.
   */
  private surplusCopy(node: number, global: number, key: string): boolean {
    const now = this.now();
    const names = this.cluster.names;
    const holders = this.zoneNodes[node].flatMap((m) => (this.shows(m, node, global, now) ? [names[m]] : []));
    return holders.length >= this.run.spec.zoneCopies && surplusCopy(key, names[node], holders, this.run.spec.zoneCopies);
  }

  /** Whether node `m` (not `node`) has the block on disk and in its inventory: not still fetching it, written since. */
  private shows(m: number, node: number, global: number, now: number): boolean {
    const n = this.nodes[m];
    return m !== node && this.caches[m].has(global) && !n.reading.has(global) && (n.published.get(global) ?? Infinity) <= now;
  }

  /** Links of a read of a block held by `holder` into `node`. */
  peerPath(holder: number, node: number): number[] {
    const c = this.cluster;
    const zoneLink = this.peerLinks.length > 0 ? [this.peerLinks[node % c.spec.zones]] : [];
    return [c.localPath[holder][0], c.remotePath[holder][0], ...zoneLink, c.remotePath[node][0]];
  }

  /** A pod bound to `node` (or queued for it): its slice is fetched ahead (prefetch) and pinned (pin). */
  add(pod: Omit<WarmPod, 'cursor' | 'limit'>): WarmPod {
    const p: WarmPod = { ...pod, cursor: pod.from, limit: pod.from };
    this.nodes[pod.node].pods.push(p);
    if (p.queued) this.warmAheadUsed += this.sliceBudget(p);
    if (this.run.options.pin) this.caches[pod.node].demand(pod.base + pod.from, pod.base + pod.to, +1);
    if (this.fetchesAhead(p)) this.plan(pod.node);
    return p;
  }

  /** The pod went (finished, or a queued pod was placed): its queued blocks are dropped, its pins released. */
  remove(p: WarmPod): void {
    const node = this.nodes[p.node];
    const i = node.pods.indexOf(p);
    if (i < 0) return;
    node.pods.splice(i, 1);
    if (node.turn > i) node.turn--;
    if (p.queued) this.warmAheadUsed -= this.sliceBudget(p);
    if (this.run.options.pin) this.caches[p.node].demand(p.base + p.from, p.base + p.to, -1);
    if (this.fetchesAhead(p)) this.plan(p.node);
  }

  /** Whether queued pods may take more of the cluster-wide warm-ahead budget (a pod is admitted while some is left). */
  hasWarmAheadRoom(): boolean {
    return this.warmAheadUsed < this.warmAheadBudget;
  }

  /** A read on `node` began fetching a block remotely (store or peer): prefetch waits while any does. */
  readStarted(node: number, global: number): void {
    this.nodes[node].reading.add(global);
  }

  /** That read ended: the block is on the node's disk (peers may read it); prefetch may go on. */
  readEnded(node: number, global: number): void {
    const n = this.nodes[node];
    n.reading.delete(global);
    this.publish(n, global);
    if (n.reading.size === 0) this.pump(node);
  }

  /** The prefetch of this block on this node, if one is in flight. */
  inflight(node: number, global: number): PrefetchFlow<T> | undefined {
    return this.nodes[node].inflight.get(global);
  }

  /** A read joins the fetch ahead of its block: from now on it is a read's fetch (no other fetch ahead starts meanwhile). */
  join(f: PrefetchFlow<T>, reader: T): void {
    f.waiters.push(reader);
    this.nodes[f.node].reading.add(f.global);
  }

  /** A fetch ahead ended: the block enters the node's cache; the reads that joined it are returned. */
  prefetched(f: PrefetchFlow<T>): T[] {
    const n = this.nodes[f.node];
    n.inflight.delete(f.global);
    n.active--;
    this.caches[f.node].insert(f.dataset, f.block, f.bytes, { prefetched: f.waiters.length === 0 });
    this.publish(n, f.global);
    return f.waiters;
  }

  /** The block is on disk: the agent's next write (at the engine's write ticks) shows it to peers. */
  private publish(n: NodeWarm<T>, global: number): void {
    if (!this.run.options.peer) return;
    const w = this.cluster.writeSeconds;
    n.published.set(global, (Math.floor(this.now() / w) + 1) * w);
  }

  /** After the reads that joined it went on: fetching ahead may go on. */
  fetchEnded(f: PrefetchFlow<T>): void {
    if (f.waiters.length > 0) this.readEnded(f.node, f.global);
    else this.pump(f.node);
  }

  /** At the end of a run: prefetched blocks still unread count as wasted. */
  finish(): WarmTotals {
    for (const c of this.caches) this.totals.wastedPrefetchBytes += c.wastedPrefetchBytes + c.unreadPrefetchBytes();
    return this.totals;
  }

  private fetchesAhead(p: WarmPod): boolean {
    return p.queued ? this.run.options['warm-ahead'] : this.run.options.prefetch;
  }

  private sliceBudget(p: WarmPod): number {
    return Math.min(this.podBudget, (p.to - p.from) * this.cluster.blockSize);
  }

  /** Budgets, in pod order: each pod up to the per-pod budget, all together up to the node's. */
  private plan(node: number): void {
    let left = this.nodeBudget;
    for (const p of this.nodes[node].pods) {
      if (!this.fetchesAhead(p)) continue;
      const blocks = Math.min(p.to - p.from, Math.floor(Math.min(this.podBudget, left) / this.cluster.blockSize));
      p.limit = p.from + Math.max(0, blocks);
      left -= blocks * this.cluster.blockSize;
    }
    this.pump(node);
  }

  /** Starts fetches ahead while the node has a free fetch slot and no read is fetching: pods take turns, a block each. */
  private pump(node: number): void {
    const n = this.nodes[node];
    const cache = this.caches[node];
    while (n.active < this.run.spec.prefetchConcurrency && n.reading.size === 0 && n.pods.length > 0) {
      let started = false;
      for (let k = 0; k < n.pods.length && !started; k++) {
        const i = (n.turn + k) % n.pods.length;
        const p = n.pods[i];
        if (!this.fetchesAhead(p)) continue;
        p.cursor = Math.max(p.cursor, p.readAt());
        while (p.cursor < p.limit && (cache.has(p.base + p.cursor) || n.inflight.has(p.base + p.cursor))) p.cursor++;
        if (p.cursor >= p.limit) continue;
        this.fetch(node, p, p.cursor++);
        n.turn = (i + 1) % n.pods.length;
        started = true;
      }
      if (!started) return;
    }
  }

  private fetch(node: number, p: WarmPod, block: number): void {
    const n = this.nodes[node];
    const global = p.base + block;
    const bytes = this.blockBytes(p.dataset, block);
    const holder = this.peerHolder(node, global);
    const f: PrefetchFlow<T> = { prefetch: true, node, dataset: p.dataset, block, global, bytes, waiters: [] };
    n.inflight.set(global, f);
    n.active++;
    this.totals.prefetchedBytes += bytes;
    if (p.queued) this.totals.warmAheadBytes += bytes;
    const c = this.cluster;
    if (holder >= 0) {
      this.totals.peerBytes += bytes;
      this.startFlow(this.peerPath(holder, node), Infinity, bytes, f);
    } else {
      this.totals.egressBytes += bytes;
      this.startFlow(c.remotePath[node], c.streamBytesPerSecond, bytes, f);
    }
  }
}
