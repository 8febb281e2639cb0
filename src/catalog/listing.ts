// The catalogue of an object-store Dataset: its objects in key order, summarised as the status the
// extender and the agents read. Block i is the i-th `blockSize` block of the key-ordered
// concatenation of the objects, so every reader must order keys exactly as `compareKeys` does.
import { createHash } from 'node:crypto';

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

export function summarise(objects: readonly CatalogObject[], blockSize: number): CatalogSummary {
  const totalBytes = objects.reduce((sum, o) => sum + o.size, 0);
  return {
    objectCount: objects.length,
    totalBytes,
    blockSize,
    blockCount: blockCount(totalBytes, blockSize),
    version: catalogVersion(objects),
  };
}
