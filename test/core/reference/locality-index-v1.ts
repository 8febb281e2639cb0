// The locality index as it was before dense ids and per-block reference counts (issue 17), kept as
// the reference model the property tests compare the new index against.
// The locality index: which node caches which bytes of which Dataset, fed by NodeCache snapshots.
// Every update is a full per-node snapshot (epoch, seq); time is passed in, never read.
import { countInRanges, popcount, type Slice } from '../../../src/core/slice.js';
import type { ApplyOutcome, DatasetCatalog, DatasetInventory, DatasetKey, InventorySnapshot, NodeTopology } from '../../../src/core/types.js';

export interface IndexOptions {
  /** A node's inventory counts as empty once this long has passed since its last applied snapshot. */
  ttlMs: number;
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

interface Entry {
  key: DatasetKey;
  bytes: number;
  catalogVersion?: string;
  blockSize?: number;
  /** The cached blocks as a bitset (32 blocks a word), or absent when only a byte count was sent. */
  words?: Uint32Array;
  blocks: number;
  /** The last applied (or checked) snapshot that listed it, by the index's count of applies. */
  listed: number;
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
  topology?: NodeTopology;
  inventory?: Inventory;
  /** The areas of its topology, so that a look-up builds no key. */
  zone?: Area;
  region?: Area;
}

/** A zone (`zone:<z>`) or region (`region:<r>`): its members and, per Dataset, the cached bytes held there. */
interface Area {
  members: Set<NodeState>;
  /** Dropped per Dataset when a member's entry for it changes, and wholly when the members change. */
  bytes: Map<DatasetKey, AreaBytes>;
}

/** Cached union of a zone's or region's block sets for one Dataset. */
interface AreaBytes {
  catalogGeneration: number;
  computedAt: number;
  /** The last instant every contributing member still counts (the first to pass its TTL). */
  validUntil: number;
  bytes: number;
  /** The union of the members' block sets encoded against the current catalog (for slices). */
  union?: Uint32Array;
  /** The largest byte count of a member whose blocks are not known against the current catalog. */
  countedOnly: number;
  /** The slice last asked for here, and its bytes (the union's blocks in it, or countedOnly's share). */
  slice?: Slice;
  sliceBytes?: number;
}

export class LocalityIndex {
  readonly ttlMs: number;
  private readonly nodes = new Map<string, NodeState>();
  private readonly catalog = new Map<DatasetKey, DatasetCatalog>();
  private readonly areas = new Map<string, Area>();
  private catalogGeneration = 0;
  /** The latest `now` an area's bytes were computed at (see `unchangedSince`). */
  private latestAreaQuery = -Infinity;
  /** Snapshots checked so far: marks the entries a snapshot lists. */
  private checks = 0;

  constructor(opts: IndexOptions) {
    if (!(opts.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${opts.ttlMs}`);
    this.ttlMs = opts.ttlMs;
  }

  upsertDataset(cat: DatasetCatalog): void {
    this.catalog.set(cat.key, { ...cat });
    this.catalogGeneration++;
  }

  removeDataset(key: DatasetKey): void {
    if (this.catalog.delete(key)) this.catalogGeneration++;
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
    this.joinAreas(state);
  }

  /** The node is gone: its topology and its inventory go with it. */
  removeNode(name: string): void {
    const state = this.nodes.get(name);
    if (!state) return;
    this.leaveAreas(state);
    this.nodes.delete(name);
  }

  topology(node: string): NodeTopology | undefined {
    return this.nodes.get(node)?.topology;
  }

  /**
   * Replaces the node's inventory with the snapshot, in O(its size). A Dataset entry equal to the one in
   * force (same bytes, catalog version, block size and blocks) is kept as it is, and only the zone and
   * region bytes of the Datasets whose entries changed are recomputed.
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
        // As the index: the applied seq again is seen (a resync or a spec change), an older one stale.
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
    const kept = current !== undefined && this.unchangedSince(current, now);
    // The entries in force are updated in place: the snapshot was checked whole, nothing can fail now.
    const datasets = current?.datasets ?? new Map<DatasetKey, Entry>();
    const listing = checked.keep as Entry[];
    let blocks = 0;
    let bytes = 0;
    for (let i = 0; i < snap.datasets.length; i++) {
      const d = snap.datasets[i];
      let entry = listing[i];
      if (entry) {
        if (!kept) this.touchAreas(target, d.dataset);
      } else {
        entry = {
          key: d.dataset,
          bytes: d.bytes,
          catalogVersion: d.catalogVersion,
          blockSize: d.blockSize,
          blocks: d.blocks?.length ?? 0,
          listed: this.checks,
        };
        if (d.blocks && d.blocks.length > 0) entry.words = toWords(d.blocks);
        datasets.set(d.dataset, entry);
        listing[i] = entry;
        this.touchAreas(target, d.dataset);
      }
      blocks += entry.blocks;
      bytes += d.bytes;
    }
    if (current) {
      for (const entry of current.listing) {
        if (entry.listed === this.checks) continue;
        datasets.delete(entry.key);
        this.touchAreas(target, entry.key);
      }
    }
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
    for (const key of state.inventory.datasets.keys()) this.touchAreas(state, key);
    state.inventory = undefined;
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
    const inv = this.nodes.get(node)?.inventory;
    return this.live(inv, now) ? (inv!.datasets.get(key)?.bytes ?? 0) : 0;
  }

  /** Bytes of `key` on the node, in its zone and in its region; each capped at the Dataset's size. */
  locality(node: string, key: DatasetKey, now: number): Locality {
    const total = this.catalog.get(key)?.totalBytes ?? Infinity;
    const state = this.nodes.get(node);
    const onNode = Math.min(total, this.cachedBytes(node, key, now));
    const inZone = state?.zone ? Math.max(onNode, Math.min(total, this.areaHoldings(state.zone, key, now).bytes)) : onNode;
    const inRegion = state?.region ? Math.max(inZone, Math.min(total, this.areaHoldings(state.region, key, now).bytes)) : inZone;
    return { onNode, inZone, inRegion };
  }

  /**
   * Bytes of a slice of `key` on the node, in its zone and in its region: the slice's blocks in the
   * block sets (O(words the slice's ranges span)), or, where only a byte count is known, that count's
   * pro-rata share. Each is at most the slice's bytes and at most what `locality` answers; a whole
   * slice answers exactly what `locality` does.
   */
  sliceLocality(node: string, key: DatasetKey, slice: Slice, now: number): Locality {
    const cat = this.catalog.get(key);
    if (slice.whole || !cat?.totalBytes) return this.locality(node, key, now);
    const total = cat.totalBytes;
    const share = slice.bytes / total;
    const state = this.nodes.get(node);
    const inv = state?.inventory;
    const entry = this.live(inv, now) ? inv!.datasets.get(key) : undefined;
    // The whole Dataset's bytes, as `locality` computes them, bound the slice's.
    const wholeOnNode = Math.min(total, entry?.bytes ?? 0);
    let onNode = 0;
    if (entry) onNode = Math.min(wholeOnNode, slice.bytes, this.matches(entry, cat) ? this.bytesIn(entry.words, slice, cat) : entry.bytes * share);
    // Zone, then region: each at least the tier below, at most the whole Dataset's bytes there.
    let wholeInZone = wholeOnNode;
    let inZone = onNode;
    if (state?.zone) {
      const held = this.areaHoldings(state.zone, key, now);
      wholeInZone = Math.max(wholeOnNode, Math.min(total, held.bytes));
      inZone = Math.min(Math.max(onNode, this.areaSliceBytes(held, slice, cat, share)), wholeInZone, slice.bytes);
    }
    let inRegion = inZone;
    if (state?.region) {
      const held = this.areaHoldings(state.region, key, now);
      const wholeInRegion = Math.max(wholeInZone, Math.min(total, held.bytes));
      inRegion = Math.min(Math.max(inZone, this.areaSliceBytes(held, slice, cat, share)), wholeInRegion, slice.bytes);
    }
    return { onNode, inZone, inRegion };
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
  private lastLive(inv: Inventory): number {
    return inv.appliedAt + this.ttlMs;
  }

  private live(inv: Inventory | undefined, now: number): boolean {
    return inv !== undefined && now <= this.lastLive(inv);
  }

  /**
   * An area's bytes of a slice: the union's blocks in it, or the largest counted-only member's share.
   * Every node of an area asks the same slice of a request, so the answer is kept with the union.
   */
  private areaSliceBytes(held: AreaBytes, slice: Slice, cat: DatasetCatalog, share: number): number {
    if (held.slice !== slice) {
      held.slice = slice;
      held.sliceBytes = Math.max(this.bytesIn(held.union, slice, cat), held.countedOnly * share);
    }
    return held.sliceBytes!;
  }

  /** Whether an entry's block set was encoded against the Dataset's current catalog. */
  private matches(entry: Entry, cat: DatasetCatalog | undefined): entry is Entry & { words: Uint32Array } {
    return (
      entry.words !== undefined &&
      !!cat?.blockSize &&
      cat.catalogVersion !== undefined &&
      entry.catalogVersion === cat.catalogVersion &&
      entry.blockSize === cat.blockSize
    );
  }

  /** Bytes of the slice's blocks set in `words`, the catalog's last block at its real size. */
  private bytesIn(words: Uint32Array | undefined, slice: Slice, cat: DatasetCatalog): number {
    if (!words) return 0;
    const last = (cat.blockCount ?? 0) - 1;
    const { count, hasLast } = countInRanges(words, slice.ranges, last);
    const padding = hasLast ? Math.max(0, (cat.blockCount ?? 0) * cat.blockSize! - cat.totalBytes!) : 0;
    return Math.max(0, count * cat.blockSize! - padding);
  }

  private state(name: string): NodeState {
    let state = this.nodes.get(name);
    if (!state) {
      state = {};
      this.nodes.set(name, state);
    }
    return state;
  }

  private area(name: string): Area {
    let a = this.areas.get(name);
    if (!a) {
      a = { members: new Set(), bytes: new Map() };
      this.areas.set(name, a);
    }
    return a;
  }

  private joinAreas(state: NodeState): void {
    const t = state.topology;
    state.zone = t?.zone ? this.area(`zone:${t.zone}`) : undefined;
    state.region = t?.region ? this.area(`region:${t.region}`) : undefined;
    for (const a of [state.zone, state.region]) {
      if (!a) continue;
      a.members.add(state);
      a.bytes.clear();
    }
  }

  private leaveAreas(state: NodeState): void {
    for (const a of [state.zone, state.region]) {
      if (!a) continue;
      a.members.delete(state);
      a.bytes.clear();
    }
    state.zone = undefined;
    state.region = undefined;
  }

  /** What the node's areas hold of `key` may have changed. */
  private touchAreas(state: NodeState, key: DatasetKey): void {
    state.zone?.bytes.delete(key);
    state.region?.bytes.delete(key);
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

  /**
   * Whether an inventory counted in every area union computed so far, and will count until the TTL
   * of a snapshot applied at `now` instead: then a Dataset entry it keeps leaves those unions as they were.
   */
  private unchangedSince(inv: Inventory, now: number): boolean {
    return now >= inv.appliedAt && this.live(inv, Math.max(now, this.latestAreaQuery));
  }

  /**
   * What an area holds of `key`: the union of the members' block sets where they were encoded against
   * the Dataset's current catalog, and the bytes that makes, or the largest byte count any member
   * reports if more. Cached until a member's entry for `key` changes, the members change, or the
   * first contributing inventory passes its TTL.
   */
  private areaHoldings(a: Area, key: DatasetKey, now: number): AreaBytes {
    const cached = a.bytes.get(key);
    if (cached && cached.catalogGeneration === this.catalogGeneration && now >= cached.computedAt && now <= cached.validUntil) {
      return cached;
    }
    if (now > this.latestAreaQuery) this.latestAreaQuery = now;
    const cat = this.catalog.get(key);
    let union: Uint32Array | undefined;
    let maxBytes = 0;
    let countedOnly = 0;
    let validUntil = Infinity;
    for (const member of a.members) {
      const inv = member.inventory;
      if (!this.live(inv, now)) continue;
      const entry = inv!.datasets.get(key);
      if (!entry) continue;
      validUntil = Math.min(validUntil, this.lastLive(inv!));
      maxBytes = Math.max(maxBytes, entry.bytes);
      if (this.matches(entry, cat)) union = orInto(union, entry.words);
      else countedOnly = Math.max(countedOnly, entry.bytes);
    }
    const bytes = Math.max(maxBytes, union && cat ? unionBytes(union, cat) : 0);
    const held: AreaBytes = { catalogGeneration: this.catalogGeneration, computedAt: now, validUntil, bytes, union, countedOnly };
    a.bytes.set(key, held);
    return held;
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

function orInto(acc: Uint32Array | undefined, words: Uint32Array): Uint32Array {
  if (!acc || acc.length < words.length) {
    const grown = new Uint32Array(words.length);
    if (acc) grown.set(acc);
    acc = grown;
  }
  for (let i = 0; i < words.length; i++) acc[i] |= words[i];
  return acc;
}

/** Bytes covered by a block bitset: full blocks, the last block of the catalog counted as its real size. */
function unionBytes(words: Uint32Array, cat: DatasetCatalog): number {
  let count = 0;
  for (let i = 0; i < words.length; i++) count += popcount(words[i]);
  const blockSize = cat.blockSize!;
  let bytes = count * blockSize;
  const last = (cat.blockCount ?? 0) - 1;
  if (cat.totalBytes !== undefined && last >= 0 && (words[last >>> 5] ?? 0) & (1 << (last & 31))) {
    bytes -= Math.max(0, cat.blockCount! * blockSize - cat.totalBytes);
  }
  return cat.totalBytes === undefined ? bytes : Math.min(bytes, cat.totalBytes);
}
