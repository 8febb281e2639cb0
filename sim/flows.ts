// Reads as flows sharing links: every active flow crosses a fixed set of links (a node's cache device,
// its NIC, its zone's uplink, the object store's aggregate) and has its own ceiling (one stream's rate).
// Rates are max-min fair (progressive filling), recomputed whenever a flow starts or ends, for the
// flows that share a link with it, directly or through others.
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
  private stamp = 0;

  /** `capacity[l]`: bytes/s of link `l`. */
  constructor(capacity: ArrayLike<number>) {
    this.capacity = Float64Array.from(capacity);
    for (let l = 0; l < this.capacity.length; l++) {
      if (!(this.capacity[l] > 0)) throw new RangeError(`link ${l}: capacity must be positive, got ${this.capacity[l]}`);
    }
    this.crossing = Array.from(this.capacity, () => new Set<FlowClass<T>>());
    this.left = new Float64Array(this.capacity.length);
    this.weight = new Float64Array(this.capacity.length);
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
    const key = `${links.join(',')}/${ceiling}`;
    let c = this.classes.get(key);
    if (!c) {
      c = { links: Int32Array.from(links), ceiling, count: 0, rate: 0, served: 0, at: now, ends: new EventHeap<T>(), seen: 0, fixed: false };
      this.classes.set(key, c);
    }
    this.rebalance(now, [c], () => {
      c.ends.push(c.served + bytes, flow);
      if (c.count++ === 0) {
        this.active.add(c);
        for (const l of c.links) this.crossing[l].add(c);
      }
    });
  }

  /** When the next flow ends (Infinity when none is active). */
  nextEnd(): number {
    let next = Infinity;
    for (const c of this.active) {
      const t = c.at + Math.max(0, c.ends.peekTime() - c.served) / c.rate;
      if (t < next) next = t;
    }
    return next;
  }

  /** Ends every flow done by `now`, calling `done` for each (in class order, then by end); rebalances. */
  finish(now: number, done: (flow: T) => void): void {
    const ended: Array<FlowClass<T>> = [];
    const finished: T[] = [];
    for (const c of this.active) {
      const servedNow = c.served + c.rate * (now - c.at);
      if ((c.ends.peekTime() - servedNow) / c.rate <= DONE_SECONDS) ended.push(c);
    }
    if (ended.length === 0) return;
    this.rebalance(now, ended, () => {
      for (const c of ended) {
        while (c.count > 0 && (c.ends.peekTime() - c.served) / c.rate <= DONE_SECONDS) {
          finished.push(c.ends.pop());
          if (--c.count === 0) {
            this.active.delete(c);
            for (const l of c.links) this.crossing[l].delete(c);
          }
        }
      }
    });
    for (const f of finished) done(f);
  }

  /** The rate (bytes/s) each flow of the class with these links and ceiling gets now; 0 when none is active. */
  rateOf(links: readonly number[], ceiling: number): number {
    const c = this.classes.get(`${links.join(',')}/${ceiling}`);
    return c && c.count > 0 ? c.rate : 0;
  }

  /**
   * Brings every class that shares a link (transitively) with `changed` up to `now`, applies `change`,
   * and gives those classes their max-min fair rates again.
   */
  private rebalance(now: number, changed: Array<FlowClass<T>>, change: () => void): void {
    const component = this.component(changed);
    for (const c of component) {
      c.served += c.rate * (now - c.at);
      c.at = now;
    }
    change();
    const live = this.component(changed).filter((c) => c.count > 0);
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
   * Progressive filling: every unfixed flow's rate rises together until a flow reaches its ceiling or a
   * link is full; those flows keep that rate, the rest rise on.
   */
  private fill(classes: Array<FlowClass<T>>): void {
    const links: number[] = [];
    for (const c of classes) {
      c.fixed = false;
      for (const l of c.links) {
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
      for (const c of classes) if (!c.fixed && c.ceiling < level) level = c.ceiling;
      for (const l of links) if (this.weight[l] > 0) level = Math.min(level, Math.max(0, this.left[l]) / this.weight[l]);
      const tight = level * (1 + 1e-12);
      for (const c of classes) {
        if (c.fixed) continue;
        let full = c.ceiling <= tight;
        for (let k = 0; !full && k < c.links.length; k++) {
          const l = c.links[k];
          full = Math.max(0, this.left[l]) / this.weight[l] <= tight;
        }
        if (!full) continue;
        c.rate = Math.min(level, c.ceiling);
        c.fixed = true;
        unfixed--;
        for (const l of c.links) {
          this.left[l] -= c.count * c.rate;
          this.weight[l] -= c.count;
        }
      }
    }
    for (const l of links) this.weight[l] = 0;
  }
}
