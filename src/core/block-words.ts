// The block sets the nodes report of one Dataset, in one typed array: each node that has one holds a
// slot of `stride` words (32 blocks a word) while it reports blocks, so counting a slice for every node
// reads neighbouring memory, node after node, instead of a small array of its own per node.

export class BlockWords {
  /** Words a slot: enough for the catalog's blocks, and for the longest block set a node reported. */
  stride: number;
  words: Uint32Array;
  /** By node id: the first word of its slot, or -1. */
  private slotOf = new Int32Array(64).fill(-1);
  /** Slots given back, and how many were ever handed out. */
  private readonly free: number[] = [];
  private slots = 0;

  constructor(stride: number) {
    this.stride = Math.max(1, stride);
    this.words = new Uint32Array(this.stride * 16);
  }

  /** The first word of node `id`'s block set in `words`, or -1 when it has none here. */
  at(id: number): number {
    return id < this.slotOf.length ? this.slotOf[id] : -1;
  }

  /** Node `id` now reports the block set `bits` (32 blocks a word). */
  set(id: number, bits: Uint32Array): void {
    if (bits.length > this.stride) this.widen(bits.length);
    if (id >= this.slotOf.length) {
      const grown = new Int32Array(Math.max(id + 1, this.slotOf.length * 2)).fill(-1);
      grown.set(this.slotOf);
      this.slotOf = grown;
    }
    let at = this.slotOf[id];
    if (at < 0) {
      const slot = this.free.pop() ?? this.slots++;
      at = slot * this.stride;
      if (at + this.stride > this.words.length) {
        const grown = new Uint32Array(Math.max(at + this.stride, this.words.length * 2));
        grown.set(this.words);
        this.words = grown;
      }
      this.slotOf[id] = at;
    }
    this.words.set(bits, at);
    this.words.fill(0, at + bits.length, at + this.stride);
  }

  /** Node `id` reports no block set here any more. */
  clear(id: number): void {
    const at = this.at(id);
    if (at < 0) return;
    this.slotOf[id] = -1;
    this.free.push(at / this.stride);
  }

  /** A node reported blocks beyond the catalog's: every slot gets `stride` words. */
  private widen(stride: number): void {
    const words = new Uint32Array(Math.max(this.slots, 1) * stride);
    for (let id = 0; id < this.slotOf.length; id++) {
      const at = this.slotOf[id];
      if (at < 0) continue;
      const slot = at / this.stride;
      words.set(this.words.subarray(at, at + this.stride), slot * stride);
      this.slotOf[id] = slot * stride;
    }
    this.words = words;
    this.stride = stride;
  }
}
