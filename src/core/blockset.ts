// The block-set codec of NodeCache objects: a dataset's cached block indices, as a bitset or as runs,
// whichever is smaller, in base64. Dense random sets favour the bitset (blockCount/8 bytes); sets
// made of long contiguous ranges, which sequential readers leave behind, favour runs.
//
// Layout: kind byte (1 = bitset, 2 = runs), varint blockCount, then
//   bitset: ceil(blockCount / 8) bytes, bit i of byte i>>3 (least significant first) = block i;
//   runs:   varint run count, then per run varint gap (start - previous end) and varint length - 1.

const BITSET = 1;
const RUNS = 2;

export class BlockSetError extends Error {}

export function encodeBlockSet(blocks: ArrayLike<number>, blockCount: number): string {
  if (!Number.isSafeInteger(blockCount) || blockCount < 0) throw new BlockSetError(`blockCount must be a non-negative integer, got ${blockCount}`);
  let previous = -1;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    if (!Number.isInteger(b) || b <= previous || b >= blockCount) {
      throw new BlockSetError(`block indices must be sorted, distinct integers in [0, ${blockCount}); found ${b} after ${previous}`);
    }
    previous = b;
  }
  const runs = encodeRuns(blocks, blockCount);
  const bitsetSize = 1 + varintSize(blockCount) + Math.ceil(blockCount / 8);
  return toBase64(runs.length <= bitsetSize ? runs : encodeBitset(blocks, blockCount));
}

/** Decodes to sorted, distinct block indices; throws BlockSetError naming what is wrong. */
export function decodeBlockSet(encoded: string): Uint32Array {
  return decodeBlockSetWithCount(encoded).blocks;
}

export function decodeBlockSetWithCount(encoded: string): { blockCount: number; blocks: Uint32Array } {
  const bytes = fromBase64(encoded);
  const reader = new Reader(bytes);
  const kind = reader.byte();
  const blockCount = reader.varint();
  if (kind === BITSET) {
    const size = Math.ceil(blockCount / 8);
    if (bytes.length !== reader.pos + size) throw new BlockSetError(`bitset of ${blockCount} blocks needs ${size} bytes, found ${bytes.length - reader.pos}`);
    const out: number[] = [];
    for (let i = 0; i < size; i++) {
      const byte = bytes[reader.pos + i];
      if (byte === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out.push(i * 8 + bit);
    }
    if (out.length > 0 && out[out.length - 1] >= blockCount)
      throw new BlockSetError(`bitset sets block ${out[out.length - 1]} beyond blockCount ${blockCount}`);
    return { blockCount, blocks: Uint32Array.from(out) };
  }
  if (kind === RUNS) {
    const count = reader.varint();
    const out: number[] = [];
    let end = 0;
    for (let r = 0; r < count; r++) {
      const start = end + reader.varint();
      const length = reader.varint() + 1;
      if (start + length > blockCount) throw new BlockSetError(`run ${start}+${length} exceeds blockCount ${blockCount}`);
      if (r > 0 && start === end) throw new BlockSetError(`runs must be separated by at least one block`);
      for (let b = start; b < start + length; b++) out.push(b);
      end = start + length;
    }
    if (reader.pos !== bytes.length) throw new BlockSetError(`${bytes.length - reader.pos} trailing bytes after ${count} runs`);
    return { blockCount, blocks: Uint32Array.from(out) };
  }
  throw new BlockSetError(`unknown block-set kind ${kind}; expected 1 (bitset) or 2 (runs)`);
}

function encodeBitset(blocks: ArrayLike<number>, blockCount: number): Uint8Array {
  const header = [BITSET, ...varint(blockCount)];
  const out = new Uint8Array(header.length + Math.ceil(blockCount / 8));
  out.set(header);
  for (let i = 0; i < blocks.length; i++) out[header.length + (blocks[i] >> 3)] |= 1 << (blocks[i] & 7);
  return out;
}

function encodeRuns(blocks: ArrayLike<number>, blockCount: number): Uint8Array {
  const body: number[] = [];
  let runs = 0;
  let end = 0;
  for (let i = 0; i < blocks.length;) {
    const start = blocks[i];
    let j = i + 1;
    while (j < blocks.length && blocks[j] === blocks[j - 1] + 1) j++;
    body.push(...varint(start - end), ...varint(j - i - 1));
    end = start + (j - i);
    runs++;
    i = j;
  }
  return Uint8Array.from([RUNS, ...varint(blockCount), ...varint(runs), ...body]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function varintSize(n: number): number {
  return varint(n).length;
}

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new BlockSetError('block set is truncated');
    return this.bytes[this.pos++];
  }
  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    throw new BlockSetError('varint longer than 8 bytes');
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

function fromBase64(encoded: string): Uint8Array {
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) throw new BlockSetError('block set is not valid base64');
  const binary = atob(encoded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
