// What the plugin shows, read from the API server as the extender reads it: Datasets (size from the
// catalog, readers from the operator's usage audit), NodeCaches (what each node holds) and Nodes
// (zones). A NodeCache not rewritten within the TTL counts as holding nothing, as in the extender.
import type { NodeCache } from '../api/nodecache.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/object.js';
import { DATASETS, NODE_CACHES, NODES } from '../kube/resources.js';
import { ZONE_LABELS } from '../inventory/node-topology.js';

interface DatasetObject extends KubeObject {
  spec?: { type?: string; local?: { type?: string } };
  status?: { phase?: string; catalog?: { totalBytes?: number }; usage?: { pods?: number; podNames?: string[] } };
}

type NodeCacheObject = KubeObject & Pick<NodeCache, 'spec' | 'status'>;

export interface DatasetRow {
  namespace: string;
  name: string;
  type?: string;
  phase?: string;
  /** Bytes in the Dataset's catalog (undefined until the operator has listed it). */
  sizeBytes?: number;
  /** Bytes cached on live nodes, all zones together. */
  cachedBytes: number;
  /** Cached bytes per zone ('' for nodes without a zone label). */
  zones: Record<string, number>;
  /** Nodes holding any of it. */
  nodes: number;
  readers: number;
  readerPods: string[];
}

export interface NodeRow {
  name: string;
  zone?: string;
  /** False when the node has no NodeCache (no agent) or its NodeCache is older than the TTL. */
  live: boolean;
  hasCache: boolean;
  usedBytes?: number;
  capacityBytes?: number;
  datasets: { namespace: string; name: string; bytes: number }[];
  updatedAt?: string;
  epoch?: string;
  seq?: number;
}

export interface CacheView {
  datasets: DatasetRow[];
  nodes: NodeRow[];
}

/** Reads the three kinds; `namespace` undefined means every namespace (Datasets only: the rest is cluster-wide). */
export async function readCacheView(client: KubeClient, opts: { namespace?: string; ttlMs: number; now: number }): Promise<CacheView> {
  const [datasets, caches, nodes] = await Promise.all([
    client.list<DatasetObject>(DATASETS, { namespace: opts.namespace }),
    client.list<NodeCacheObject>(NODE_CACHES),
    client.list(NODES),
  ]);
  const zoneOf = new Map<string, string | undefined>();
  for (const n of nodes.items) zoneOf.set(n.metadata.name ?? '', ZONE_LABELS.map((l) => n.metadata.labels?.[l]).find(Boolean));

  const cacheOf = new Map(caches.items.map((c) => [c.spec?.nodeName ?? c.metadata.name ?? '', c]));
  const nodeNames = [...new Set([...zoneOf.keys(), ...cacheOf.keys()])].sort();
  const nodeRows: NodeRow[] = nodeNames.map((name) => {
    const c = cacheOf.get(name);
    const s = c?.status;
    const live = s?.updatedAt !== undefined && opts.now - Date.parse(s.updatedAt) <= opts.ttlMs;
    return {
      name,
      zone: zoneOf.get(name),
      live,
      hasCache: c !== undefined,
      usedBytes: s?.usedBytes,
      capacityBytes: s?.capacityBytes,
      datasets: (s?.datasets ?? []).map((d) => ({ namespace: d.namespace, name: d.name, bytes: d.bytes })).sort((a, b) => b.bytes - a.bytes),
      updatedAt: s?.updatedAt,
      epoch: s?.epoch,
      seq: s?.seq,
    };
  });

  const datasetRows = datasets.items.map((d): DatasetRow => {
    const namespace = d.metadata.namespace ?? '';
    const name = d.metadata.name ?? '';
    const zones: Record<string, number> = {};
    let cachedBytes = 0;
    let holders = 0;
    for (const n of nodeRows) {
      if (!n.live) continue;
      const entry = n.datasets.find((e) => e.namespace === namespace && e.name === name);
      if (!entry || entry.bytes === 0) continue;
      holders++;
      cachedBytes += entry.bytes;
      zones[n.zone ?? ''] = (zones[n.zone ?? ''] ?? 0) + entry.bytes;
    }
    return {
      namespace,
      name,
      type: d.spec?.local?.type ?? d.spec?.type,
      phase: d.status?.phase,
      sizeBytes: d.status?.catalog?.totalBytes,
      cachedBytes,
      zones,
      nodes: holders,
      readers: d.status?.usage?.pods ?? 0,
      readerPods: d.status?.usage?.podNames ?? [],
    };
  });
  datasetRows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { datasets: datasetRows, nodes: nodeRows };
}
