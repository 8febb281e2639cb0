// What the index needs of a Dataset object: its key and the catalog the operator records in
// `status.catalog` (size, block size and count, version, top-level prefixes), or else the size hint in `spec.cache`.
// The rest of the Dataset is the operator's business, so a Dataset with a bad spec still counts.
import { z } from 'zod';
import { datasetKey, type DatasetCatalog } from '../core/types.js';
import { CacheSpec, CatalogStatus } from '../api/dataset.js';
import { describeIssues } from '../api/fields.js';

const metadataSchema = z.looseObject({ name: z.string().min(1), namespace: z.string().min(1).default('default') });

export class DatasetObjectError extends Error {}

interface DatasetLike {
  metadata?: unknown;
  spec?: { cache?: unknown } | null;
  status?: { catalog?: unknown } | null;
}

/**
 * The catalog of a Dataset object, and a problem when its catalog or size hint is malformed (the
 * Dataset then counts as known but unsized). Throws DatasetObjectError without a usable name.
 */
export function datasetCatalog(obj: DatasetLike): { catalog: DatasetCatalog; problem?: string } {
  const meta = metadataSchema.safeParse(obj?.metadata);
  if (!meta.success) throw new DatasetObjectError(`Dataset: ${describeIssues(meta.error)}`);
  const catalog: DatasetCatalog = { key: datasetKey(meta.data.namespace, meta.data.name) };
  const where = `Dataset ${catalog.key}`;
  if (obj.status?.catalog !== undefined && obj.status.catalog !== null) {
    const c = CatalogStatus.safeParse(obj.status.catalog);
    if (!c.success) return { catalog, problem: `${where}: status.catalog: ${describeIssues(c.error)}` };
    Object.assign(catalog, { totalBytes: c.data.totalBytes, blockSize: c.data.blockSize, blockCount: c.data.blockCount, catalogVersion: c.data.version });
    if (c.data.prefixes) catalog.prefixes = c.data.prefixes.map((p) => ({ prefix: p.prefix, first: p.firstBlock, end: p.lastBlock + 1 }));
    if (c.data.prefixesTruncated) catalog.prefixesTruncated = true;
    return { catalog };
  }
  if (obj.spec?.cache !== undefined && obj.spec.cache !== null) {
    const cache = CacheSpec.safeParse(obj.spec.cache);
    if (!cache.success) return { catalog, problem: `${where}: spec.cache: ${describeIssues(cache.error)}` };
    if (cache.data.sizeHintBytes !== undefined) catalog.totalBytes = cache.data.sizeHintBytes;
  }
  return { catalog };
}

/** The `ns/name` key of a Dataset object (for deletions, which need no status). */
export function datasetObjectKey(obj: { metadata?: { name?: string; namespace?: string } | null }): string | undefined {
  const name = obj.metadata?.name;
  return name ? datasetKey(obj.metadata?.namespace || 'default', name) : undefined;
}
