// The locality index: which node caches which bytes of which Dataset, fed by NodeCache snapshots.
// Every update is a full per-node snapshot (epoch, seq); time is passed in, never read.
import type { ApplyOutcome, DatasetCatalogue, DatasetInventory, DatasetKey, InventorySnapshot, NodeTopology } from './types.js';

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
  catalogueGeneration: number;
  computedAt: number;
  validUntil: number;
  bytes: number;
}

export class LocalityIndex {
  readonly ttlMs: number;
  private readonly nodes = new Map<string, NodeState>();
  private readonly catalogue = new Map<DatasetKey, DatasetCatalogue>();
  private readonly areas = new Map<string, Area>();
  private catalogueGeneration = 0;
  /** The latest `now` an area's bytes were computed at (see `unchangedSince`). */
  private latestAreaQuery = -Infinity;
  /** Snapshots checked so far: marks the entries a snapshot lists. */
  private checks = 0;
  /** Per Dataset of the snapshot last checked, the entry in force when it says the same, else undefined. */
  private keep: Array<Entry | undefined> = [];

  constructor(opts: IndexOptions) {
    if (!(opts.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${opts.ttlMs}`);
    this.ttlMs = opts.ttlMs;
  }

  upsertDataset(cat: DatasetCatalogue): void {
    this.catalogue.set(cat.key, { ...cat });
    this.catalogueGeneration++;
  }

  removeDataset(key: DatasetKey): void {
    if (this.catalogue.delete(key)) this.catalogueGeneration++;
  }

  dataset(key: DatasetKey): DatasetCatalogue | undefined {
    return this.catalogue.get(key);
  }

  datasets(): IterableIterator<DatasetCatalogue> {
    return this.catalogue.values();
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
   * force (same bytes, catalogue version, block size and blocks) is kept as it is, and only the zone and
   * region bytes of the Datasets whose entries changed are recomputed.
   */
  applyInventory(snap: InventorySnapshot, now: number): ApplyOutcome {
    const state = this.nodes.get(snap.node);
    const current = state?.inventory;
    const invalid = validateHeader(snap) ?? this.check(snap, current);
    if (invalid) return { kind: 'rejected', reason: invalid };
    let reason: 'first' | 'newer-seq' | 'new-epoch' = 'first';
    if (current) {
      if (current.epoch === snap.epoch) {
        if (snap.seq <= current.seq) {
          return { kind: 'stale', reason: `seq ${snap.seq} is not newer than ${current.seq} in epoch ${snap.epoch}` };
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
    const listing = this.keep as Entry[];
    this.keep = [];
    let blocks = 0;
    let bytes = 0;
    for (let i = 0; i < snap.datasets.length; i++) {
      const d = snap.datasets[i];
      let entry = listing[i];
      if (entry) {
        if (!kept) this.touchAreas(target, d.dataset);
      } else {
        entry = { key: d.dataset, bytes: d.bytes, catalogVersion: d.catalogVersion, blockSize: d.blockSize, blocks: d.blocks?.length ?? 0, listed: this.checks };
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
    const inv = this.nodes.get(node)?.inventory;
    return inv !== undefined && now - inv.appliedAt <= this.ttlMs;
  }

  /** Bytes of `key` cached on `node`; 0 for unknown nodes and for inventories past their TTL. O(1). */
  cachedBytes(node: string, key: DatasetKey, now: number): number {
    const inv = this.nodes.get(node)?.inventory;
    if (!inv || now - inv.appliedAt > this.ttlMs) return 0;
    return inv.datasets.get(key)?.bytes ?? 0;
  }

  /** Bytes of `key` on the node, in its zone and in its region; each capped at the Dataset's size. */
  locality(node: string, key: DatasetKey, now: number): Locality {
    const total = this.catalogue.get(key)?.totalBytes ?? Infinity;
    const state = this.nodes.get(node);
    const inv = state?.inventory;
    const held = inv && now - inv.appliedAt <= this.ttlMs ? inv.datasets.get(key)?.bytes ?? 0 : 0;
    const onNode = Math.min(total, held);
    const inZone = state?.zone ? Math.max(onNode, Math.min(total, this.areaCached(state.zone, key, now))) : onNode;
    const inRegion = state?.region ? Math.max(inZone, Math.min(total, this.areaCached(state.region, key, now))) : inZone;
    return { onNode, inZone, inRegion };
  }

  /** Nodes whose inventory passed its TTL since the last call (each reported once per snapshot). */
  expire(now: number): string[] {
    const expired: string[] = [];
    for (const [name, state] of this.nodes) {
      const inv = state.inventory;
      if (inv && !inv.expiredReported && now - inv.appliedAt > this.ttlMs) {
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
      if (now - inv.appliedAt > this.ttlMs) continue;
      liveInventories++;
      blocks += inv.blocks;
      bytes += inv.bytes;
    }
    return { nodes: this.nodes.size, datasets: this.catalogue.size, inventories, liveInventories, blocks, bytes };
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
   * Checks the snapshot's Datasets (the first problem wins), marks the entries in force that it lists,
   * and notes in `keep` those it leaves unchanged.
   */
  private check(snap: InventorySnapshot, current: Inventory | undefined): string | undefined {
    const mark = ++this.checks;
    const keep: Array<Entry | undefined> = (this.keep = new Array(snap.datasets.length));
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
        if (previous.listed === mark) return `dataset ${d.dataset} appears twice`;
        previous.listed = mark;
      } else {
        added ??= new Set();
        if (added.has(d.dataset)) return `dataset ${d.dataset} appears twice`;
        added.add(d.dataset);
      }
      if (!Number.isFinite(d.bytes) || d.bytes < 0) return `dataset ${d.dataset}: bytes must be a non-negative number, got ${d.bytes}`;
      const same = checkBlocks(d, previous);
      if (same === undefined) return `dataset ${d.dataset}: block indices must be sorted and distinct`;
      keep[i] = same ? previous : undefined;
    }
    return undefined;
  }

  /**
   * Whether an inventory counted in every area union computed so far, and will count until the TTL
   * of a snapshot applied at `now` instead: then a Dataset entry it keeps leaves those unions as they were.
   */
  private unchangedSince(inv: Inventory, now: number): boolean {
    return now >= inv.appliedAt && Math.max(now, this.latestAreaQuery) - inv.appliedAt <= this.ttlMs;
  }

  /**
   * Bytes of `key` cached anywhere in an area: the union of the members' block sets where they were
   * encoded against the Dataset's current catalogue, else the largest byte count any member reports.
   * Cached until a member's entry for `key` changes, the members change, or the first contributing
   * inventory passes its TTL.
   */
  private areaCached(a: Area, key: DatasetKey, now: number): number {
    const cached = a.bytes.get(key);
    if (cached && cached.catalogueGeneration === this.catalogueGeneration && now >= cached.computedAt && now < cached.validUntil) {
      return cached.bytes;
    }
    if (now > this.latestAreaQuery) this.latestAreaQuery = now;
    const cat = this.catalogue.get(key);
    let union: Uint32Array | undefined;
    let maxBytes = 0;
    let validUntil = Infinity;
    for (const member of a.members) {
      const inv = member.inventory;
      if (!inv || now - inv.appliedAt > this.ttlMs) continue;
      const entry = inv.datasets.get(key);
      if (!entry) continue;
      validUntil = Math.min(validUntil, inv.appliedAt + this.ttlMs + 1);
      maxBytes = Math.max(maxBytes, entry.bytes);
      if (entry.words && cat?.blockSize && cat.catalogVersion !== undefined && entry.catalogVersion === cat.catalogVersion && entry.blockSize === cat.blockSize) {
        union = orInto(union, entry.words);
      }
    }
    const bytes = Math.max(maxBytes, union && cat ? unionBytes(union, cat) : 0);
    a.bytes.set(key, { catalogueGeneration: this.catalogueGeneration, computedAt: now, validUntil, bytes });
    return bytes;
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
  let same = entry !== undefined && entry.bytes === d.bytes && entry.catalogVersion === d.catalogVersion && entry.blockSize === d.blockSize && entry.blocks === n;
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

/** Bytes covered by a block bitset: full blocks, the last block of the catalogue counted as its real size. */
function unionBytes(words: Uint32Array, cat: DatasetCatalogue): number {
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

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
