// The extender as a reusable unit: the index, its feed from a source, its HTTP side and (optionally) a
// listening HTTP server. The CLI, the simulator's equivalence test and the e2e suite all start it here.
import { createServer, type RequestListener, type Server } from 'node:http';
import { LRUCache } from 'lru-cache';
import pino, { type Logger } from 'pino';
import { LocalityIndex, type PodLike, type PolicyName, type ScoringConfig } from '../core/index.js';
import { InventoryFeed } from '../inventory/feed.js';
import type { InventorySource } from '../inventory/source.js';
import { createExtenderMetrics, type ExtenderMetrics } from '../metrics/extender.js';
import { buildApp } from './app.js';
import { Decisions } from '../core/decisions.js';
import type Koa from 'koa';
import type { Router } from '@koa/router';
import { NODECACHE_TTL_MS } from '../runtime/settings.js';
import { serve } from '../runtime/serve.js';
import { WarmAhead, type WarmAheadOptions } from './warm-ahead.js';

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8888,
  prefix: '/scheduler',
  policy: 'locality' as PolicyName,
  ttlMs: NODECACHE_TTL_MS,
  /** Full-Node requests at 5,000 nodes are ~25 MB. */
  bodyLimit: 64 * 1024 * 1024,
  expireEveryMs: 5_000,
};

export interface ExtenderOptions {
  source: InventorySource;
  prefix?: string;
  policy?: PolicyName;
  ttlMs?: number;
  bodyLimit?: number;
  scoring?: Partial<ScoringConfig>;
  logger?: Logger;
  /** Clock (tests); default Date.now. */
  now?: () => number;
  /** How often inventories past their TTL are looked for (metrics and logs), ms. */
  expireEveryMs?: number;
  /** Reads a pod that explain has not seen in a scheduler request (e.g. from the API server). */
  readPod?: (namespace: string, name: string) => Promise<PodLike | undefined>;
  /** Record process metrics too (the CLI does; tests and in-process replicas do not). */
  defaultMetrics?: boolean;
  /** Warm-ahead for queued work (off when absent): planned by the replica that holds the Lease. */
  warm?: Pick<WarmAheadOptions, 'kc' | 'client' | 'settings'>;
}

export interface Extender {
  /** Every route (explain, health, metrics and the verbs); drive `app.callback()` in-process. */
  app: Koa;
  /** What the server listens with: the scheduler verbs straight to their handlers, the rest to `app`. */
  listener: RequestListener;
  /** The routes the app serves (the scheduler configurations are checked against them). */
  router: Router;
  index: LocalityIndex;
  feed: InventoryFeed;
  metrics: ExtenderMetrics;
  decisions: Decisions;
  logger: Logger;
  /** Warm-ahead, when enabled. */
  warm?: WarmAhead;
  /** The scheduler verbs' path prefix, normalised. */
  prefix: string;
  ready(): boolean;
  /** Starts the source; resolves once it has synced. Rejects when the first load fails. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Builds an extender without listening: hand `listener` to a server, or drive it in-process. */
export function createExtender(opts: ExtenderOptions): Extender {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const now = opts.now ?? Date.now;
  const index = new LocalityIndex({ ttlMs: opts.ttlMs ?? DEFAULTS.ttlMs });
  const metrics = createExtenderMetrics(() => index.stats(now()), { defaultMetrics: opts.defaultMetrics });
  const feed = new InventoryFeed(index, now, {
    inventory(node, outcome) {
      metrics.inventories.inc({ outcome: outcome.kind });
      if (outcome.kind === 'rejected') logger.warn({ node, reason: outcome.reason }, 'NodeCache rejected');
      else logger.debug({ node, outcome }, 'NodeCache');
    },
    invalid(kind, message) {
      metrics.invalidObjects.inc({ kind });
      logger.warn({ kind }, message);
    },
  });
  const ready = () => opts.source.synced();
  const decisions = new Decisions({
    index,
    policy: opts.policy ?? DEFAULTS.policy,
    scoring: opts.scoring,
    now,
    ready,
    jobCompletions: (ns, job) => feed.jobCompletions(ns, job),
  });
  const recent = recentPods();
  const prefix = opts.prefix ?? DEFAULTS.prefix;
  const { app, router, listener } = buildApp({
    decisions,
    metrics,
    logger,
    prefix,
    bodyLimit: opts.bodyLimit ?? DEFAULTS.bodyLimit,
    ready,
    nodeNames: () => feed.nodeNames(),
    seenPod: (pod) => recent.remember(pod),
    // The API's pod wins: a pod posted to the scheduler verbs by someone else cannot change what
    // explain shows for a real one. Remembered pods serve only pods the API does not (or cannot) give.
    findPod: async (namespace, name) => (await opts.readPod?.(namespace, name)) ?? recent.get(`${namespace}/${name}`),
  });

  const warm =
    opts.warm &&
    new WarmAhead({
      ...opts.warm,
      index,
      policy: opts.policy ?? DEFAULTS.policy,
      ...(opts.scoring ? { scoring: opts.scoring } : {}),
      jobCompletions: (ns, job) => feed.jobCompletions(ns, job),
      ready,
      metrics,
      logger,
      now,
    });

  let timer: NodeJS.Timeout | undefined;
  return {
    app,
    listener,
    router,
    index,
    feed,
    metrics,
    decisions,
    logger,
    ...(warm ? { warm } : {}),
    prefix,
    ready,
    async start() {
      timer = setInterval(() => {
        const expired = index.expire(now());
        if (expired.length === 0) return;
        metrics.ttlExpiries.inc(expired.length);
        logger.info({ nodes: expired.slice(0, 20), count: expired.length }, 'node inventories passed their TTL; they count as empty');
      }, opts.expireEveryMs ?? DEFAULTS.expireEveryMs);
      timer.unref();
      warm?.start(); // it plans only once the index has synced
      await opts.source.start(feed, {
        restarted(resource, err) {
          metrics.informerRestarts.inc({ resource });
          logger.warn({ resource, err: err.message }, 'watch ended with an error; restarting the informer');
        },
      });
      logger.info(index.stats(now()), 'inventory synced');
    },
    async close() {
      if (timer) clearInterval(timer);
      await warm?.stop();
      await opts.source.close();
    },
  };
}

/** Characters of a label or annotation map, keys and values. */
function text(m: Record<string, string> | null | undefined): number {
  let n = 0;
  for (const k in m) n += k.length + m[k].length;
  return n;
}

/** Bounds on the pods remembered for explain: a pod body may be tens of megabytes. */
export const RECENT_PODS = { maxBytes: 16 * 1024 * 1024, maxPodBytes: 64 * 1024 };

/**
 * The pods the scheduler asked about, for explain: only the fields scoring reads (names, labels,
 * annotations, owners, PVC volumes), bounded in bytes in all; a pod whose fields alone pass
 * `maxPodBytes` is not remembered (explain reads it from the API).
 */
export function recentPods(limits = RECENT_PODS) {
  const cache = new LRUCache<string, PodLike>({ maxSize: limits.maxBytes, maxEntrySize: limits.maxPodBytes });
  return {
    remember(pod: PodLike): void {
      const meta = pod.metadata;
      if (!meta?.name) return;
      const slim: PodLike = {
        metadata: {
          name: meta.name,
          namespace: meta.namespace,
          labels: meta.labels,
          annotations: meta.annotations,
          ownerReferences: meta.ownerReferences?.map((o) => ({ kind: o.kind, name: o.name, controller: o.controller })),
        },
        spec: {
          volumes: (pod.spec?.volumes ?? [])
            .filter((v) => v.persistentVolumeClaim)
            .map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: v.persistentVolumeClaim?.claimName } })),
        },
      };
      const key = `${meta.namespace || 'default'}/${meta.name}`;
      // Its size is the length of the text it keeps, counted without serialising it: this runs on
      // every filter and prioritize call.
      const bytes =
        key.length +
        text(meta.labels) +
        text(meta.annotations) +
        (slim.metadata!.ownerReferences ?? []).reduce((n, o) => n + (o.kind?.length ?? 0) + (o.name?.length ?? 0), 0) +
        slim.spec!.volumes!.reduce((n, v) => n + (v.name?.length ?? 0) + (v.persistentVolumeClaim?.claimName?.length ?? 0), 0);
      // Too large to remember: forget any older copy too, so explain does not show a stale one.
      if (bytes > limits.maxPodBytes) cache.delete(key);
      else cache.set(key, slim, { size: bytes });
    },
    get: (key: string): PodLike | undefined => cache.get(key),
    get bytes(): number {
      return cache.calculatedSize;
    },
  };
}

export interface RunningExtender extends Extender {
  server: Server;
  /** `http://host:port`, e.g. for `urlPrefix: <url>/scheduler`. */
  url: string;
  /** Resolves once the source has synced (startExtender does not wait for it). */
  synced: Promise<void>;
}

/**
 * Listens on `host:port` (port 0 picks a free one) and starts the source. Requests are answered
 * (neutrally) before the sources sync; /readyz tells when they have.
 */
export async function startExtender(opts: ExtenderOptions & { host?: string; port?: number }): Promise<RunningExtender> {
  const ext = createExtender(opts);
  const server = createServer(ext.listener);
  // A slow client must not hold a connection: the scheduler's own timeout is seconds.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 65_000;
  const served = await serve(server, { host: opts.host ?? DEFAULTS.host, port: opts.port ?? DEFAULTS.port });
  const synced = ext.start();
  synced.catch((err: Error) => ext.logger.error({ err: err.message }, 'inventory sources failed to start'));
  return {
    ...ext,
    server,
    url: served.url,
    synced,
    async close() {
      await served.close();
      await ext.close();
    },
  };
}
