// The webhook's Koa app, built apart from the HTTPS server so tests can drive it either way.
// Routes: POST /mutate-pods (AdmissionReview v1), GET /healthz, GET /metrics.
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HttpError, readJson } from '../runtime/body.js';
import type { WebhookMetrics } from '../metrics/webhook.js';
import { admissionResponse, admissionReviewSchema, parseTimeout } from './admission.js';
import { review, type ReviewDeps } from './review.js';

export const MUTATE_PATH = '/mutate-pods';

export interface AppOptions extends ReviewDeps {
  metrics: WebhookMetrics;
  log: Logger;
  /** Largest AdmissionReview accepted, bytes. */
  bodyLimit: number;
}

/** What the API server waits when `?timeout=` is absent (its default `timeoutSeconds`). */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Kept back from the API server's timeout for serialising and the network. */
const MARGIN_MS = 500;

export function buildApp(opts: AppOptions): Koa {
  const { metrics, log } = opts;
  const app = new Koa();
  const router = new Router();

  // The one place errors become HTTP answers.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError || err instanceof z.ZodError) {
        ctx.status = err instanceof HttpError ? err.status : 400;
        ctx.body = { error: err instanceof z.ZodError ? describeZod(err) : err.message };
        metrics.admissions.inc({ result: 'bad-request' });
        log.warn({ status: ctx.status, err: ctx.body.error }, 'request refused');
      } else {
        ctx.status = 500;
        ctx.body = { error: `internal error: ${(err as Error).message}` };
        metrics.admissions.inc({ result: 'error' });
        log.error({ err }, 'request failed');
      }
    }
  });

  router.post(MUTATE_PATH, async (ctx) => {
    const end = metrics.duration.startTimer();
    const { request } = admissionReviewSchema.parse(await readJson(ctx.req, opts.bodyLimit));
    const timeout = parseTimeout(ctx.query.timeout as string | undefined) ?? DEFAULT_TIMEOUT_MS;
    const verdict = await review(request, opts, Math.max(timeout - MARGIN_MS, timeout / 2));
    ctx.body = admissionResponse(request.uid, verdict);
    const result = verdict.denial ? 'denied' : verdict.patch?.length ? 'mutated' : 'unchanged';
    metrics.admissions.inc({ result });
    end();
    log.info({
      uid: request.uid, namespace: request.namespace, pod: request.name || undefined, result,
      ...(verdict.denial ? { reason: verdict.denial.message } : {}), warnings: verdict.warnings?.length || undefined,
    }, 'admission');
  });

  router.get('/healthz', (ctx) => {
    ctx.body = 'ok';
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  app.use(router.routes()).use(router.allowedMethods());
  return app;
}

/** `request.uid: expected string` for the first few issues: the field and what it must be. */
function describeZod(err: z.ZodError): string {
  return err.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') +
    ' (the body must be an AdmissionReview admission.k8s.io/v1)';
}
