// Conversions between NodeCache objects (src/api/nodecache.ts) and the core's InventorySnapshot.
import { NODECACHE_KIND, NodeCacheError, parseNodeCache, type NodeCache, type NodeCacheDataset, type NodeCacheStatus } from '../api/nodecache.js';
import { API_VERSION } from '../api/group.js';
import { BlockSetError, decodeBlockSetWithCount, encodeBlockSet } from '../core/blockset.js';
import { datasetKey, type DatasetInventory, type InventorySnapshot } from '../core/types.js';

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
    throw new NodeCacheError(
      `NodeCache "${nc.metadata.name}": spec.nodeName is "${nc.spec.nodeName}"; a NodeCache is named after its node, so the two must be equal`,
    );
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
      throw new NodeCacheError(`${field} is encoded for ${blockCount} blocks but blockCount says ${d.blockCount}; write both from the same catalog`);
    }
    return blocks;
  } catch (err) {
    if (err instanceof BlockSetError) throw new NodeCacheError(`${field}: ${err.message}; re-encode it with encodeBlockSet`);
    throw err;
  }
}

export interface ToStatusOptions {
  /** Blocks in each Dataset's catalog (keyed `ns/name`), the universe block sets are encoded against. */
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

/** A complete NodeCache object for a snapshot, ready to create. */
export function snapshotToNodeCache(snapshot: InventorySnapshot, opts: ToObjectOptions = {}): NodeCache & { metadata: Record<string, unknown> } {
  const metadata: Record<string, unknown> & { name: string } = { name: snapshot.node };
  if (opts.nodeUid) {
    metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: snapshot.node, uid: opts.nodeUid }];
  }
  return {
    apiVersion: API_VERSION,
    kind: NODECACHE_KIND,
    metadata,
    spec: { nodeName: snapshot.node },
    status: snapshotToNodeCacheStatus(snapshot, opts),
  };
}
