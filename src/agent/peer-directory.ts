// Which agents of this node's zone hold which blocks: the NodeCache objects (the cluster's cache
// inventory) of the nodes whose agents advertise a peer address in the same zone, watched through an
// informer that lists only the zone's objects (by the zone label the publisher puts on them). Nodes
// without a zone label match only each other (a cluster without zone labels is one zone). An inventory
// older than the TTL is ignored, as the extenders ignore it.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { parseNodeCache } from '../api/nodecache.js';
import { decodeNodeCache } from '../inventory/nodecache.js';
import type { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import type { KubeObject } from '../kube/object.js';
import { NODE_CACHES, NODES } from '../kube/resources.js';

/** The zone label of a node, as the scheduler's topology spreading reads it. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** The zone of `node` from its label; undefined when it has none. */
export async function nodeZone(client: KubeClient, node: string): Promise<string | undefined> {
  const obj = await client.get(NODES, { name: node });
  return obj?.metadata.labels?.[ZONE_LABEL];
}

export interface Peer {
  node: string;
  /** The peer agent's S3 address. */
  url: string;
}

interface Holding {
  version?: string;
  blockSize?: number;
  /** Sorted block indices. */
  blocks: Uint32Array;
}

interface Known {
  peer: Peer;
  updatedAt: number;
  datasets: Map<string, Holding>;
}

export interface PeerDirectoryOptions {
  /** This node: never its own peer. */
  node: string;
  /** This node's zone (undefined: the node has no zone label). */
  zone: string | undefined;
  /** How long an inventory counts after its updatedAt. */
  ttlMs: number;
  now(): number;
  log: Logger;
}

export class PeerDirectory {
  private readonly known = new Map<string, Known>();

  constructor(private readonly opts: PeerDirectoryOptions) {}

  /** Takes in a NodeCache object (added or updated): kept when it is another node of the zone with a peer address. */
  apply(obj: unknown): void {
    let parsed;
    let snapshot;
    try {
      parsed = parseNodeCache(obj);
      snapshot = decodeNodeCache(obj);
    } catch (err) {
      this.opts.log.warn({ err }, 'NodeCache not usable for peer fill');
      return;
    }
    const name = parsed.metadata.name;
    const peer = parsed.status?.peer;
    if (name === this.opts.node || !peer || peer.zone !== this.opts.zone || !snapshot.snapshot) {
      this.known.delete(name);
      return;
    }
    const datasets = new Map<string, Holding>();
    for (const d of snapshot.snapshot.datasets) {
      if (d.blocks && d.blocks.length > 0) datasets.set(d.dataset, { version: d.catalogVersion, blockSize: d.blockSize, blocks: d.blocks });
    }
    this.known.set(name, { peer: { node: name, url: peer.url }, updatedAt: snapshot.updatedAt ?? this.opts.now(), datasets });
  }

  remove(node: string): void {
    this.known.delete(node);
  }

  /** The peers of the zone whose current inventory holds block `index` of the Dataset's catalog `version` (in `blockSize` blocks). */
  holders(dataset: string, version: string, blockSize: number, index: number): Peer[] {
    const oldest = this.opts.now() - this.opts.ttlMs;
    const out: Peer[] = [];
    for (const k of this.known.values()) {
      const h = k.datasets.get(dataset);
      if (k.updatedAt >= oldest && h && h.version === version && h.blockSize === blockSize && has(h.blocks, index)) out.push(k.peer);
    }
    return out;
  }

  /** Watches the NodeCache objects in the background (peer fill is no condition of serving). */
  watch(kc: KubeConfig, client: KubeClient): { stop(): Promise<void>; waitForSync(): Promise<void> } {
    const zone = this.opts.zone;
    const informer = new Informer<KubeObject>(kc, client, {
      resource: NODE_CACHES,
      // Only the zone's NodeCaches: a cluster-wide watch would send every agent every node's writes.
      labelSelector: zone !== undefined ? `${ZONE_LABEL}=${zone}` : `!${ZONE_LABEL}`,
      onRestart: (err) => this.opts.log.warn({ err }, 'NodeCache watch failed; restarting'),
      onHandlerError: (err) => this.opts.log.error({ err }, 'NodeCache not handled for peer fill'),
    });
    informer
      .on('add', (o) => this.apply(o))
      .on('update', (o) => this.apply(o))
      .on('delete', (o) => this.remove(o.metadata.name ?? ''));
    informer.start();
    return { stop: () => informer.stop(), waitForSync: () => informer.waitForSync() };
  }
}

function has(sorted: Uint32Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === x) return true;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
