// The NodeCache object (locus.dev/v1alpha1, cluster-scoped, one per node): its zod schema, mirroring
// crds/nodecache.yaml, and the conversions to and from the core's InventorySnapshot.
// The agent writes these objects, the extender reads them, the simulator produces them.
import { z } from 'zod';
import { BlockSetError, decodeBlockSetWithCount, encodeBlockSet } from '../core/blockset.js';
import { datasetKey, type DatasetInventory, type InventorySnapshot } from '../core/types.js';

export const NODECACHE_GROUP = 'locus.dev';
export const NODECACHE_VERSION = 'v1alpha1';
export const NODECACHE_API_VERSION = `${NODECACHE_GROUP}/${NODECACHE_VERSION}`;
export const NODECACHE_KIND = 'NodeCache';
export const NODECACHE_PLURAL = 'nodecaches';

const count = z.number().int().nonnegative();
/** A Kubernetes object name (RFC 1123 subdomain). */
const objectName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lower-case RFC 1123 name, e.g. "my-dataset"');

export const nodeCacheDatasetSchema = z.object({
  namespace: objectName.max(253),
  name: objectName.max(253),
  /** Bytes per block of the catalogue the block set was encoded against. */
  blockSize: z.number().int().positive().optional(),
  /** The Dataset's `status.catalog.version` the block indices refer to. */
  catalogVersion: z.string().optional(),
  /** Bytes of this Dataset held on the node. */
  bytes: count,
  /** Blocks in that catalogue (the size of the universe `blocks` is encoded against). */
  blockCount: count.optional(),
  /** The cached block indices in the core's block-set encoding (base64). */
  blocks: z.string().optional(),
});

export const nodeCacheStatusSchema = z.object({
  epoch: z.string().min(1, 'must be a non-empty string, new on every agent restart or cache wipe'),
  seq: z.number().int().nonnegative(),
  capacityBytes: count.optional(),
  usedBytes: count.optional(),
  updatedAt: z.iso.datetime({ offset: true }).optional(),
  /** Entries in `datasets`, for `kubectl get nodecaches`. */
  datasetCount: count.optional(),
  datasets: z.array(nodeCacheDatasetSchema).default([]),
});

export const nodeCacheSchema = z.object({
  apiVersion: z.literal(NODECACHE_API_VERSION).optional(),
  kind: z.literal(NODECACHE_KIND).optional(),
  metadata: z.looseObject({
    name: objectName,
    resourceVersion: z.string().optional(),
  }),
  spec: z.object({ nodeName: z.string().min(1) }),
  status: nodeCacheStatusSchema.optional(),
});

export type NodeCacheDataset = z.infer<typeof nodeCacheDatasetSchema>;
export type NodeCacheStatus = z.infer<typeof nodeCacheStatusSchema>;
export type NodeCache = z.infer<typeof nodeCacheSchema>;

/** A NodeCache that cannot be turned into a snapshot; the message names the field and the fix. */
export class NodeCacheError extends Error {}

/** Parses an object as a NodeCache, throwing a NodeCacheError that names each bad field. */
export function parseNodeCache(obj: unknown): NodeCache {
  const result = nodeCacheSchema.safeParse(obj);
  if (result.success) return result.data;
  const name = (obj as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  throw new NodeCacheError(`NodeCache ${typeof name === 'string' ? `"${name}"` : '(unnamed)'}: ${describeIssues(result.error)}`);
}

/** `path.to.field: message; …`, the form every Locus validation error takes. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(object)'}: ${i.message}`).join('; ');
}

/**
 * The snapshot a NodeCache's status carries, block sets decoded. Undefined when the agent has not
 * written a status yet. Throws NodeCacheError on a malformed object or block set.
 */
export function nodeCacheToSnapshot(obj: unknown): InventorySnapshot | undefined {
  return decodeNodeCache(obj).snapshot;
}

/** The snapshot and the agent's recorded write time (ms since the epoch, when present). */
export function decodeNodeCache(obj: unknown): { snapshot?: InventorySnapshot; updatedAt?: number } {
  const nc = parseNodeCache(obj);
  if (nc.metadata.name !== nc.spec.nodeName) {
    throw new NodeCacheError(`NodeCache "${nc.metadata.name}": spec.nodeName is "${nc.spec.nodeName}"; a NodeCache is named after its node, so the two must be equal`);
  }
  if (!nc.status) return {};
  const datasets = nc.status.datasets.map((d, i): DatasetInventory => {
    const inv: DatasetInventory = { dataset: datasetKey(d.namespace, d.name), bytes: d.bytes };
    if (d.blockSize !== undefined) inv.blockSize = d.blockSize;
    if (d.catalogVersion !== undefined) inv.catalogVersion = d.catalogVersion;
    if (d.blocks !== undefined) inv.blocks = decodeBlocks(nc.metadata.name, i, d);
    return inv;
  });
  const snapshot: InventorySnapshot = { node: nc.spec.nodeName, epoch: nc.status.epoch, seq: nc.status.seq, datasets };
  if (nc.status.capacityBytes !== undefined) snapshot.capacityBytes = nc.status.capacityBytes;
  if (nc.status.usedBytes !== undefined) snapshot.usedBytes = nc.status.usedBytes;
  return nc.status.updatedAt === undefined ? { snapshot } : { snapshot, updatedAt: Date.parse(nc.status.updatedAt) };
}

function decodeBlocks(node: string, i: number, d: NodeCacheDataset): Uint32Array {
  const field = `NodeCache "${node}": status.datasets.${i}.blocks (${d.namespace}/${d.name})`;
  try {
    const { blockCount, blocks } = decodeBlockSetWithCount(d.blocks!);
    if (d.blockCount !== undefined && blockCount !== d.blockCount) {
      throw new NodeCacheError(`${field} is encoded for ${blockCount} blocks but blockCount says ${d.blockCount}; write both from the same catalogue`);
    }
    return blocks;
  } catch (err) {
    if (err instanceof BlockSetError) throw new NodeCacheError(`${field}: ${err.message}; re-encode it with encodeBlockSet`);
    throw err;
  }
}

export interface ToStatusOptions {
  /** Blocks in each Dataset's catalogue (keyed `ns/name`), the universe block sets are encoded against. */
  blockCounts?: ReadonlyMap<string, number>;
  /** When the snapshot was taken (RFC 3339 is written). */
  updatedAt?: Date;
}

/** The NodeCache status for a snapshot: the inverse of nodeCacheToSnapshot. */
export function snapshotToNodeCacheStatus(snapshot: InventorySnapshot, opts: ToStatusOptions = {}): NodeCacheStatus {
  const datasets = snapshot.datasets.map((d): NodeCacheDataset => {
    const slash = d.dataset.indexOf('/');
    const entry: NodeCacheDataset = { namespace: d.dataset.slice(0, slash), name: d.dataset.slice(slash + 1), bytes: d.bytes };
    if (d.blockSize !== undefined) entry.blockSize = d.blockSize;
    if (d.catalogVersion !== undefined) entry.catalogVersion = d.catalogVersion;
    if (d.blocks !== undefined) {
      const last = d.blocks.length > 0 ? d.blocks[d.blocks.length - 1] + 1 : 0;
      const blockCount = opts.blockCounts?.get(d.dataset) ?? last;
      entry.blockCount = blockCount;
      entry.blocks = encodeBlockSet(d.blocks, blockCount);
    }
    return entry;
  });
  const status: NodeCacheStatus = { epoch: snapshot.epoch, seq: snapshot.seq, datasetCount: datasets.length, datasets };
  if (snapshot.capacityBytes !== undefined) status.capacityBytes = snapshot.capacityBytes;
  if (snapshot.usedBytes !== undefined) status.usedBytes = snapshot.usedBytes;
  if (opts.updatedAt) status.updatedAt = opts.updatedAt.toISOString();
  return status;
}

export interface ToObjectOptions extends ToStatusOptions {
  /** The Node's uid: makes the Node the owner, so the NodeCache goes when the node goes. */
  nodeUid?: string;
}

/** A complete NodeCache object for a snapshot, ready for server-side apply. */
export function snapshotToNodeCache(snapshot: InventorySnapshot, opts: ToObjectOptions = {}): NodeCache & { metadata: Record<string, unknown> } {
  const metadata: Record<string, unknown> & { name: string } = { name: snapshot.node };
  if (opts.nodeUid) {
    metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: snapshot.node, uid: opts.nodeUid }];
  }
  return {
    apiVersion: NODECACHE_API_VERSION,
    kind: NODECACHE_KIND,
    metadata,
    spec: { nodeName: snapshot.node },
    status: snapshotToNodeCacheStatus(snapshot, opts),
  };
}
