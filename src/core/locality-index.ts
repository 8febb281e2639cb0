// The locality index: which node caches which bytes of which Dataset, fed by NodeCache snapshots.
// Every update is a full per-node snapshot (epoch, seq); time is passed in, never read.
//
// Layout for scoring: nodes and Datasets get dense ids; per Dataset a column of bytes by node id, per
// node the instant its inventory stops counting, its zone's and region's ids; per (area, Dataset) the
// block reference counts of `AreaHoldings`, kept current as snapshots apply. Scoring a node is then a
// few typed-array reads (`view`), with node names resolved to ids once per request (`nodeIds`).
import { AreaHoldings, SliceBytes, type Holding } from './area-holdings.js';
import { BlockWords } from './block-words.js';
import type { Slice } from './slice.js';
import type { ApplyOutcome, DatasetCatalog, DatasetInventory, DatasetKey, InventorySnapshot, NodeTopology } from './types.js';

export interface IndexOptions {
  /** A node's inventory counts as empty once this long has passed since its last applied snapshot. */
  ttlMs: number;
  /**
   * The writer builds a new DatasetInventory object for every changed entry and passes unchanged ones
   * again as the same object, never modified (the simulator's agents): the index then keeps each entry's
   * object and does not read one listed again. Off by default, where every snapshot is decoded anew (the
   * extender), keeping them would only hold every decoded block list in memory.
   */
  sameObjectsUnchanged?: boolean;
}

/** Bytes of one Dataset cached on a node, in its zone and in its region (each including the former). */
export interface Locality {
  onNode: number;
  inZone: number;
  inRegion: number;
}

export interface IndexStats {
  nodes: number;
  datasets: number;
  inventories: number;
  liveInventories: number;
  blocks: number;
  bytes: number;
}

/** One Dataset (or a slice of it) ready to answer for many nodes at one instant: see `LocalityIndex.view`. */
export interface LocalityView {
  /** Fills `out` with the locality of node `id` (from `nodeIds`; -1 for an unknown node) and returns it. */
  fill(id: number, out: Locality): Locality;
}

interface Entry extends Holding {
  key: DatasetKey;
  /** The Dataset's dense id. */
  id: number;
  catalogVersion?: string;
  blockSize?: number;
  blocks: number;
  /** The last applied (or checked) snapshot that listed it, by the index's count of applies. */
  listed: number;
  /** With `sameObjectsUnchanged`, the snapshot object it was read from: listed again, it says the same. */
  source?: DatasetInventory;
}

interface Inventory {
  epoch: string;
  seq: number;
  appliedAt: number;
  capacityBytes?: number;
  usedBytes?: number;
  datasets: Map<DatasetKey, Entry>;
  /** The same entries, in the order the snapshot listed them. */
  listing: Entry[];
  blocks: number;
  bytes: number;
  expiredReported: boolean;
}

interface NodeState {
  name: string;
  id: number;
  topology?: NodeTopology;
  inventory?: Inventory;
}

/**
 * A zone (`zone:<z>`) or region (`region:<r>`). Its holdings count the members live at `countedAt`;
 * a query at another instant recounts when a member's liveness differs there (`sync`).
 */
interface Area {
  id: number;
  members: Set<number>;
  counted: Set<number>;
  countedAt: number;
  /** At most the earliest last-live instant of a counted member, at least the latest of an uncounted one. */
  minCounted: number;
  maxUncounted: number;
  /** By Dataset id. */
  held: Array<AreaHoldings | undefined>;
}

const NO_AREA = -1;
const EMPTY_HOLDINGS = new AreaHoldings();

export class LocalityIndex {
  readonly ttlMs: number;
  private readonly sameObjectsUnchanged: boolean;
  private readonly nodes = new Map<string, NodeState>();
  private readonly states: Array<NodeState | undefined> = [];
  private readonly freeIds: number[] = [];
  private capacity = 64;
  /** By node id: the last instant its inventory counts (-Infinity without one), its zone and region ids. */
  private lastLive = new Float64Array(this.capacity).fill(-Infinity);
  private zoneOf = new Int32Array(this.capacity).fill(NO_AREA);
  private regionOf = new Int32Array(this.capacity).fill(NO_AREA);
  private readonly datasetIds = new Map<DatasetKey, number>();
  private readonly datasetKeys: DatasetKey[] = [];
  /** By Dataset id: the catalog (if known) and the bytes each node caches of it, by node id. */
  private readonly catalogs: Array<DatasetCatalog | undefined> = [];
  private readonly columns: Float64Array[] = [];
  /** By Dataset id: every node's block set that was encoded against the Dataset's catalog (for slices). */
  private readonly blockWords: BlockWords[] = [];
  private readonly catalog = new Map<DatasetKey, DatasetCatalog>();
  private readonly areaIds = new Map<string, number>();
  private readonly areas: Area[] = [];
  /** Snapshots checked so far: marks the entries a snapshot lists. */
  private checks = 0;

  constructor(opts: IndexOptions) {
    if (!(opts.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${opts.ttlMs}`);
    this.ttlMs = opts.ttlMs;
    this.sameObjectsUnchanged = opts.sameObjectsUnchanged ?? false;
  }

  upsertDataset(cat: DatasetCatalog): void {
    const previous = this.catalog.get(cat.key);
    const copy = { ...cat };
    this.catalog.set(cat.key, copy);
    const id = this.datasetId(cat.key);
    this.catalogs[id] = copy;
    if (!previous || !sameBlocks(previous, copy)) this.recount(id);
  }

  removeDataset(key: DatasetKey): void {
    if (!this.catalog.delete(key)) return;
    const id = this.datasetIds.get(key)!;
    this.catalogs[id] = undefined;
    this.recount(id);
  }

  dataset(key: DatasetKey): DatasetCatalog | undefined {
    return this.catalog.get(key);
  }

  datasets(): IterableIterator<DatasetCatalog> {
    return this.catalog.values();
  }

  upsertNode(topology: NodeTopology): void {
    const state = this.state(topology.name);
    this.leaveAreas(state);
    state.topology = { ...topology };
    this.zoneOf[state.id] = topology.zone ? this.area(`zone:${topology.zone}`) : NO_AREA;
    this.regionOf[state.id] = topology.region ? this.area(`region:${topology.region}`) : NO_AREA;
    this.joinAreas(state);
  }

  /** The node is gone: its topology and its inventory go with it. */
  removeNode(name: string): void {
    const state = this.nodes.get(name);
    if (!state) return;
    this.leaveAreas(state);
    this.clearInventory(state);
    this.nodes.delete(name);
    this.states[state.id] = undefined;
    this.freeIds.push(state.id);
  }

  topology(node: string): NodeTopology | undefined {
    return this.nodes.get(node)?.topology;
  }

  /**
   * Replaces the node's inventory with the snapshot, in O(its size). A Dataset entry equal to the one in
   * force (same bytes, catalog version, block size and blocks) is kept as it is; the block counts of
   * the node's zone and region change by the entries that changed.
   */
  applyInventory(snap: InventorySnapshot, now: number): ApplyOutcome {
    const state = this.nodes.get(snap.node);
    const current = state?.inventory;
    const header = validateHeader(snap);
    if (header) return { kind: 'rejected', reason: header };
    const checked = this.check(snap, current);
    if ('invalid' in checked) return { kind: 'rejected', reason: checked.invalid };
    let reason: 'first' | 'newer-seq' | 'new-epoch' = 'first';
    if (current) {
      if (current.epoch === snap.epoch) {
        // The same seq again is the write already applied: an informer resync, or a change to the object's
        // spec (warm-ahead items), which leaves the inventory as it was.
        if (snap.seq === current.seq) return { kind: 'seen', reason: `seq ${snap.seq} of epoch ${snap.epoch} is applied already` };
        if (snap.seq < current.seq) {
          return { kind: 'stale', reason: `seq ${snap.seq} is older than ${current.seq} in epoch ${snap.epoch}` };
        }
        reason = 'newer-seq';
      } else {
        reason = 'new-epoch';
      }
    }
    const target = state ?? this.state(snap.node);
    const id = target.id;
    // The entries in force are updated in place: the snapshot was checked whole, nothing can fail now.
    const datasets = current?.datasets ?? new Map<DatasetKey, Entry>();
    const oldListing = current?.listing ?? [];
    const listing = checked.keep as Entry[];
    const added: Entry[] = [];
    const removed: Entry[] = [];
    /** Entries in force replaced by a changed one of the same Dataset: [before, after]. */
    const replaced: Array<[Entry, Entry]> = [];
    let blocks = 0;
    let bytes = 0;
    for (let i = 0; i < snap.datasets.length; i++) {
      const d = snap.datasets[i];
      let entry = listing[i];
      if (!entry) {
        const previous = datasets.get(d.dataset);
        entry = {
          key: d.dataset,
          id: this.datasetId(d.dataset),
          bytes: d.bytes,
          catalogVersion: d.catalogVersion,
          blockSize: d.blockSize,
          blocks: d.blocks?.length ?? 0,
          listed: this.checks,
          source: this.sameObjectsUnchanged ? d : undefined,
        };
        if (d.blocks && d.blocks.length > 0) entry.words = toWords(d.blocks);
        datasets.set(d.dataset, entry);
        listing[i] = entry;
        if (previous) replaced.push([previous, entry]);
        else added.push(entry);
      }
      blocks += entry.blocks;
      bytes += entry.bytes;
    }
    for (const entry of oldListing) {
      if (entry.listed === this.checks) continue;
      datasets.delete(entry.key);
      removed.push(entry);
    }
    for (const e of removed) {
      this.columns[e.id][id] = 0;
      this.blockWords[e.id].clear(id);
    }
    for (const e of [...added, ...replaced.map(([, after]) => after)]) {
      this.columns[e.id][id] = e.bytes;
      if (matches(e, this.catalogs[e.id])) this.blockWords[e.id].set(id, e.words!);
      else this.blockWords[e.id].clear(id);
    }
    const live = now + this.ttlMs;
    for (const a of this.areasOf(id)) {
      const was = a.counted.has(id);
      const counts = a.countedAt <= live;
      if (was && counts) {
        this.contribute(a, removed, -1);
        this.contribute(a, added, +1);
        for (const [before, after] of replaced) this.holdingsOf(a, after.id).replace(this.holding(before), this.holding(after));
        a.minCounted = Math.min(a.minCounted, live);
      } else if (was) {
        this.contribute(a, oldListing, -1);
        a.counted.delete(id);
        a.maxUncounted = Math.max(a.maxUncounted, live);
      } else if (counts) {
        this.contribute(a, listing, +1);
        a.counted.add(id);
        a.minCounted = Math.min(a.minCounted, live);
      } else {
        a.maxUncounted = Math.max(a.maxUncounted, live);
      }
    }
    this.lastLive[id] = live;
    target.inventory = {
      epoch: snap.epoch,
      seq: snap.seq,
      appliedAt: now,
      capacityBytes: snap.capacityBytes,
      usedBytes: snap.usedBytes,
      datasets,
      listing,
      blocks,
      bytes,
      expiredReported: false,
    };
    return { kind: 'applied', reason };
  }

  /** The node's NodeCache is gone: it holds nothing until a new snapshot arrives. */
  removeInventory(node: string): boolean {
    const state = this.nodes.get(node);
    if (!state?.inventory) return false;
    for (const a of this.areasOf(state.id)) this.uncount(a, state);
    this.clearInventory(state);
    return true;
  }

  /** The epoch and seq in force for a node, or undefined. */
  position(node: string): { epoch: string; seq: number; appliedAt: number } | undefined {
    const inv = this.nodes.get(node)?.inventory;
    return inv && { epoch: inv.epoch, seq: inv.seq, appliedAt: inv.appliedAt };
  }

  isLive(node: string, now: number): boolean {
    return this.live(this.nodes.get(node)?.inventory, now);
  }

  /** Bytes of `key` cached on `node`; 0 for unknown nodes and for inventories past their TTL. O(1). */
  cachedBytes(node: string, key: DatasetKey, now: number): number {
    const state = this.nodes.get(node);
    const d = this.datasetIds.get(key);
    return state && d !== undefined && now <= this.lastLive[state.id] ? this.columns[d][state.id] : 0;
  }

  /** Dense ids of node names, for `LocalityView.fill`: -1 for a name the index does not know. */
  nodeIds(names: readonly string[]): Int32Array {
    const ids = new Int32Array(names.length);
    for (let i = 0; i < names.length; i++) ids[i] = this.nodes.get(names[i])?.id ?? -1;
    return ids;
  }

  /**
   * `key` (or the slice of it, unless whole) at `now`, for many nodes: the areas' bytes are read once
   * here, so each `fill` is a few typed-array reads (and, for a slice, the node's blocks in it).
   */
  view(key: DatasetKey, slice: Slice | undefined, now: number): LocalityView {
    return this.viewOver(this.areas, key, slice, now);
  }

  /** A view whose areas' bytes are read for `areas` only (one node's zone and region). */
  private viewOver(areas: readonly Area[], key: DatasetKey, slice: Slice | undefined, now: number): LocalityView {
    const d = this.datasetIds.get(key);
    if (d === undefined) return NO_VIEW;
    const cat = this.catalog.get(key);
    const total = cat?.totalBytes ?? Infinity;
    // Per area, the whole Dataset's bytes there (capped at its size), and for a slice the slice's.
    const areaWhole = new Float64Array(this.areas.length);
    const sliced = slice !== undefined && !slice.whole && !!cat?.totalBytes;
    if (!sliced) {
      for (const a of areas) areaWhole[a.id] = Math.min(total, this.holdings(a, d, now).wholeBytes(cat));
      return new WholeView(now, total, this.columns[d], this.lastLive, this.zoneOf, this.regionOf, areaWhole);
    }
    const areaSlice = new Float64Array(this.areas.length);
    const share = slice.bytes / cat.totalBytes!;
    const bytesIn = new SliceBytes(slice, cat);
    for (const a of areas) {
      const held = this.holdings(a, d, now);
      areaWhole[a.id] = Math.min(total, held.wholeBytes(cat));
      areaSlice[a.id] = held.sliceBytesOf(slice, bytesIn, share);
    }
    return new SliceView(
      now,
      total,
      this.columns[d],
      this.lastLive,
      this.zoneOf,
      this.regionOf,
      areaWhole,
      areaSlice,
      this.blockWords[d],
      slice.bytes,
      share,
      bytesIn,
    );
  }

  /** Bytes of `key` on the node, in its zone and in its region; each capped at the Dataset's size. */
  locality(node: string, key: DatasetKey, now: number): Locality {
    return this.sliceLocality(node, key, undefined, now);
  }

  /**
   * Bytes of a slice of `key` on the node, in its zone and in its region: the slice's blocks in the
   * block sets (O(words the slice's ranges span)), or, where only a byte count is known, that count's
   * pro-rata share. Each is at most the slice's bytes and at most what `locality` answers; a whole
   * slice answers exactly what `locality` does. For many nodes, `view` reads the areas once.
   */
  sliceLocality(node: string, key: DatasetKey, slice: Slice | undefined, now: number): Locality {
    const out = { onNode: 0, inZone: 0, inRegion: 0 };
    const state = this.nodes.get(node);
    if (!state) return out;
    // A view of the node's own areas only.
    return this.viewOver(this.areasOf(state.id), key, slice, now).fill(state.id, out);
  }

  /** Nodes whose inventory passed its TTL since the last call (each reported once per snapshot). */
  expire(now: number): string[] {
    const expired: string[] = [];
    for (const [name, state] of this.nodes) {
      const inv = state.inventory;
      if (inv && !inv.expiredReported && !this.live(inv, now)) {
        inv.expiredReported = true;
        expired.push(name);
      }
    }
    return expired;
  }

  stats(now: number): IndexStats {
    let inventories = 0;
    let liveInventories = 0;
    let blocks = 0;
    let bytes = 0;
    for (const state of this.nodes.values()) {
      const inv = state.inventory;
      if (!inv) continue;
      inventories++;
      if (!this.live(inv, now)) continue;
      liveInventories++;
      blocks += inv.blocks;
      bytes += inv.bytes;
    }
    return { nodes: this.nodes.size, datasets: this.catalog.size, inventories, liveInventories, blocks, bytes };
  }

  /** The one expiry rule: an inventory counts until `ttlMs` after it was applied, inclusive. */
  private live(inv: Inventory | undefined, now: number): boolean {
    return inv !== undefined && now <= inv.appliedAt + this.ttlMs;
  }

  /** The area's holdings of Dataset `d`, counting exactly the members live at `now`. */
  private holdings(a: Area, d: number, now: number): AreaHoldings {
    if (!(now <= a.minCounted && now > a.maxUncounted)) this.sync(a, now);
    return a.held[d] ?? EMPTY_HOLDINGS;
  }

  /** Recounts the members whose liveness at `now` differs from the area's counting instant. */
  private sync(a: Area, now: number): void {
    let minCounted = Infinity;
    let maxUncounted = -Infinity;
    for (const m of a.members) {
      const state = this.states[m]!;
      if (!state.inventory) continue;
      const live = this.lastLive[m];
      const counts = now <= live;
      if (counts !== a.counted.has(m)) {
        this.contribute(a, state.inventory.listing, counts ? +1 : -1);
        if (counts) a.counted.add(m);
        else a.counted.delete(m);
      }
      if (counts) minCounted = Math.min(minCounted, live);
      else maxUncounted = Math.max(maxUncounted, live);
    }
    a.countedAt = now;
    a.minCounted = minCounted;
    a.maxUncounted = maxUncounted;
  }

  /** Adds (+1) or removes (-1) entries from an area's holdings. */
  private contribute(a: Area, entries: readonly Entry[], sign: 1 | -1): void {
    for (const e of entries) {
      if (sign > 0) this.holdingsOf(a, e.id).add(this.holding(e));
      else a.held[e.id]?.remove(this.holding(e));
    }
  }

  private holdingsOf(a: Area, d: number): AreaHoldings {
    return (a.held[d] ??= new AreaHoldings());
  }

  /** An entry counts its blocks only when they were encoded against the Dataset's current catalog. */
  private holding(e: Entry): Holding {
    return matches(e, this.catalogs[e.id]) ? e : { bytes: e.bytes };
  }

  private *countedEntries(a: Area, key: DatasetKey): Iterable<Holding> {
    for (const m of a.counted) {
      const e = this.states[m]!.inventory?.datasets.get(key);
      if (e) yield matches(e, this.catalogs[e.id]) ? e : { bytes: e.bytes };
    }
  }

  /** Dataset `d`'s blocks are now read against a different catalog: its block sets and area holdings are rebuilt. */
  private recount(d: number): void {
    const key = this.datasetKeyOf(d);
    const cat = this.catalogs[d];
    const words = (this.blockWords[d] = new BlockWords(Math.ceil((cat?.blockCount ?? 0) / 32)));
    for (let id = 0; id < this.states.length; id++) {
      const e = this.states[id]?.inventory?.datasets.get(key);
      if (e && matches(e, cat)) words.set(id, e.words!);
    }
    for (const a of this.areas) {
      if (!a.held[d]) continue;
      const held = new AreaHoldings();
      for (const h of this.countedEntries(a, key)) held.add(h);
      a.held[d] = held;
    }
  }

  private datasetKeyOf(d: number): DatasetKey {
    return this.datasetKeys[d];
  }

  private datasetId(key: DatasetKey): number {
    let id = this.datasetIds.get(key);
    if (id === undefined) {
      id = this.columns.length;
      this.datasetIds.set(key, id);
      this.datasetKeys.push(key);
      this.columns.push(new Float64Array(this.capacity));
      this.blockWords.push(new BlockWords(1));
      this.catalogs.push(undefined);
    }
    return id;
  }

  private state(name: string): NodeState {
    let state = this.nodes.get(name);
    if (!state) {
      const id = this.freeIds.pop() ?? this.states.length;
      if (id >= this.capacity) this.grow(Math.max(id + 1, this.capacity * 2));
      state = { name, id };
      this.nodes.set(name, state);
      this.states[id] = state;
      this.lastLive[id] = -Infinity;
      this.zoneOf[id] = NO_AREA;
      this.regionOf[id] = NO_AREA;
    }
    return state;
  }

  private grow(capacity: number): void {
    const widen = (a: Float64Array, fill: number) => {
      const b = new Float64Array(capacity).fill(fill);
      b.set(a);
      return b;
    };
    const widenIds = (a: Int32Array) => {
      const b = new Int32Array(capacity).fill(NO_AREA);
      b.set(a);
      return b;
    };
    this.lastLive = widen(this.lastLive, -Infinity);
    this.zoneOf = widenIds(this.zoneOf);
    this.regionOf = widenIds(this.regionOf);
    for (let d = 0; d < this.columns.length; d++) this.columns[d] = widen(this.columns[d], 0);
    this.capacity = capacity;
  }

  private area(name: string): number {
    let id = this.areaIds.get(name);
    if (id === undefined) {
      id = this.areas.length;
      this.areaIds.set(name, id);
      this.areas.push({ id, members: new Set(), counted: new Set(), countedAt: -Infinity, minCounted: Infinity, maxUncounted: -Infinity, held: [] });
    }
    return id;
  }

  private areasOf(id: number): Area[] {
    const out: Area[] = [];
    if (this.zoneOf[id] !== NO_AREA) out.push(this.areas[this.zoneOf[id]]);
    if (this.regionOf[id] !== NO_AREA) out.push(this.areas[this.regionOf[id]]);
    return out;
  }

  private joinAreas(state: NodeState): void {
    const live = this.lastLive[state.id];
    for (const a of this.areasOf(state.id)) {
      a.members.add(state.id);
      if (!state.inventory) continue;
      if (a.countedAt <= live) {
        this.contribute(a, state.inventory.listing, +1);
        a.counted.add(state.id);
        a.minCounted = Math.min(a.minCounted, live);
      } else {
        a.maxUncounted = Math.max(a.maxUncounted, live);
      }
    }
  }

  private leaveAreas(state: NodeState): void {
    for (const a of this.areasOf(state.id)) {
      this.uncount(a, state);
      a.members.delete(state.id);
    }
    this.zoneOf[state.id] = NO_AREA;
    this.regionOf[state.id] = NO_AREA;
  }

  private uncount(a: Area, state: NodeState): void {
    if (!a.counted.delete(state.id)) return;
    this.contribute(a, state.inventory!.listing, -1);
  }

  private clearInventory(state: NodeState): void {
    for (const e of state.inventory?.listing ?? []) {
      this.columns[e.id][state.id] = 0;
      this.blockWords[e.id].clear(state.id);
    }
    state.inventory = undefined;
    this.lastLive[state.id] = -Infinity;
  }

  /**
   * Checks the snapshot's Datasets (the first problem wins) and marks the entries in force that it
   * lists; `keep` holds, per Dataset of the snapshot, the entry in force when it says the same.
   */
  private check(snap: InventorySnapshot, current: Inventory | undefined): { keep: Array<Entry | undefined> } | { invalid: string } {
    const mark = ++this.checks;
    const keep = new Array<Entry | undefined>(snap.datasets.length);
    let added: Set<DatasetKey> | undefined;
    // Snapshots tend to list Datasets in the order of the last one: walk its listing alongside, and
    // hash a key only when the orders differ.
    const inForce = current?.listing;
    let at = 0;
    for (let i = 0; i < snap.datasets.length; i++) {
      const d = snap.datasets[i];
      // The very object the entry in force was read from (see `sameObjectsUnchanged`): checked then,
      // it says the same now, so it is not read again.
      if (inForce && at < inForce.length && inForce[at].source === d) {
        const previous = inForce[at++];
        if (previous.listed === mark) return { invalid: `dataset ${d.dataset} appears twice` };
        previous.listed = mark;
        keep[i] = previous;
        continue;
      }
      let previous: Entry | undefined;
      if (inForce) {
        if (at < inForce.length && inForce[at].key !== d.dataset) at++;
        if (at < inForce.length && inForce[at].key === d.dataset) previous = inForce[at++];
        else previous = current.datasets.get(d.dataset);
      }
      if (previous) {
        if (previous.listed === mark) return { invalid: `dataset ${d.dataset} appears twice` };
        previous.listed = mark;
      } else {
        added ??= new Set();
        if (added.has(d.dataset)) return { invalid: `dataset ${d.dataset} appears twice` };
        added.add(d.dataset);
      }
      if (!Number.isFinite(d.bytes) || d.bytes < 0) return { invalid: `dataset ${d.dataset}: bytes must be a non-negative number, got ${d.bytes}` };
      const same = checkBlocks(d, previous);
      if (same === undefined) return { invalid: `dataset ${d.dataset}: block indices must be sorted and distinct` };
      keep[i] = same ? previous : undefined;
    }
    return { keep };
  }
}

function validateHeader(snap: InventorySnapshot): string | undefined {
  if (!snap.node) return 'node name is empty';
  if (!snap.epoch) return 'epoch is empty';
  if (!Number.isSafeInteger(snap.seq) || snap.seq < 0) return `seq must be a non-negative integer, got ${snap.seq}`;
  return undefined;
}

/**
 * Whether a snapshot's blocks are sorted and distinct (else undefined) and, with its other fields, say
 * the same as `entry` (true) or not (false). One pass over the blocks.
 */
function checkBlocks(d: DatasetInventory, entry: Entry | undefined): boolean | undefined {
  const blocks = d.blocks;
  const n = blocks?.length ?? 0;
  let same =
    entry !== undefined && entry.bytes === d.bytes && entry.catalogVersion === d.catalogVersion && entry.blockSize === d.blockSize && entry.blocks === n;
  // n distinct blocks, each in the entry's set of n blocks: the same set.
  const words = entry?.words;
  for (let i = 0; i < n; i++) {
    const b = blocks![i];
    if (i > 0 && b <= blocks![i - 1]) return undefined;
    if (same && (!words || b >>> 5 >= words.length || !(words[b >>> 5] & (1 << (b & 31))))) same = false;
  }
  return same;
}

function toWords(blocks: Uint32Array): Uint32Array {
  const words = new Uint32Array((blocks[blocks.length - 1] >>> 5) + 1);
  for (let i = 0; i < blocks.length; i++) words[blocks[i] >>> 5] |= 1 << (blocks[i] & 31);
  return words;
}

/** Whether an entry's block set was encoded against the Dataset's current catalog. */
function matches(entry: Entry, cat: DatasetCatalog | undefined): boolean {
  return (
    entry.words !== undefined &&
    !!cat?.blockSize &&
    cat.catalogVersion !== undefined &&
    entry.catalogVersion === cat.catalogVersion &&
    entry.blockSize === cat.blockSize
  );
}

/** Whether two catalogs of a Dataset read block sets alike (else the areas' counts are rebuilt). */
function sameBlocks(a: DatasetCatalog, b: DatasetCatalog): boolean {
  return a.totalBytes === b.totalBytes && a.blockSize === b.blockSize && a.blockCount === b.blockCount && a.catalogVersion === b.catalogVersion;
}

/** A Dataset (or slice) the index does not know: nothing anywhere. */
const NO_VIEW: LocalityView = { fill: (_id, out) => zero(out) };

/** The whole Dataset at one instant: a node's bytes from its column, its areas' from `areaWhole`. */
class WholeView implements LocalityView {
  constructor(
    private readonly now: number,
    private readonly total: number,
    private readonly column: Float64Array,
    private readonly lastLive: Float64Array,
    private readonly zoneOf: Int32Array,
    private readonly regionOf: Int32Array,
    private readonly areaWhole: Float64Array,
  ) {}

  fill(id: number, out: Locality): Locality {
    if (id < 0) return zero(out);
    const onNode = this.now <= this.lastLive[id] ? Math.min(this.total, this.column[id]) : 0;
    const z = this.zoneOf[id];
    const r = this.regionOf[id];
    const inZone = z === NO_AREA ? onNode : Math.max(onNode, this.areaWhole[z]);
    out.onNode = onNode;
    out.inZone = inZone;
    out.inRegion = r === NO_AREA ? inZone : Math.max(inZone, this.areaWhole[r]);
    return out;
  }
}

/**
 * A slice at one instant: a node's bytes of it from its block set (or its byte count's pro-rata share
 * where its blocks are not known against the catalog), its areas' from `areaSlice`; the whole
 * Dataset's bytes bound the slice's on each tier.
 */
class SliceView implements LocalityView {
  constructor(
    private readonly now: number,
    private readonly total: number,
    private readonly column: Float64Array,
    private readonly lastLive: Float64Array,
    private readonly zoneOf: Int32Array,
    private readonly regionOf: Int32Array,
    private readonly areaWhole: Float64Array,
    private readonly areaSlice: Float64Array,
    /** The nodes' block sets where they were encoded against the catalog. */
    private readonly words: BlockWords,
    private readonly sliceBytes: number,
    private readonly share: number,
    private readonly bytesIn: SliceBytes,
  ) {}

  fill(id: number, out: Locality): Locality {
    if (id < 0) return zero(out);
    const live = this.now <= this.lastLive[id];
    const wholeOnNode = live ? Math.min(this.total, this.column[id]) : 0;
    const sliceBytes = this.sliceBytes;
    // Where the node's blocks are not known against the catalog, its byte count (0 for no entry) is prorated.
    const at = live ? this.words.at(id) : -1;
    const onNode = live
      ? Math.min(wholeOnNode, sliceBytes, at >= 0 ? this.bytesIn.of(this.words.words, at, this.words.stride) : this.column[id] * this.share)
      : 0;
    const z = this.zoneOf[id];
    const r = this.regionOf[id];
    let wholeInZone = wholeOnNode;
    let inZone = onNode;
    if (z !== NO_AREA) {
      wholeInZone = Math.max(wholeOnNode, this.areaWhole[z]);
      inZone = Math.min(Math.max(onNode, this.areaSlice[z]), wholeInZone, sliceBytes);
    }
    let inRegion = inZone;
    if (r !== NO_AREA) {
      const wholeInRegion = Math.max(wholeInZone, this.areaWhole[r]);
      inRegion = Math.min(Math.max(inZone, this.areaSlice[r]), wholeInRegion, sliceBytes);
    }
    out.onNode = onNode;
    out.inZone = inZone;
    out.inRegion = inRegion;
    return out;
  }
}

function zero(out: Locality): Locality {
  out.onNode = 0;
  out.inZone = 0;
  out.inRegion = 0;
  return out;
}
