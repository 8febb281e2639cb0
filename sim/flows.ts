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
  /** Listed in `changed`. */
  changed: boolean;
  /** When its next flow ends, as of its last rebalance (its rate and counts are unchanged since). */
  end: number;
}

/** A flow is done when what is left of it would take less than this (s): float rounding, not data. */
const DONE_SECONDS = 1e-9;
/** Far beyond float rounding of the end times (s): a flow ending this much later is not done. */
const CLEARLY_LATER = 1e-6;

export class FlowNetwork<T> {
  private readonly classes = new Map<string, FlowClass<T>>();
  /** Classes with at least one flow, in the order they became active (iteration order is deterministic). */
  private readonly active = new Set<FlowClass<T>>();
  /** Per link, the active classes crossing it, and how many (read in every rebalance). */
  private readonly crossing: Array<Set<FlowClass<T>>>;
  private readonly crossCount: Int32Array;
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
    this.crossCount = new Int32Array(this.capacity.length);
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
      c = {
        links: Int32Array.from(links),
        ceiling,
        count: 0,
        rate: 0,
        served: 0,
        at: now,
        ends: new EventHeap<T>(),
        seen: 0,
        fixed: false,
        limit: ceiling,
        changed: false,
        end: Infinity,
      };
      this.classes.set(key, c);
    }
    this.touch(now, c);
    c.ends.push(c.served + bytes, flow);
    if (c.count++ === 0) {
      this.active.add(c);
      for (const l of c.links) {
        this.crossing[l].add(c);
        this.crossCount[l]++;
      }
    }
  }

  /** When the next flow ends (Infinity when none is active). */
  nextEnd(): number {
    this.settle();
    let next = Infinity;
    for (const c of this.active) if (c.end < next) next = c.end;
    return next;
  }

  /** Ends every flow done by `now`, calling `done` for each (in class order, then by end). */
  finish(now: number, done: (flow: T) => void): void {
    this.settle();
    const finished: T[] = [];
    // Deleting from a Set while iterating it visits the rest in order: no copy needed.
    for (const c of this.active) {
      // A class whose next end is clearly later is passed over without its exact check.
      if (c.end - now > CLEARLY_LATER || (c.ends.peekTime() - (c.served + c.rate * (now - c.at))) / c.rate > DONE_SECONDS) continue;
      this.touch(now, c);
      while (c.count > 0 && (c.ends.peekTime() - c.served) / c.rate <= DONE_SECONDS) {
        finished.push(c.ends.pop());
        if (--c.count === 0) {
          this.active.delete(c);
          for (const l of c.links) {
            this.crossing[l].delete(c);
            this.crossCount[l]--;
          }
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
    if (!c.changed) {
      c.changed = true;
      this.changed.push(c);
    }
  }

  /**
   * Gives every class that shares a link (transitively) with a changed one its max-min fair rate again,
   * once for all the changes of one instant; their counts of bytes served are first brought up to then.
   */
  private settle(): void {
    if (this.changed.length === 0) return;
    const component = this.component(this.changed);
    for (const c of this.changed) c.changed = false;
    this.changed.length = 0;
    const live: Array<FlowClass<T>> = [];
    for (const c of component) {
      c.served += c.rate * (this.changedAt - c.at);
      c.at = this.changedAt;
      if (c.count > 0) live.push(c);
    }
    this.fill(live);
    for (const c of live) c.end = c.at + Math.max(0, c.ends.peekTime() - c.served) / c.rate;
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
      const links = out[i].links;
      for (let k = 0; k < links.length; k++) {
        const l = links[k];
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
    const { crossCount, capacity, left, weight } = this;
    const links: number[] = [];
    for (const c of classes) {
      c.fixed = false;
      c.limit = c.ceiling;
      for (let k = 0; k < c.links.length; k++) {
        const l = c.links[k];
        if (crossCount[l] === 1) {
          c.limit = Math.min(c.limit, capacity[l] / c.count);
          continue;
        }
        if (weight[l] === 0) {
          links.push(l);
          left[l] = capacity[l];
        }
        weight[l] += c.count;
      }
    }
    let unfixed = classes.length;
    while (unfixed > 0) {
      let level = Infinity;
      for (const c of classes) if (!c.fixed && c.limit < level) level = c.limit;
      for (const l of links) if (weight[l] > 0) level = Math.min(level, Math.max(0, left[l]) / weight[l]);
      const tight = level * (1 + 1e-12);
      for (const c of classes) {
        if (c.fixed) continue;
        let full = c.limit <= tight;
        for (let k = 0; !full && k < c.links.length; k++) {
          const l = c.links[k];
          if (crossCount[l] > 1) full = Math.max(0, left[l]) / weight[l] <= tight;
        }
        if (!full) continue;
        c.rate = Math.min(level, c.limit);
        c.fixed = true;
        unfixed--;
        for (let k = 0; k < c.links.length; k++) {
          const l = c.links[k];
          if (crossCount[l] === 1) continue;
          left[l] -= c.count * c.rate;
          weight[l] -= c.count;
        }
      }
    }
    for (const l of links) weight[l] = 0;
  }
}
