// NodeCache objects written the way the agent writes them (src/agent/publisher.ts): a core
// InventorySnapshot converted by src/inventory/nodecache.ts (block sets in the core codec); the object
// is created owned by its Node, then each snapshot replaces its status subresource.
import { api, create, find, remove, type Obj } from './api.js';
import { snapshotToNodeCache } from '../../../src/inventory/nodecache.js';
import { datasetKey, type InventorySnapshot } from '../../../src/core/types.js';

export const nodeCachePath = (node = '') => `/apis/locus.dev/v1alpha1/nodecaches${node ? `/${node}` : ''}`;

/** What one node holds of one Dataset: blocks [from, to) of a catalog of `blockCount` blocks of `blockSize` bytes. */
export interface Holding {
  namespace: string;
  name: string;
  from: number;
  to: number;
  blockSize: number;
  blockCount: number;
  catalogVersion: string;
}

let seq = 0;

/** Writes node `node`'s NodeCache (object, then status) holding exactly `holdings`. */
export async function writeNodeCache(node: string, holdings: Holding[], epoch = 'e2e'): Promise<void> {
  seq += 1;
  const snapshot: InventorySnapshot = {
    node,
    epoch,
    seq,
    capacityBytes: 64 << 30,
    usedBytes: holdings.reduce((sum, h) => sum + (h.to - h.from) * h.blockSize, 0),
    datasets: holdings.map((h) => ({
      dataset: datasetKey(h.namespace, h.name),
      bytes: (h.to - h.from) * h.blockSize,
      blockSize: h.blockSize,
      catalogVersion: h.catalogVersion,
      blocks: Uint32Array.from({ length: h.to - h.from }, (_, i) => h.from + i),
    })),
  };
  const blockCounts = new Map(holdings.map((h) => [datasetKey(h.namespace, h.name), h.blockCount]));
  const { status, ...fresh } = snapshotToNodeCache(snapshot, { blockCounts, updatedAt: new Date() });
  const current = (await find(nodeCachePath(node))) ?? (await createOwned(node));
  await api<Obj>('PUT', `${nodeCachePath(node)}/status`, { ...fresh, metadata: current.metadata, status });
}

/** The NodeCache object without status, owned by its Node (so it goes when the node goes). */
async function createOwned(node: string): Promise<Obj> {
  const nodeObj = await find(`/api/v1/nodes/${node}`);
  if (!nodeObj) throw new Error(`Node ${node} does not exist: a NodeCache is owned by its Node`);
  const { status: _status, ...obj } = snapshotToNodeCache({ node, epoch: 'none', seq: 0, datasets: [] }, { nodeUid: nodeObj.metadata.uid });
  return create(nodeCachePath(), obj);
}

export const deleteNodeCache = (node: string) => remove(nodeCachePath(node));
