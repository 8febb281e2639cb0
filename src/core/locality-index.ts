// The locality index: which node caches which bytes of which Dataset, fed by NodeCache snapshots.
// Every update is a full per-node snapshot (epoch, seq); time is passed in, never read.
import type { ApplyOutcome, DatasetCatalogue, DatasetKey, InventorySnapshot, NodeTopology } from './types.js';

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
  bytes: number;
  catalogVersion?: string;
  blockSize?: number;
  /** The cached blocks as a bitset (32 blocks a word), or absent when only a byte count was sent. */
  words?: Uint32Array;
  blocks: number;
}

interface Inventory {
  epoch: string;
  seq: number;
  appliedAt: number;
  capacityBytes?: number;
  usedBytes?: number;
  datasets: Map<DatasetKey, Entry>;
  blocks: number;
  bytes: number;
  expiredReported: boolean;
}

interface NodeState {
  topology?: NodeTopology;
  inventory?: Inventory;
}

/** Cached union of a zone's or region's block sets for one Dataset. */
interface AreaBytes {
  areaGeneration: number;
  catalogueGeneration: number;
  computedAt: number;
  validUntil: number;
  bytes: number;
}

export class LocalityIndex {
  readonly ttlMs: number;
  private readonly nodes = new Map<string, NodeState>();
  private readonly catalogue = new Map<DatasetKey, DatasetCatalogue>();
  /** Members of each area (`zone:<z>` / `region:<r>`) and a counter bumped whenever one changes. */
  private readonly areas = new Map<string, { members: Set<string>; generation: number }>();
  private readonly areaBytes = new Map<string, AreaBytes>();
  private catalogueGeneration = 0;

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
    this.leaveAreas(topology.name, state.topology);
    state.topology = { ...topology };
    this.joinAreas(topology.name, state.topology);
  }

  /** The node is gone: its topology and its inventory go with it. */
  removeNode(name: string): void {
    const state = this.nodes.get(name);
    if (!state) return;
    this.leaveAreas(name, state.topology);
    this.nodes.delete(name);
  }

  topology(node: string): NodeTopology | undefined {
    return this.nodes.get(node)?.topology;
  }

  applyInventory(snap: InventorySnapshot, now: number): ApplyOutcome {
    const invalid = validate(snap);
    if (invalid) return { kind: 'rejected', reason: invalid };
    const state = this.state(snap.node);
    const current = state.inventory;
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
    const datasets = new Map<DatasetKey, Entry>();
    let blocks = 0;
    let bytes = 0;
    for (const d of snap.datasets) {
      const entry: Entry = { bytes: d.bytes, catalogVersion: d.catalogVersion, blockSize: d.blockSize, blocks: d.blocks?.length ?? 0 };
      if (d.blocks && d.blocks.length > 0) entry.words = toWords(d.blocks);
      datasets.set(d.dataset, entry);
      blocks += entry.blocks;
      bytes += d.bytes;
    }
    state.inventory = {
      epoch: snap.epoch,
      seq: snap.seq,
      appliedAt: now,
      capacityBytes: snap.capacityBytes,
      usedBytes: snap.usedBytes,
      datasets,
      blocks,
      bytes,
      expiredReported: false,
    };
    this.touchAreas(state.topology);
    return { kind: 'applied', reason };
  }

  /** The node's NodeCache is gone: it holds nothing until a new snapshot arrives. */
  removeInventory(node: string): boolean {
    const state = this.nodes.get(node);
    if (!state?.inventory) return false;
    state.inventory = undefined;
    this.touchAreas(state.topology);
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
    const onNode = Math.min(total, this.cachedBytes(node, key, now));
    const topology = this.nodes.get(node)?.topology;
    const inZone = topology?.zone ? Math.max(onNode, Math.min(total, this.areaCached(`zone:${topology.zone}`, key, now))) : onNode;
    const inRegion = topology?.region ? Math.max(inZone, Math.min(total, this.areaCached(`region:${topology.region}`, key, now))) : inZone;
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

  private joinAreas(name: string, t: NodeTopology | undefined): void {
    for (const area of areasOf(t)) {
      let a = this.areas.get(area);
      if (!a) {
        a = { members: new Set(), generation: 0 };
        this.areas.set(area, a);
      }
      a.members.add(name);
      a.generation++;
    }
  }

  private leaveAreas(name: string, t: NodeTopology | undefined): void {
    for (const area of areasOf(t)) {
      const a = this.areas.get(area);
      if (!a) continue;
      a.members.delete(name);
      a.generation++;
    }
  }

  private touchAreas(t: NodeTopology | undefined): void {
    for (const area of areasOf(t)) {
      const a = this.areas.get(area);
      if (a) a.generation++;
    }
  }

  /**
   * Bytes of `key` cached anywhere in an area: the union of the members' block sets where they were
   * encoded against the Dataset's current catalogue, else the largest byte count any member reports.
   * Cached until a member changes or the first contributing inventory passes its TTL.
   */
  private areaCached(area: string, key: DatasetKey, now: number): number {
    const a = this.areas.get(area);
    if (!a) return 0;
    const cacheKey = `${area}\u0000${key}`;
    const cached = this.areaBytes.get(cacheKey);
    if (cached && cached.areaGeneration === a.generation && cached.catalogueGeneration === this.catalogueGeneration && now >= cached.computedAt && now < cached.validUntil) {
      return cached.bytes;
    }
    const cat = this.catalogue.get(key);
    let union: Uint32Array | undefined;
    let maxBytes = 0;
    let validUntil = Infinity;
    for (const member of a.members) {
      const inv = this.nodes.get(member)?.inventory;
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
    this.areaBytes.set(cacheKey, { areaGeneration: a.generation, catalogueGeneration: this.catalogueGeneration, computedAt: now, validUntil, bytes });
    return bytes;
  }
}

function areasOf(t: NodeTopology | undefined): string[] {
  const out: string[] = [];
  if (t?.zone) out.push(`zone:${t.zone}`);
  if (t?.region) out.push(`region:${t.region}`);
  return out;
}

function validate(snap: InventorySnapshot): string | undefined {
  if (!snap.node) return 'node name is empty';
  if (!snap.epoch) return 'epoch is empty';
  if (!Number.isSafeInteger(snap.seq) || snap.seq < 0) return `seq must be a non-negative integer, got ${snap.seq}`;
  const seen = new Set<DatasetKey>();
  for (const d of snap.datasets) {
    if (seen.has(d.dataset)) return `dataset ${d.dataset} appears twice`;
    seen.add(d.dataset);
    if (!Number.isFinite(d.bytes) || d.bytes < 0) return `dataset ${d.dataset}: bytes must be a non-negative number, got ${d.bytes}`;
    const blocks = d.blocks;
    if (blocks) {
      for (let i = 1; i < blocks.length; i++) {
        if (blocks[i] <= blocks[i - 1]) return `dataset ${d.dataset}: block indices must be sorted and distinct`;
      }
    }
  }
  return undefined;
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
