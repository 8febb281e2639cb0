// The operator as a unit: the controller, its metrics, and a small HTTP app for /metrics, /healthz
// and /readyz. The CLI, the operator tests and the e2e suite all start it here.
import { createServer, type Server } from 'node:http';
import { Router } from '@koa/router';
import type { KubeConfig } from '@kubernetes/client-node';
import Koa from 'koa';
import pino, { type Logger } from 'pino';
import { HiveMetastoreLocator, type TableLocator } from '../catalog/hive.js';
import type { CatalogObject } from '../catalog/listing.js';
import { listObjects, type S3Credentials, type S3Location } from '../catalog/s3.js';
import { addressDenial } from './policy.js';
import type { KubeClient } from '../kube/client.js';
import type { BackoffOptions } from '../kube/backoff.js';
import { createOperatorMetrics, type OperatorMetrics } from '../metrics/operator.js';
import type { OperatorConfig } from './config.js';
import { DatasetController } from './controller.js';
import { errorMiddleware, opsRoutes } from '../runtime/ops.js';
import { handler, serve } from '../runtime/serve.js';

export interface OperatorOptions {
  kc: KubeConfig;
  client: KubeClient;
  config: OperatorConfig;
  namespace?: string;
  logger?: Logger;
  locator?: TableLocator;
  listObjects?: (loc: S3Location, creds: S3Credentials) => Promise<CatalogObject[]>;
  backoff?: BackoffOptions;
  workers?: number;
  /** How often the agent key file is checked for a change (default 10 s). */
  agentKeyPollMs?: number;
  /** Record process metrics too (the CLI does; tests do not). */
  defaultMetrics?: boolean;
}

export interface Operator {
  controller: DatasetController;
  metrics: OperatorMetrics;
  app: Koa;
  logger: Logger;
  /** Starts the informers and workers; resolves once the informers have synced. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createOperator(opts: OperatorOptions): Operator {
  const logger = opts.logger ?? pino({ level: 'silent' });
  // The gauges are read at scrape time, once the controller exists.
  const metrics = createOperatorMetrics(
    {
      podsPerDataset: () => controller.podsPerDataset(),
      queueDepth: () => controller.queue.length,
    },
    { defaultMetrics: opts.defaultMetrics },
  );
  // Names in a Dataset passed the policy; the addresses they resolve to are checked when connecting.
  const checkAddress = (address: string) => addressDenial(address, opts.config.policy)?.message;
  const controller = new DatasetController({
    kc: opts.kc,
    client: opts.client,
    config: opts.config,
    namespace: opts.namespace,
    locator: opts.locator ?? new HiveMetastoreLocator({ checkAddress }),
    listObjects: opts.listObjects ?? ((loc, creds) => listObjects(loc, creds, { checkAddress })),
    metrics,
    logger,
    backoff: opts.backoff,
    workers: opts.workers,
    agentKeyPollMs: opts.agentKeyPollMs,
  });
  const app = buildApp(metrics, () => controller.ready(), logger);
  return {
    controller,
    metrics,
    app,
    logger,
    start: () => controller.start(),
    close: () => controller.stop(),
  };
}

function buildApp(metrics: OperatorMetrics, ready: () => boolean, logger: Logger): Koa {
  const app = new Koa();
  const router = opsRoutes(new Router(), { registry: metrics.registry, ready, notReady: 'informers not synced' });
  app.use(errorMiddleware({ observe: (ctx, _failure, err) => logger.warn({ path: ctx.path, err }, 'request failed') }));
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}

export interface RunningOperator extends Operator {
  server: Server;
  url: string;
}

/** Listens on host:port (port 0 picks a free one), then starts the controller. */
export async function startOperator(opts: OperatorOptions & { host?: string; port?: number }): Promise<RunningOperator> {
  const op = createOperator(opts);
  const served = await serve(createServer(handler(op.app)), { host: opts.host ?? '0.0.0.0', port: opts.port ?? 8080 });
  try {
    await op.start();
  } catch (err) {
    await served.close();
    throw err;
  }
  return {
    ...op,
    server: served.server,
    url: served.url,
    async close() {
      await op.close();
      await served.close();
    },
  };
}
