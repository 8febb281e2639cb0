// One node's modelled block cache: read-through, bounded in bytes, LRU or FIFO eviction, and the
// per-dataset view of what it holds that the node's agent publishes as its inventory.

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

  constructor(
    readonly capacityBytes: number,
    private readonly lru: boolean,
    private readonly numbering: BlockNumbering,
  ) {}

  /** Reads a block: true on a hit; on a miss the block is cached (read-through), evicting as needed. */
  read(dataset: number, block: number, bytes: number): boolean {
    const global = this.numbering.base(dataset) + block;
    const size = this.entries.get(global);
    if (size !== undefined) {
      if (this.lru) {
        this.entries.delete(global);
        this.entries.set(global, size);
      }
      return true;
    }
    if (bytes > this.capacityBytes) return false;
    while (this.usedBytes + bytes > this.capacityBytes) this.evictOldest();
    this.entries.set(global, bytes);
    this.usedBytes += bytes;
    let set = this.heldBlocks.get(dataset);
    if (!set) this.heldBlocks.set(dataset, (set = new Set()));
    set.add(block);
    this.heldBytes.set(dataset, (this.heldBytes.get(dataset) ?? 0) + bytes);
    this.changed.add(dataset);
    return false;
  }

  /** The cached block indices of a dataset and their bytes, or undefined when none is cached. */
  held(dataset: number): { blocks: Set<number>; bytes: number } | undefined {
    const blocks = this.heldBlocks.get(dataset);
    return blocks && { blocks, bytes: this.heldBytes.get(dataset)! };
  }

  get blockCount(): number {
    return this.entries.size;
  }

  private evictOldest(): void {
    const [global, bytes] = this.entries.entries().next().value as [number, number];
    this.entries.delete(global);
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
