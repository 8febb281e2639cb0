// The webhook's HTTPS server: the Koa app behind node:https, on the certificate files it keeps
// reloading. This is what `locus webhook` runs and what tests start on 127.0.0.1.
import { createServer, type Server } from 'node:https';
import { handler, serve } from '../runtime/serve.js';
import { webhookMetrics, type WebhookMetrics } from '../metrics/webhook.js';
import { buildApp, MUTATE_PATH, type AppOptions } from './app.js';
import { CertReloader } from './cert-reloader.js';

const CLOSE_GRACE_MS = 2_000;

export interface WebhookServerOptions extends Omit<AppOptions, 'metrics'> {
  host: string;
  /** 0 picks a free port. */
  port: number;
  certFile: string;
  keyFile: string;
  /** How often the certificate files are checked for a new pair. */
  reloadIntervalMs: number;
  /** Warn when the certificate expires within this many days. */
  expiryWarnDays: number;
  processMetrics?: boolean;
}

export interface RunningWebhook {
  /** `https://host:port/mutate-pods`, the MutatingWebhookConfiguration's `clientConfig.url`. */
  url: string;
  port: number;
  server: Server;
  metrics: WebhookMetrics;
  reloader: CertReloader;
  close(): Promise<void>;
}

export async function startWebhook(opts: WebhookServerOptions): Promise<RunningWebhook> {
  const reloader = await CertReloader.load({
    certFile: opts.certFile,
    keyFile: opts.keyFile,
    intervalMs: opts.reloadIntervalMs,
    warnDays: opts.expiryWarnDays,
    log: opts.log,
    // Called from polls only, which start after `metrics` exists.
    onReload: (outcome) => metrics.certReloads.inc({ outcome }),
  });
  const metrics = webhookMetrics(() => {
    const expires = reloader.notAfter;
    return expires && Math.floor((expires.getTime() - Date.now()) / 1000);
  }, opts.processMetrics);
  const app = buildApp({ ...opts, metrics });
  const server = createServer({ ...reloader.pem, minVersion: 'TLSv1.2' }, handler(app));
  // The API server reuses connections: keep idle ones past the 5 s default to save TLS handshakes.
  server.keepAliveTimeout = 30_000;
  const served = await serve(server, { host: opts.host, port: opts.port }, 'https');
  reloader.watch(server);
  return {
    url: `${served.url}${MUTATE_PATH}`,
    port: served.port,
    server,
    metrics,
    reloader,
    async close() {
      reloader.stop();
      // Reviews in flight get a moment to finish (they are bounded by the API server's timeout anyway).
      await served.close(CLOSE_GRACE_MS);
    },
  };
}
