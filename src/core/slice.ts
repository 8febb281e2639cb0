// What part of a Dataset a pod reads: its slice. Declared as text (`shard 3/8`, `blocks 0-127,512-639`,
// `prefix logs/2024-01-01/`, `all`), resolved against the Dataset's catalog to a set of block
// ranges, which the index answers the cached bytes of. A slice that cannot be resolved is a problem
// for the pod's author, and the pod reads the whole Dataset: scoring fails open.
import type { PrefixBlocks, DatasetCatalog } from './types.js';

export type SliceSpec =
  | { kind: 'all' }
  /** The `index`-th (from 0) of `count` equal shares of the blocks, in block order. */
  | { kind: 'shard'; index: number; count: number }
  /** Block ranges as [first, end) pairs (the text form writes inclusive ends: `0-127`). */
  | { kind: 'blocks'; ranges: Array<[number, number]> }
  /** Top-level key prefixes recorded in the Dataset's catalog. */
  | { kind: 'prefix'; prefixes: string[] };

/** A slice resolved against a catalog: block ranges and what they weigh. */
export interface Slice {
  spec: SliceSpec;
  /** Sorted, disjoint, non-adjacent [start, end) pairs, flattened: start0, end0, start1, end1, … */
  ranges: Uint32Array;
  blocks: number;
  /** Bytes the slice covers in the catalog (the last block at its real size). */
  bytes: number;
  /** Covers every block: scored exactly as the whole Dataset. */
  whole: boolean;
}

/** Largest block index or shard count a slice may name: beyond any catalog the operator writes. */
const MAX_NUMBER = 2 ** 31;
const INT = /^(0|[1-9][0-9]{0,9})$/;

export function formatSlice(spec: SliceSpec): string {
  switch (spec.kind) {
    case 'all':
      return 'all';
    case 'shard':
      return `shard ${spec.index}/${spec.count}`;
    case 'blocks':
      return `blocks ${spec.ranges.map(([a, b]) => (b - a === 1 ? `${a}` : `${a}-${b - 1}`)).join(',')}`;
    case 'prefix':
      return `prefix ${spec.prefixes.join(',')}`;
  }
}

/** Parses the text of a slice annotation; the error says what is wrong and shows the forms. */
export function parseSlice(text: string): SliceSpec | { error: string } {
  const value = text.trim();
  if (value === 'all') return { kind: 'all' };
  const space = value.indexOf(' ');
  const kind = space < 0 ? value : value.slice(0, space);
  const rest = space < 0 ? '' : value.slice(space + 1).trim();
  if (kind === 'shard') {
    const m = /^([0-9]+)\/([0-9]+)$/.exec(rest);
    if (!m || !INT.test(m[1]) || !INT.test(m[2])) return fail(`"${value}" is no shard`);
    const index = Number(m[1]);
    const count = Number(m[2]);
    if (count < 1 || count > MAX_NUMBER) return { error: `"${value}": the shard count must be from 1 to ${MAX_NUMBER}` };
    if (index >= count) return { error: `"${value}": shard index ${index} is out of range; shards of ${count} are numbered 0 to ${count - 1}` };
    return { kind: 'shard', index, count };
  }
  if (kind === 'blocks') {
    if (rest === '') return fail(`"${value}" names no blocks`);
    const ranges: Array<[number, number]> = [];
    for (const part of rest.split(',')) {
      const m = /^\s*([0-9]+)(?:\s*-\s*([0-9]+))?\s*$/.exec(part);
      if (!m || !INT.test(m[1]) || (m[2] !== undefined && !INT.test(m[2]))) return fail(`"${part.trim()}" in "${value}" is no block range`);
      const first = Number(m[1]);
      const last = m[2] === undefined ? first : Number(m[2]);
      if (last < first || last >= MAX_NUMBER)
        return { error: `"${part.trim()}" in "${value}": a range runs from a first block to a last block not before it, e.g. 0-127` };
      ranges.push([first, last + 1]);
    }
    return { kind: 'blocks', ranges };
  }
  if (kind === 'prefix') {
    const prefixes = rest.split(',').map((p) => p.trim());
    if (rest === '' || prefixes.some((p) => p === '')) return fail(`"${value}" has an empty prefix`);
    return { kind: 'prefix', prefixes };
  }
  return fail(`"${value}" is no slice`);
}

/** A parse error that shows every form a slice takes. */
function fail(what: string): { error: string } {
  return {
    error: `${what}; write "all", "shard <i>/<n>" (e.g. shard 0/4), "blocks <first>-<last>,…" (e.g. blocks 0-127,512-639) or "prefix <p>,…" (e.g. prefix logs/2024-01-01/)`,
  };
}

/**
 * The slice's block ranges in a catalog. Needs the block count (and, for prefixes, the catalog's
 * prefix list); ranges past the last block and prefixes the catalog does not record are errors.
 */
export function resolveSlice(spec: SliceSpec, cat: DatasetCatalog | undefined): Slice | { error: string } {
  const blockCount = cat?.blockCount;
  if (spec.kind !== 'all' && (!cat?.blockSize || blockCount === undefined || cat.totalBytes === undefined)) {
    return { error: `Dataset ${cat?.key ?? ''} has no block catalog yet (status.catalog), so "${formatSlice(spec)}" cannot be located` };
  }
  const n = blockCount ?? 0;
  let pairs: Array<[number, number]>;
  switch (spec.kind) {
    case 'all':
      pairs = [[0, n]];
      break;
    case 'shard':
      pairs = [[shardStart(spec.index, spec.count, n), shardStart(spec.index + 1, spec.count, n)]];
      break;
    case 'blocks': {
      const beyond = spec.ranges.find(([, end]) => end > n);
      if (beyond) return { error: `"${formatSlice(spec)}" names block ${beyond[1] - 1}, but Dataset ${cat!.key} has ${n} blocks (0 to ${n - 1})` };
      pairs = spec.ranges;
      break;
    }
    case 'prefix': {
      pairs = [];
      for (const p of spec.prefixes) {
        const found = findPrefix(cat!.prefixes, p);
        if (!found) {
          const why = cat!.prefixesTruncated
            ? `its catalog records only the first ${cat!.prefixes?.length ?? 0} top-level prefixes`
            : `its catalog records no such top-level prefix`;
          return { error: `prefix "${p}" of Dataset ${cat!.key} cannot be located: ${why}; name a top-level prefix ending in "/", or use "blocks"` };
        }
        pairs.push([found.first, found.end]);
      }
      break;
    }
  }
  const ranges = normalise(pairs);
  let blocks = 0;
  for (let i = 0; i < ranges.length; i += 2) blocks += ranges[i + 1] - ranges[i];
  const whole = blocks === n;
  return { spec, ranges, blocks, bytes: whole ? (cat?.totalBytes ?? 0) : rangeBytes(ranges, blocks, cat!), whole };
}

/** Shard i of n starts at block floor(i × blocks / n): n shards cover every block exactly once. */
export function shardStart(index: number, count: number, blocks: number): number {
  return Math.floor((index * blocks) / count);
}

/** Sorts and merges [start, end) pairs, dropping empty ones. */
function normalise(pairs: ReadonlyArray<readonly [number, number]>): Uint32Array {
  // One range (a shard, a task's blocks) needs no sorting.
  if (pairs.length === 1) {
    const [a, b] = pairs[0];
    return b > a ? Uint32Array.of(a, b) : new Uint32Array(0);
  }
  const sorted = pairs.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [a, b] of sorted) {
    if (out.length > 0 && a <= out[out.length - 1]) out[out.length - 1] = Math.max(out[out.length - 1], b);
    else out.push(a, b);
  }
  return Uint32Array.from(out);
}

function findPrefix(list: readonly PrefixBlocks[] | undefined, prefix: string): PrefixBlocks | undefined {
  return list?.find((p) => p.prefix === prefix);
}

/** Bytes of `blocks` blocks in `ranges`; the catalog's last block counts at its real size. */
function rangeBytes(ranges: Uint32Array, blocks: number, cat: DatasetCatalog): number {
  const blockSize = cat.blockSize!;
  const n = cat.blockCount!;
  let bytes = blocks * blockSize;
  if (ranges.length > 0 && ranges[ranges.length - 1] === n) bytes -= Math.max(0, n * blockSize - cat.totalBytes!);
  return Math.min(bytes, cat.totalBytes!);
}

/**
 * Blocks set in a bitset (32 blocks a word) within `ranges`, and whether the catalog's last block
 * (`last`) is among them. O(words the ranges span).
 */
export function countInRanges(words: Uint32Array, ranges: Uint32Array, last: number): { count: number; hasLast: boolean } {
  let count = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    const start = ranges[r];
    const end = Math.min(ranges[r + 1], words.length * 32);
    if (start >= end) continue;
    const first = start >>> 5;
    const lastWord = (end - 1) >>> 5;
    for (let w = first; w <= lastWord; w++) {
      let x = words[w];
      if (x === 0) continue;
      if (w === first) x &= ~0 << (start & 31);
      if (w === lastWord && (end & 31) !== 0) x &= ~0 >>> (32 - (end & 31));
      count += popcount(x);
    }
  }
  const hasLast = last >= 0 && inRanges(ranges, last) && ((words[last >>> 5] ?? 0) & (1 << (last & 31))) !== 0;
  return { count, hasLast };
}

function inRanges(ranges: Uint32Array, block: number): boolean {
  for (let r = 0; r < ranges.length; r += 2) if (block >= ranges[r] && block < ranges[r + 1]) return true;
  return false;
}

export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
