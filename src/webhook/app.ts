// The webhook's Koa app, built apart from the HTTPS server so tests can drive it either way.
// Routes: POST /mutate-pods (AdmissionReview v1), GET /healthz, /readyz, /metrics.
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readJson } from '../runtime/body.js';
import { errorMiddleware, opsRoutes } from '../runtime/ops.js';
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

  app.use(
    errorMiddleware({
      classify: (err) => (err instanceof z.ZodError ? { status: 400, message: describeZod(err) } : undefined),
      body: (message) => ({ error: message }),
      observe(_ctx, { status, message }, err) {
        metrics.admissions.inc({ result: status === 500 ? 'error' : 'bad-request' });
        if (status === 500) log.error({ err }, 'request failed');
        else log.warn({ status, err: message }, 'request refused');
      },
    }),
  );

  router.post(MUTATE_PATH, async (ctx) => {
    const end = metrics.duration.startTimer();
    const { request } = admissionReviewSchema.parse(await readJson(ctx.req, opts.bodyLimit));
    const timeout = parseTimeout(ctx.query.timeout as string | undefined) ?? DEFAULT_TIMEOUT_MS;
    const verdict = await review(request, opts, Math.max(timeout - MARGIN_MS, timeout / 2));
    ctx.body = admissionResponse(request.uid, verdict);
    const result = verdict.denial ? 'denied' : verdict.patch?.length ? 'mutated' : 'unchanged';
    metrics.admissions.inc({ result });
    end();
    log.info(
      {
        uid: request.uid,
        namespace: request.namespace,
        pod: request.name || undefined,
        result,
        ...(verdict.denial ? { reason: verdict.denial.message } : {}),
        warnings: verdict.warnings?.length || undefined,
      },
      'admission',
    );
  });

  // Serving at all means the certificate pair loaded: always ready.
  opsRoutes(router, { registry: metrics.registry });

  app.use(router.routes()).use(router.allowedMethods());
  return app;
}

/** `request.uid: expected string` for the first few issues: the field and what it must be. */
function describeZod(err: z.ZodError): string {
  return (
    err.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
      .join('; ') + ' (the body must be an AdmissionReview admission.k8s.io/v1)'
  );
}
