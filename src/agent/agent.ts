// The node cache agent, assembled: block store, Dataset catalogs, read path, prefetch and pins for the
// pods bound to the node, the S3 and operations servers, and (given a cluster) the NodeCache publisher,
// the watch of the node's pods and the watch of its zone's NodeCaches that peer fill reads from. The
// CLI and the tests start it the same way.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/object.js';
import { JOBS } from '../kube/resources.js';
import { agentMetrics, type AgentMetrics } from '../metrics/agent.js';
import { AgentAccess, type AgentAuthConfig } from './access.js';
import { BlockStore } from './block-store.js';
import { watchBoundPods } from './bound-pods.js';
import { watchWarmItems } from './warm-items.js';
import { Catalogs, type DatasetSource } from './catalogs.js';
import { holdings, type DatasetHoldings } from './inventory.js';
import { PeerDirectory } from './peer-directory.js';
import { PeerFill } from './peer-fill.js';
import { surplusCopies } from './zone-copies.js';
import { Prefetcher, type PrefetchSettings } from './prefetcher.js';
import { Publisher, type PublisherOptions } from './publisher.js';
import { ReadThrough } from './read-through.js';
import { s3App } from './s3-api.js';
import { s3Server, type S3ServerLimits } from './s3-server.js';
import { Upstream, type UpstreamOptions } from './upstream.js';
import { opsApp } from '../runtime/ops.js';
import { handler, serve, type Listen } from '../runtime/serve.js';

export interface AgentConfig {
  s3: Listen;
  ops: Listen;
  cacheDir: string;
  capacityBytes: number;
  /** Block size of objects outside every Dataset, and of Datasets without an operator catalog. */
  blockSize: number;
  upstream: UpstreamOptions;
  /** Blocks fetched ahead of a sequential reader (default 2). */
  readAhead?: number;
  /** How long a Dataset listing without an operator version is trusted (file-configured Datasets). */
  relistMs: number;
  /** Datasets known at start (from a file); a cluster source calls setDatasets later. */
  datasets?: DatasetSource[];
  /** Publishes the node's NodeCache when set. */
  publish?: Omit<PublisherOptions, 'epoch' | 'snapshot' | 'metrics' | 'log' | 'now' | 'random'>;
  /**
   * Watches the pods bound to `node` (field selector spec.nodeName) to prefetch and pin what they read,
   * and the node's NodeCache (field selector metadata.name) for the queued work warm-ahead planned for it.
   */
  boundPods?: { kc: KubeConfig; client: KubeClient; node: string };
  /** Budgets and concurrency of prefetch; absent, nothing is fetched ahead (blocks are still pinned). */
  prefetch?: PrefetchSettings;
  /** Share of the capacity that blocks bound pods read may hold against eviction, 0 to below 1 (default 0). */
  pinShare?: number;
  /**
   * Peer fill: misses of Dataset blocks are read from agents of `zone` whose NodeCache (watched through
   * `kc`) says they hold the block; `url` is this agent's address, advertised in its NodeCache.
   */
  peers?: {
    kc: KubeConfig;
    client: KubeClient;
    node: string;
    zone: string | undefined;
    url?: string;
    timeoutMs: number;
    ttlMs: number;
    /** Copies of a block the zone keeps when capacity is tight, for Datasets that set none (default 1). */
    zoneCopies?: number;
  };
  /** Agent keys: S3 requests must be signed with a Dataset's derived credentials. Absent: no authentication. */
  auth?: AgentAuthConfig;
  /** Timeouts and connection cap of the S3 port (default S3_SERVER_LIMITS). */
  s3Limits?: S3ServerLimits;
  log: Logger;
  metrics?: AgentMetrics;
}

export interface Agent {
  s3Url: string;
  opsUrl: string;
  /** New on every start: the NodeCache epoch. */
  epoch: string;
  store: BlockStore;
  catalogs: Catalogs;
  metrics: AgentMetrics;
  publisher?: Publisher;
  /** Prefetch and pins for the bound pods: the pod watch feeds it, tests may too. */
  prefetcher: Prefetcher;
  /** The peers of the zone and what they hold (with `peers` configured). */
  peerDirectory?: PeerDirectory;
  setDatasets(sources: DatasetSource[]): void;
  /** What the node holds, per Dataset, as the NodeCache reports it. */
  holdings(): DatasetHoldings[];
  close(): Promise<void>;
}

export async function startAgent(cfg: AgentConfig): Promise<Agent> {
  const log = cfg.log;
  const metrics = cfg.metrics ?? agentMetrics();
  const store = await BlockStore.open({ dir: cfg.cacheDir, capacityBytes: cfg.capacityBytes, pinShare: cfg.pinShare ?? 0, metrics, log });
  const upstream = new Upstream(cfg.upstream);
  const catalogs = new Catalogs({
    list: async (bucket, prefix) => {
      const listing = await upstream.listAll(bucket, prefix);
      for (const o of listing) store.invalidate(bucket, o.key, o.etag);
      return listing;
    },
    defaultBlockSize: cfg.blockSize,
    relistMs: cfg.relistMs,
    retryMs: 10_000,
    now: Date.now,
    log,
  });
  const p = cfg.peers;
  const directory = p && new PeerDirectory({ node: p.node, zone: p.zone, ttlMs: p.ttlMs, now: Date.now, log });
  const peers =
    directory &&
    new PeerFill({
      directory,
      ...(cfg.auth ? { keys: cfg.auth.keys } : {}),
      region: cfg.upstream.region,
      timeoutMs: p.timeoutMs,
      now: Date.now,
      random: Math.random,
    });
  if (directory) store.setSurplus(surplusCopies({ node: p.node, directory, catalogs, copies: p.zoneCopies ?? 1 }));
  const readThrough = new ReadThrough({
    store,
    upstream,
    catalogs,
    metrics,
    blockSize: cfg.blockSize,
    readAhead: cfg.readAhead ?? 2,
    ...(peers ? { peers } : {}),
  });
  const kube = cfg.boundPods?.client;
  const prefetcher = new Prefetcher({
    ...(cfg.prefetch ?? { podBudgetBytes: 0, nodeBudgetBytes: 0, concurrency: 0 }),
    store,
    catalogs,
    fetch: (spec) => readThrough.fetch(spec, { prefetch: true }),
    ...(kube ? { jobCompletions: async (namespace: string, name: string) => jobCompletions(await kube.get(JOBS, { namespace, name })) } : {}),
    metrics,
    log,
  });
  catalogs.onChange(() => prefetcher.replan());
  const epoch = randomUUID();
  const current = () => holdings(catalogs.layouts(), (id) => store.has(id));

  const access = new AgentAccess(cfg.auth, Date.now);
  const setDatasets = (sources: DatasetSource[]) => {
    catalogs.setSources(sources);
    access.setDatasets(sources);
    prefetcher.replan(); // a pod's Dataset may have appeared or moved
    // Report what is held as soon as possible: (re)load the layouts of Datasets already in use and of
    // those with blocks on disk (after a restart), and pick up new catalog versions.
    const wanted = new Set(catalogs.layouts().keys());
    for (const [, spec] of store.blocks()) if (spec.dataset) wanted.add(spec.dataset);
    for (const key of wanted) {
      const source = catalogs.source(key);
      if (source) catalogs.layout(source).catch((err: unknown) => log.warn({ err, dataset: key }, 'could not list Dataset'));
    }
  };
  setDatasets(cfg.datasets ?? []);

  let publisher: Publisher | undefined;
  if (cfg.publish) {
    const pub = new Publisher({
      ...cfg.publish,
      ...(p?.url ? { peer: { url: p.url, ...(p.zone !== undefined ? { zone: p.zone } : {}) } } : {}),
      epoch,
      snapshot: () => ({ datasets: current(), capacityBytes: store.capacityBytes, usedBytes: store.usedBytes }),
      metrics,
      log,
      now: Date.now,
      random: Math.random,
    });
    store.onChange(() => pub.changed());
    catalogs.onChange(() => pub.changed());
    pub.start();
    publisher = pub;
  }

  // The operations routes have a port of their own, so no bucket name ("metrics" is a valid one) is
  // shadowed. The agent listens only once its inventory is rebuilt from disk: answering is being ready.
  const s3 = await serve(s3Server(handler(s3App({ readThrough, store, upstream, access, metrics, log })), cfg.s3Limits), cfg.s3);
  const ops = await serve(createServer(handler(opsApp({ registry: metrics.registry }))), cfg.ops).catch(async (err: unknown) => {
    await s3.close();
    throw err;
  });
  log.info({ s3: s3.url, ops: ops.url, epoch, cacheDir: cfg.cacheDir, capacityBytes: cfg.capacityBytes }, 'agent listening');
  const pods = cfg.boundPods
    ? watchBoundPods(
        cfg.boundPods.kc,
        cfg.boundPods.client,
        cfg.boundPods.node,
        { set: (k, p) => prefetcher.setPod(k, p), remove: (k) => prefetcher.removePod(k) },
        log,
      )
    : undefined;
  pods?.start();
  const warm = cfg.boundPods
    ? watchWarmItems(cfg.boundPods.kc, cfg.boundPods.client, cfg.boundPods.node, (items) => prefetcher.setWarm(items), log)
    : undefined;
  warm?.start();
  const nodeCaches = p && directory?.watch(p.kc, p.client);

  return {
    s3Url: s3.url,
    opsUrl: ops.url,
    epoch,
    store,
    catalogs,
    metrics,
    ...(publisher ? { publisher } : {}),
    prefetcher,
    ...(directory ? { peerDirectory: directory } : {}),
    setDatasets,
    holdings: current,
    async close() {
      await pods?.stop();
      await warm?.stop();
      await nodeCaches?.stop();
      await prefetcher.close();
      await publisher?.stop();
      await Promise.all([s3.close(), ops.close()]);
      await store.settle();
      upstream.destroy();
    },
  };
}

/** A Job's `spec.completions`, when it is a count. */
function jobCompletions(job: KubeObject | undefined): number | undefined {
  const n = (job?.spec as { completions?: unknown } | undefined)?.completions;
  return typeof n === 'number' ? n : undefined;
}
