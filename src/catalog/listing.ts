// The catalog of an object-store Dataset: its objects in key order, summarised as the status the
// extender and the agents read. Block i is the i-th `blockSize` block of the key-ordered
// concatenation of the objects, so every reader must order keys exactly as `compareKeys` does.
import { createHash } from 'node:crypto';
import { MAX_CATALOG_PREFIX_LENGTH, MAX_CATALOG_PREFIXES, type CatalogPrefix } from '../api/dataset.js';

export interface CatalogObject {
  key: string;
  size: number;
  etag: string;
}

export interface CatalogSummary {
  objectCount: number;
  totalBytes: number;
  blockSize: number;
  blockCount: number;
  version: string;
  /** Top-level prefixes and their blocks (bounded; see MAX_CATALOG_PREFIXES). */
  prefixes?: CatalogPrefix[];
  prefixesTruncated?: true;
}

/** S3's listing order: keys compared as UTF-8 bytes (not UTF-16 code units, as String#localeCompare or `<` would). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Strips the quotes S3 puts around ETags, so the same object hashes the same from any client. */
export const normaliseEtag = (etag: string | undefined): string => (etag ?? '').replace(/^"|"$/g, '');

/**
 * A stable hash of the key-ordered (key, size, etag) list: it changes exactly when an object is
 * added, removed, resized or rewritten, which is when block indices may move.
 */
export function catalogVersion(objects: readonly CatalogObject[]): string {
  const hash = createHash('sha256');
  for (const o of sortObjects(objects)) hash.update(JSON.stringify([o.key, o.size, normaliseEtag(o.etag)]) + '\n');
  return hash.digest('hex').slice(0, 32);
}

export function sortObjects(objects: readonly CatalogObject[]): CatalogObject[] {
  return [...objects].sort((a, b) => compareKeys(a.key, b.key));
}

export function blockCount(totalBytes: number, blockSize: number): number {
  if (!Number.isInteger(blockSize) || blockSize <= 0) throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
  return Math.ceil(totalBytes / blockSize);
}

/**
 * Counts, bytes, blocks and version of a listing, and its top-level prefixes. `keyPrefix` is the
 * Dataset's own prefix (spec.local.prefix), which the listed keys start with and prefixes are relative to.
 */
export function summarise(objects: readonly CatalogObject[], blockSize: number, keyPrefix = ''): CatalogSummary {
  const sorted = sortObjects(objects);
  const totalBytes = sorted.reduce((sum, o) => sum + o.size, 0);
  return {
    objectCount: objects.length,
    totalBytes,
    blockSize,
    blockCount: blockCount(totalBytes, blockSize),
    version: catalogVersion(sorted),
    ...topLevelPrefixes(sorted, blockSize, keyPrefix),
  };
}

/**
 * The top-level prefixes (the key up to and including its first "/" after `keyPrefix`) of key-ordered
 * objects, each with the blocks from the first byte of its first object to the last byte of its last:
 * keys sharing a prefix are adjacent in key order, so that range holds exactly their bytes (and may
 * share an edge block with a neighbour). Prefixes holding no bytes have no blocks and are left out;
 * past MAX_CATALOG_PREFIXES, or for a prefix longer than MAX_CATALOG_PREFIX_LENGTH bytes, the list
 * stops and says it is truncated.
 */
export function topLevelPrefixes(sorted: readonly CatalogObject[], blockSize: number, keyPrefix = ''): { prefixes: CatalogPrefix[]; prefixesTruncated?: true } {
  const prefixes: CatalogPrefix[] = [];
  let offset = 0;
  let current: { prefix: string; start: number; end: number } | undefined;
  let truncated = false;
  const close = () => {
    if (!current || current.end === current.start) return;
    if (prefixes.length >= MAX_CATALOG_PREFIXES) {
      truncated = true;
      return;
    }
    prefixes.push({ prefix: current.prefix, firstBlock: Math.floor(current.start / blockSize), lastBlock: Math.ceil(current.end / blockSize) - 1 });
  };
  for (const o of sorted) {
    // A Dataset prefix written without its trailing "/" (`data`) still means the folder `data/`.
    const rel = (o.key.startsWith(keyPrefix) ? o.key.slice(keyPrefix.length) : o.key).replace(/^\//, '');
    const slash = rel.indexOf('/');
    const prefix = slash < 0 ? undefined : rel.slice(0, slash + 1);
    if (prefix !== current?.prefix) {
      close();
      current = prefix === undefined ? undefined : { prefix, start: offset, end: offset };
      if (prefix !== undefined && Buffer.byteLength(prefix) > MAX_CATALOG_PREFIX_LENGTH) {
        truncated = true;
        current = undefined;
      }
    }
    offset += o.size;
    if (current) current.end = offset;
    if (truncated && prefixes.length >= MAX_CATALOG_PREFIXES) break;
  }
  close();
  return truncated ? { prefixes, prefixesTruncated: true } : { prefixes };
}
