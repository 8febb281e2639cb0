// Block layout. A Dataset's block i is the i-th fixed-size block of the key-ordered concatenation
// of its listed objects (ARCHITECTURE.md, "Block identity"), so one block may span the tail of one
// object and the heads of the next. A block is described by its parts: the (key, ETag, offset,
// length) ranges it is made of. That description is also its identity on disk (blockId), so a block
// stays valid across catalog versions for exactly as long as the bytes it names are unchanged.
import { createHash } from 'node:crypto';
import { blockCount, catalogVersion, sortObjects, type CatalogObject } from '../catalog/listing.js';

/** One object of a listing, as ListObjectsV2 returns it (ETag quoted, as S3 sends it). */
export interface ListedObject extends CatalogObject {
  lastModified?: Date;
}

export interface PlacedObject extends ListedObject {
  /** Offset of the object's first byte in the key-ordered concatenation. */
  start: number;
}

/** A Dataset's objects in key order, with the block size its indices are counted in. */
export interface Layout {
  bucket: string;
  prefix: string;
  version: string;
  blockSize: number;
  totalBytes: number;
  blockCount: number;
  objects: PlacedObject[];
  byKey: Map<string, PlacedObject>;
}

/** A byte range of one object version. */
export interface Part {
  key: string;
  etag: string;
  offset: number;
  length: number;
}

/** What a block holds: enough to fetch it again and to recognise it on disk after a restart. */
export interface BlockSpec {
  bucket: string;
  parts: Part[];
  /** Sum of the parts' lengths. */
  length: number;
  /** `ns/name` of the Dataset the block was fetched for: on start, which catalogs to load first. */
  dataset?: string;
}

/** The identity of a block: a digest of the bytes it names (bucket, keys, ETags, ranges). */
export function blockId(spec: Pick<BlockSpec, 'bucket' | 'parts'>): string {
  const h = createHash('sha256').update(spec.bucket);
  for (const p of spec.parts) h.update(`\0${p.key}\0${p.etag}\0${p.offset}\0${p.length}`);
  return h.digest('hex').slice(0, 40);
}

/**
 * Lays out a listing in the operator's key order, under the operator's catalog version of it,
 * so that block indices and versions agree with the Dataset's `status.catalog`.
 */
export function buildLayout(bucket: string, prefix: string, listing: readonly ListedObject[], blockSize: number): Layout {
  const count = blockCount(
    listing.reduce((n, o) => n + o.size, 0),
    blockSize,
  );
  const objects: PlacedObject[] = [];
  const byKey = new Map<string, PlacedObject>();
  let start = 0;
  for (const o of sortObjects(listing) as ListedObject[]) {
    const obj = { ...o, start };
    objects.push(obj);
    byKey.set(o.key, obj);
    start += o.size;
  }
  return { bucket, prefix, version: catalogVersion(listing), blockSize, totalBytes: start, blockCount: count, objects, byKey };
}

/** The parts of a Dataset's block `index`. */
export function datasetBlock(layout: Layout, index: number, dataset?: string): BlockSpec {
  const from = index * layout.blockSize;
  const to = Math.min(from + layout.blockSize, layout.totalBytes);
  if (!(index >= 0 && from < to)) throw new RangeError(`block ${index} is outside 0..${layout.blockCount - 1}`);
  const parts: Part[] = [];
  for (let i = objectAt(layout, from); i < layout.objects.length && layout.objects[i].start < to; i++) {
    const o = layout.objects[i];
    const a = Math.max(from, o.start);
    const b = Math.min(to, o.start + o.size);
    if (b > a) parts.push({ key: o.key, etag: o.etag, offset: a - o.start, length: b - a });
  }
  return { bucket: layout.bucket, parts, length: to - from, ...(dataset ? { dataset } : {}) };
}

/** Block `index` of a single object cut into `blockSize` blocks (objects outside every Dataset). */
export function objectBlock(bucket: string, obj: ListedObject, blockSize: number, index: number): BlockSpec {
  const offset = index * blockSize;
  const length = Math.min(blockSize, obj.size - offset);
  if (!(index >= 0 && length > 0)) throw new RangeError(`block ${index} is outside object ${obj.key} of ${obj.size} bytes`);
  return { bucket, parts: [{ key: obj.key, etag: obj.etag, offset, length }], length };
}

/**
 * Index of the object holding concatenation offset `at`: the last one starting at or before it
 * (empty objects share their start with the next one, so the last such is the one holding bytes).
 */
function objectAt(layout: Layout, at: number): number {
  let lo = 0;
  let hi = layout.objects.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (layout.objects[mid].start <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** One block's share of a byte range: which block, and which of its bytes. */
export interface Segment {
  spec: BlockSpec;
  /** Offset into the block and byte count. */
  from: number;
  length: number;
}

/** The segments serving bytes [start, end] (inclusive) of `key`, which must be in the layout. */
export function datasetSegments(layout: Layout, key: string, start: number, end: number, dataset?: string): Segment[] {
  const obj = layout.byKey.get(key);
  if (!obj) throw new RangeError(`${key} is not in catalog ${layout.version}`);
  return cut(obj.start + start, obj.start + end, layout.blockSize, (i) => datasetBlock(layout, i, dataset));
}

/** The segments serving bytes [start, end] (inclusive) of an object outside every Dataset. */
export function objectSegments(bucket: string, obj: ListedObject, blockSize: number, start: number, end: number): Segment[] {
  return cut(start, end, blockSize, (i) => objectBlock(bucket, obj, blockSize, i));
}

function cut(first: number, last: number, blockSize: number, block: (i: number) => BlockSpec): Segment[] {
  const out: Segment[] = [];
  for (let i = Math.floor(first / blockSize); i <= Math.floor(last / blockSize); i++) {
    const base = i * blockSize;
    const from = Math.max(first, base) - base;
    const to = Math.min(last, base + blockSize - 1) - base;
    out.push({ spec: block(i), from, length: to - from + 1 });
  }
  return out;
}
