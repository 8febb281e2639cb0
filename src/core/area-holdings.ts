// What a zone or region holds of one Dataset, kept current as snapshots apply: a reference count per
// block (how many counted members cache it) and the union bitset the counts imply, so the union's
// bytes and a slice's bytes there are read, not recomputed from the members on every change.
import { popcount, type Slice } from './slice.js';
import type { DatasetCatalog } from './types.js';

/** A member's entry for the Dataset as far as the area needs it. */
export interface Holding {
  bytes: number;
  /** The block bitset (32 blocks a word), when it was encoded against the current catalog. */
  words?: Uint32Array;
}

export class AreaHoldings {
  /** Members caching each block; grows to the largest block a member reports. */
  private counts = new Uint32Array(0);
  /** Bit b set ⇔ counts[b] > 0: the union of the members' block sets. */
  private union = new Uint32Array(0);
  private unionBlocks = 0;
  /** Byte counts of the counted members, and of those whose blocks are not known against the catalog. */
  private readonly reported = new SortedBytes();
  private readonly countedOnly = new SortedBytes();
  /** The union's bytes (NaN until computed after a change) and the last slice asked and its bytes. */
  private bytes = NaN;
  private slice?: Slice;
  private sliceBytes = 0;

  add(h: Holding): void {
    if (h.words) {
      const words = h.words;
      if (this.counts.length < words.length * 32) this.grow(words.length);
      for (let w = 0; w < words.length; w++) {
        let x = words[w];
        while (x !== 0) {
          const low = x & -x;
          const b = (w << 5) + (31 - Math.clz32(low));
          if (this.counts[b]++ === 0) {
            this.union[w] |= low;
            this.unionBlocks++;
          }
          x ^= low;
        }
      }
    } else {
      this.countedOnly.add(h.bytes);
    }
    this.reported.add(h.bytes);
    this.changed();
  }

  remove(h: Holding): void {
    if (h.words) {
      const words = h.words;
      for (let w = 0; w < words.length; w++) {
        let x = words[w];
        while (x !== 0) {
          const low = x & -x;
          const b = (w << 5) + (31 - Math.clz32(low));
          if (--this.counts[b] === 0) {
            this.union[w] &= ~low;
            this.unionBlocks--;
          }
          x ^= low;
        }
      }
    } else {
      this.countedOnly.remove(h.bytes);
    }
    this.reported.remove(h.bytes);
    this.changed();
  }

  /** Bytes held in the area: the union's, the last block at its real size, or the largest member's if more. */
  wholeBytes(cat: DatasetCatalog | undefined): number {
    if (Number.isNaN(this.bytes)) this.bytes = Math.max(this.reported.max(), this.unionBlocks > 0 && cat ? this.unionBytes(cat) : 0);
    return this.bytes;
  }

  /**
   * Bytes of a slice held in the area: the union's blocks in it, or the largest counted-only member's
   * pro-rata share. Every node of an area asks the same slice of a request, so the answer is kept.
   */
  sliceBytesOf(slice: Slice, bytesIn: SliceBytes, share: number): number {
    if (this.slice !== slice) {
      this.slice = slice;
      this.sliceBytes = Math.max(this.unionBlocks > 0 ? bytesIn.of(this.union) : 0, this.countedOnly.max() * share);
    }
    return this.sliceBytes;
  }

  /**
   * A member's holding changed from `before` to `after`: when both are block sets, only the blocks
   * that differ move (a snapshot usually gains or loses a few blocks of a thousand).
   */
  replace(before: Holding, after: Holding): void {
    if (!before.words || !after.words) {
      this.remove(before);
      this.add(after);
      return;
    }
    const a = before.words;
    const b = after.words;
    if (this.counts.length < b.length * 32) this.grow(b.length);
    const n = Math.max(a.length, b.length);
    for (let w = 0; w < n; w++) {
      const was = w < a.length ? a[w] : 0;
      const is = w < b.length ? b[w] : 0;
      let gone = was & ~is;
      while (gone !== 0) {
        const low = gone & -gone;
        if (--this.counts[(w << 5) + (31 - Math.clz32(low))] === 0) {
          this.union[w] &= ~low;
          this.unionBlocks--;
        }
        gone ^= low;
      }
      let come = is & ~was;
      while (come !== 0) {
        const low = come & -come;
        if (this.counts[(w << 5) + (31 - Math.clz32(low))]++ === 0) {
          this.union[w] |= low;
          this.unionBlocks++;
        }
        come ^= low;
      }
    }
    if (before.bytes !== after.bytes) {
      this.reported.remove(before.bytes);
      this.reported.add(after.bytes);
    }
    this.changed();
  }

  private changed(): void {
    this.bytes = NaN;
    this.slice = undefined;
  }

  private unionBytes(cat: DatasetCatalog): number {
    const blockSize = cat.blockSize!;
    let bytes = this.unionBlocks * blockSize;
    const last = (cat.blockCount ?? 0) - 1;
    if (cat.totalBytes !== undefined && last >= 0 && last < this.counts.length && this.counts[last] > 0) {
      bytes -= Math.max(0, cat.blockCount! * blockSize - cat.totalBytes);
    }
    return cat.totalBytes === undefined ? bytes : Math.min(bytes, cat.totalBytes);
  }

  private grow(words: number): void {
    const counts = new Uint32Array(words * 32);
    counts.set(this.counts);
    this.counts = counts;
    const union = new Uint32Array(words);
    union.set(this.union);
    this.union = union;
  }
}

/**
 * A slice's blocks in a catalog, ready to weigh many block sets (every node's, every area's): where
 * the catalog's last block falls and what it lacks of a full block are worked out once, so `of` is a
 * popcount over the words the slice's ranges span.
 */
export class SliceBytes {
  private readonly ranges: Uint32Array;
  private readonly blockSize: number;
  /** The catalog's last block, when the slice holds it (else -1), and the bytes it lacks of a full block. */
  private readonly last: number;
  private readonly padding: number;

  constructor(slice: Slice, cat: DatasetCatalog) {
    this.ranges = slice.ranges;
    this.blockSize = cat.blockSize!;
    const last = (cat.blockCount ?? 0) - 1;
    let holdsLast = false;
    for (let r = 0; r < this.ranges.length; r += 2) if (last >= this.ranges[r] && last < this.ranges[r + 1]) holdsLast = true;
    this.last = last >= 0 && holdsLast ? last : -1;
    this.padding = Math.max(0, (cat.blockCount ?? 0) * this.blockSize - cat.totalBytes!);
  }

  /**
   * Bytes of the slice's blocks set in the `length` words from `words[base]` (32 blocks a word), the
   * catalog's last block at its real size.
   */
  of(words: Uint32Array, base = 0, length = words.length): number {
    const ranges = this.ranges;
    const limit = length * 32;
    let count = 0;
    for (let r = 0; r < ranges.length; r += 2) {
      const start = ranges[r];
      const end = Math.min(ranges[r + 1], limit);
      if (start >= end) continue;
      const first = start >>> 5;
      const lastWord = (end - 1) >>> 5;
      for (let w = first; w <= lastWord; w++) {
        let x = words[base + w];
        if (x === 0) continue;
        if (w === first) x &= ~0 << (start & 31);
        if (w === lastWord && (end & 31) !== 0) x &= ~0 >>> (32 - (end & 31));
        count += popcount(x);
      }
    }
    const last = this.last;
    const hasLast = last >= 0 && last >>> 5 < length && (words[base + (last >>> 5)] & (1 << (last & 31))) !== 0;
    return Math.max(0, count * this.blockSize - (hasLast ? this.padding : 0));
  }
}

/**
 * A multiset of byte counts kept sorted, so that the largest is known after any member leaves:
 * O(log n) to find, a memmove of at most n doubles to insert or remove.
 */
class SortedBytes {
  private values = new Float64Array(4);
  private size = 0;

  max(): number {
    return this.size > 0 ? this.values[this.size - 1] : 0;
  }

  add(x: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.size * 2);
      grown.set(this.values);
      this.values = grown;
    }
    const at = this.lowerBound(x);
    this.values.copyWithin(at + 1, at, this.size);
    this.values[at] = x;
    this.size++;
  }

  remove(x: number): void {
    const at = this.lowerBound(x);
    if (at === this.size || this.values[at] !== x) throw new Error(`byte count ${x} was never added`);
    this.values.copyWithin(at, at + 1, this.size);
    this.size--;
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.values[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
