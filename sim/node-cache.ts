// One node's modelled block cache: read-through, bounded in bytes, LRU or FIFO eviction, and the
// per-dataset view of what it holds that the node's agent publishes as its inventory. With the warm
// cache's options it also pins the blocks its pods will read (up to a share of capacity), gives up first
// the copies its zone holds enough of elsewhere (as the agent's zone copies), and counts blocks fetched
// ahead and never read.

/** Resolves a global block id to its dataset and block index (the engine numbers blocks globally). */
export interface BlockNumbering {
  datasetOf(global: number): number;
  base(dataset: number): number;
}

export class NodeCacheModel {
  /** Global block id → bytes, in eviction order (oldest first); a hit re-inserts under LRU. */
  private readonly entries = new Map<number, number>();
  /** Dataset → its cached block indices, for the inventory. */
  private readonly heldBlocks = new Map<number, Set<number>>();
  private readonly heldBytes = new Map<number, number>();
  usedBytes = 0;
  /** Datasets whose block set changed since the last inventory write. */
  readonly changed = new Set<number>();
  /** Warm cache: how many pods (bound or queued) will read each block; pins hold up to pinLimitBytes. */
  private demanded?: Map<number, number>;
  private pinLimitBytes = 0;
  /** Warm cache (peer): whether the zone holds enough copies of a global block without this node's. */
  private surplus?: (global: number, dataset: number, block: number) => boolean;
  /** Warm cache: blocks fetched ahead and not read since. */
  private readonly unread = new Map<number, number>();
  wastedPrefetchBytes = 0;

  constructor(
    readonly capacityBytes: number,
    private readonly lru: boolean,
    private readonly numbering: BlockNumbering,
  ) {}

  /** Reads a block: true on a hit; on a miss the block is cached (read-through), evicting as needed. */
  read(dataset: number, block: number, bytes: number): boolean {
    if (this.lookup(this.numbering.base(dataset) + block)) return true;
    this.insert(dataset, block, bytes);
    return false;
  }

  /** A hit (the block counts as used: LRU order, no longer unread), or false. */
  lookup(global: number): boolean {
    const size = this.entries.get(global);
    if (size === undefined) return false;
    if (this.lru) {
      this.entries.delete(global);
      this.entries.set(global, size);
    }
    if (this.unread.size > 0) this.unread.delete(global);
    return true;
  }

  has(global: number): boolean {
    return this.entries.has(global);
  }

  /** Caches a block not held, evicting as needed; a block larger than the cache is not kept. */
  insert(dataset: number, block: number, bytes: number, how: { prefetched?: boolean } = {}): void {
    const global = this.numbering.base(dataset) + block;
    if (bytes > this.capacityBytes || this.entries.has(global)) return;
    while (this.usedBytes + bytes > this.capacityBytes) this.evict();
    this.entries.set(global, bytes);
    if (how.prefetched) this.unread.set(global, bytes);
    this.usedBytes += bytes;
    let set = this.heldBlocks.get(dataset);
    if (!set) this.heldBlocks.set(dataset, (set = new Set()));
    set.add(block);
    this.heldBytes.set(dataset, (this.heldBytes.get(dataset) ?? 0) + bytes);
    this.changed.add(dataset);
  }

  /** Turns pinning on: blocks with demand are kept from eviction, up to `limitBytes` of them. */
  pinWithin(limitBytes: number): void {
    this.demanded = new Map();
    this.pinLimitBytes = limitBytes;
  }

  /** Turns zone copies on: among unpinned blocks, those `surplus` says the zone holds enough of elsewhere go first. */
  surplusWith(surplus: (global: number, dataset: number, block: number) => boolean): void {
    this.surplus = surplus;
  }

  /** A pod will read (+1) or no longer reads (-1) global blocks [from, to). */
  demand(from: number, to: number, delta: 1 | -1): void {
    const d = this.demanded!;
    for (let g = from; g < to; g++) {
      const count = (d.get(g) ?? 0) + delta;
      if (count === 0) d.delete(g);
      else d.set(g, count);
    }
  }

  /** Bytes fetched ahead and not read yet (wasted if the run ends so). */
  unreadPrefetchBytes(): number {
    let bytes = 0;
    for (const b of this.unread.values()) bytes += b;
    return bytes;
  }

  /** The cached block indices of a dataset and their bytes, or undefined when none is cached. */
  held(dataset: number): { blocks: Set<number>; bytes: number } | undefined {
    const blocks = this.heldBlocks.get(dataset);
    return blocks && { blocks, bytes: this.heldBytes.get(dataset)! };
  }

  get blockCount(): number {
    return this.entries.size;
  }

  /**
   * Evicts one block: the oldest surplus copy that is not pinned, else the oldest block not pinned. Pinned
   * are the held blocks with demand, in the order they were first wanted (pods in bind order, each
   * slice in order), up to the pinned share; beyond it, LRU/FIFO as usual.
   */
  private evict(): void {
    const oldest = this.entries.keys().next().value as number;
    if (this.demanded === undefined && this.surplus === undefined) return this.remove(oldest);
    const pinned = this.pinned();
    const unpinned = (eligible: (g: number) => boolean) => {
      for (const g of this.entries.keys()) if (!pinned.has(g) && eligible(g)) return g;
      return undefined;
    };
    const surplus = this.surplus;
    const spare = (g: number) => {
      const dataset = this.numbering.datasetOf(g);
      return surplus!(g, dataset, g - this.numbering.base(dataset));
    };
    this.remove((surplus && unpinned(spare)) ?? unpinned(() => true) ?? oldest);
  }

  private pinned(): Set<number> {
    const pinned = new Set<number>();
    let bytes = 0;
    for (const g of this.demanded?.keys() ?? []) {
      const size = this.entries.get(g);
      if (size === undefined) continue;
      if (bytes + size > this.pinLimitBytes) break;
      bytes += size;
      pinned.add(g);
    }
    return pinned;
  }

  private remove(global: number): void {
    const bytes = this.entries.get(global)!;
    this.entries.delete(global);
    if (this.unread.delete(global)) this.wastedPrefetchBytes += bytes;
    this.usedBytes -= bytes;
    const dataset = this.numbering.datasetOf(global);
    const set = this.heldBlocks.get(dataset)!;
    set.delete(global - this.numbering.base(dataset));
    const left = this.heldBytes.get(dataset)! - bytes;
    if (set.size === 0) {
      this.heldBlocks.delete(dataset);
      this.heldBytes.delete(dataset);
    } else {
      this.heldBytes.set(dataset, left);
    }
    this.changed.add(dataset);
  }
}
