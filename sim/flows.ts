// Reads as flows sharing links: every active flow crosses a fixed set of links (a node's cache device,
// its NIC, its zone's uplink, the object store's aggregate) and has its own ceiling (one stream's rate).
// Rates are max-min fair (progressive filling), recomputed whenever flows start or end (once for all
// that start or end at one instant), for the flows that share a link with them, directly or through others.
//
// Flows with the same links and ceiling get the same rate, so they are kept as one class: a class
// counts the bytes each of its flows has been served since the class was made, and a flow ends when
// that count reaches the count at its start plus its size. A rate change then touches classes, not flows.
import { EventHeap } from './heap.js';

interface FlowClass<T> {
  links: Int32Array;
  ceiling: number;
  /** Flows in the class now. */
  count: number;
  /** Bytes/s of each flow. */
  rate: number;
  /** Bytes served to each flow of the class since it was made, as of `at`. */
  served: number;
  at: number;
  /** The class's flows by the `served` value at which each ends. */
  ends: EventHeap<T>;
  /** Scratch for rebalancing: visit stamp, and whether its rate is fixed yet. */
  seen: number;
  fixed: boolean;
  /** Scratch for rebalancing: the ceiling, lowered by links no other class crosses. */
  limit: number;
}

/** A flow is done when what is left of it would take less than this (s): float rounding, not data. */
const DONE_SECONDS = 1e-9;

export class FlowNetwork<T> {
  private readonly classes = new Map<string, FlowClass<T>>();
  /** Classes with at least one flow, in the order they became active (iteration order is deterministic). */
  private readonly active = new Set<FlowClass<T>>();
  /** Per link, the active classes crossing it. */
  private readonly crossing: Array<Set<FlowClass<T>>>;
  private readonly capacity: Float64Array;
  private readonly left: Float64Array;
  private readonly weight: Float64Array;
  /** Per link, the stamp of the last walk that crossed it (each link's classes are listed once per walk). */
  private readonly linkSeen: Int32Array;
  private stamp = 0;
  /** Classes whose flows changed at `changedAt` and are not rebalanced yet. */
  private readonly changed: Array<FlowClass<T>> = [];
  private changedAt = 0;
  private readonly pathKeys = new WeakMap<readonly number[], string>();

  /** `capacity[l]`: bytes/s of link `l`. */
  constructor(capacity: ArrayLike<number>) {
    this.capacity = Float64Array.from(capacity);
    for (let l = 0; l < this.capacity.length; l++) {
      if (!(this.capacity[l] > 0)) throw new RangeError(`link ${l}: capacity must be positive, got ${this.capacity[l]}`);
    }
    this.crossing = Array.from(this.capacity, () => new Set<FlowClass<T>>());
    this.left = new Float64Array(this.capacity.length);
    this.weight = new Float64Array(this.capacity.length);
    this.linkSeen = new Int32Array(this.capacity.length);
  }

  /** Flows in progress. */
  get size(): number {
    let n = 0;
    for (const c of this.active) n += c.count;
    return n;
  }

  /** Starts a flow of `bytes` over `links` (each at most once), at most `ceiling` bytes/s. */
  start(now: number, links: readonly number[], ceiling: number, bytes: number, flow: T): void {
    if (!(bytes > 0)) throw new RangeError(`a flow needs a positive size, got ${bytes}`);
    if (links.length === 0 && !Number.isFinite(ceiling)) throw new RangeError('a flow needs a link or a finite ceiling');
    const key = this.key(links, ceiling);
    let c = this.classes.get(key);
    if (!c) {
      c = { links: Int32Array.from(links), ceiling, count: 0, rate: 0, served: 0, at: now, ends: new EventHeap<T>(), seen: 0, fixed: false, limit: ceiling };
      this.classes.set(key, c);
    }
    this.touch(now, c);
    c.ends.push(c.served + bytes, flow);
    if (c.count++ === 0) {
      this.active.add(c);
      for (const l of c.links) this.crossing[l].add(c);
    }
  }

  /** When the next flow ends (Infinity when none is active). */
  nextEnd(): number {
    this.settle();
    let next = Infinity;
    for (const c of this.active) {
      const t = c.at + Math.max(0, c.ends.peekTime() - c.served) / c.rate;
      if (t < next) next = t;
    }
    return next;
  }

  /** Ends every flow done by `now`, calling `done` for each (in class order, then by end). */
  finish(now: number, done: (flow: T) => void): void {
    this.settle();
    const finished: T[] = [];
    for (const c of [...this.active]) {
      if ((c.ends.peekTime() - (c.served + c.rate * (now - c.at))) / c.rate > DONE_SECONDS) continue;
      this.touch(now, c);
      while (c.count > 0 && (c.ends.peekTime() - c.served) / c.rate <= DONE_SECONDS) {
        finished.push(c.ends.pop());
        if (--c.count === 0) {
          this.active.delete(c);
          for (const l of c.links) this.crossing[l].delete(c);
        }
      }
    }
    for (const f of finished) done(f);
  }

  /** The rate (bytes/s) each flow of the class with these links and ceiling gets now; 0 when none is active. */
  rateOf(links: readonly number[], ceiling: number): number {
    this.settle();
    const c = this.classes.get(this.key(links, ceiling));
    return c && c.count > 0 ? c.rate : 0;
  }

  private key(links: readonly number[], ceiling: number): string {
    let path = this.pathKeys.get(links);
    if (path === undefined) this.pathKeys.set(links, (path = links.join(',')));
    return `${path}/${ceiling}`;
  }

  /**
   * A class's flows are about to change at `now`: rates computed at an earlier instant are settled first,
   * then the class's count of bytes served is brought up to `now` and it is marked for rebalancing.
   */
  private touch(now: number, c: FlowClass<T>): void {
    if (this.changed.length > 0 && now !== this.changedAt) this.settle();
    c.served += c.rate * (now - c.at);
    c.at = now;
    this.changedAt = now;
    if (!this.changed.includes(c)) this.changed.push(c);
  }

  /**
   * Gives every class that shares a link (transitively) with a changed one its max-min fair rate again,
   * once for all the changes of one instant; their counts of bytes served are first brought up to then.
   */
  private settle(): void {
    if (this.changed.length === 0) return;
    const component = this.component(this.changed);
    this.changed.length = 0;
    const live: Array<FlowClass<T>> = [];
    for (const c of component) {
      c.served += c.rate * (this.changedAt - c.at);
      c.at = this.changedAt;
      if (c.count > 0) live.push(c);
    }
    this.fill(live);
  }

  /** The classes reachable from `from` over shared links (including `from`). */
  private component(from: Array<FlowClass<T>>): Array<FlowClass<T>> {
    const stamp = ++this.stamp;
    const out: Array<FlowClass<T>> = [];
    for (const c of from) {
      if (c.seen !== stamp) {
        c.seen = stamp;
        out.push(c);
      }
    }
    for (let i = 0; i < out.length; i++) {
      for (const l of out[i].links) {
        if (this.linkSeen[l] === stamp) continue;
        this.linkSeen[l] = stamp;
        for (const o of this.crossing[l]) {
          if (o.seen !== stamp) {
            o.seen = stamp;
            out.push(o);
          }
        }
      }
    }
    return out;
  }

  /**
   * Progressive filling: every unfixed flow's rate rises together until a flow reaches its limit or a
   * shared link is full; those flows keep that rate, the rest rise on. A link only one class crosses (a
   * node's NIC, its cache device) just lowers that class's limit, so only shared links are scanned.
   */
  private fill(classes: Array<FlowClass<T>>): void {
    const links: number[] = [];
    for (const c of classes) {
      c.fixed = false;
      c.limit = c.ceiling;
      for (const l of c.links) {
        if (this.crossing[l].size === 1) {
          c.limit = Math.min(c.limit, this.capacity[l] / c.count);
          continue;
        }
        if (this.weight[l] === 0) {
          links.push(l);
          this.left[l] = this.capacity[l];
        }
        this.weight[l] += c.count;
      }
    }
    let unfixed = classes.length;
    while (unfixed > 0) {
      let level = Infinity;
      for (const c of classes) if (!c.fixed && c.limit < level) level = c.limit;
      for (const l of links) if (this.weight[l] > 0) level = Math.min(level, Math.max(0, this.left[l]) / this.weight[l]);
      const tight = level * (1 + 1e-12);
      for (const c of classes) {
        if (c.fixed) continue;
        let full = c.limit <= tight;
        for (let k = 0; !full && k < c.links.length; k++) {
          const l = c.links[k];
          if (this.crossing[l].size > 1) full = Math.max(0, this.left[l]) / this.weight[l] <= tight;
        }
        if (!full) continue;
        c.rate = Math.min(level, c.limit);
        c.fixed = true;
        unfixed--;
        for (const l of c.links) {
          if (this.crossing[l].size === 1) continue;
          this.left[l] -= c.count * c.rate;
          this.weight[l] -= c.count;
        }
      }
    }
    for (const l of links) this.weight[l] = 0;
  }
}
