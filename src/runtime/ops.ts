// What every server answers the same way: errors → HTTP statuses in one middleware, and the
// operations routes /healthz, /readyz and /metrics.
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Registry } from 'prom-client';
import { HttpError } from './body.js';

export interface HttpFailure {
  status: number;
  message: string;
}

export interface ErrorMiddlewareOptions {
  /** Maps a component's own error types (wire or schema errors) to a status; HttpError is known already. */
  classify?: (err: unknown) => HttpFailure | undefined;
  /** The body of an error answer (the extender keeps the wire's `Error` key, the webhook `error`). */
  body?: (message: string, status: number) => unknown;
  /** Counts and logs each failure; `err` is the original error. */
  observe?: (ctx: Koa.Context, failure: HttpFailure, err: unknown) => void;
}

/** The one place errors become HTTP failures: known errors keep their status and message, others are 500. */
export function httpFailure(err: unknown, classify?: ErrorMiddlewareOptions['classify']): HttpFailure {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  return classify?.(err) ?? { status: 500, message: `internal error: ${(err as Error).message}` };
}

/** A body past the limit is not read to its end: its connection is closed, not kept for another request. */
export const closesConnection = (failure: HttpFailure): boolean => failure.status === 413;

/** Koa's side of `httpFailure`: the failure as the answer's status and body. */
export function errorMiddleware(opts: ErrorMiddlewareOptions = {}): Koa.Middleware {
  const body = opts.body ?? ((message: string) => `${message}\n`);
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const failure = httpFailure(err, opts.classify);
      ctx.status = failure.status;
      ctx.body = body(failure.message, failure.status);
      if (closesConnection(failure)) ctx.set('Connection', 'close');
      opts.observe?.(ctx, failure, err);
    }
  };
}

export interface OpsRoutesOptions {
  registry: Registry;
  /** Whether the component can serve yet; always ready when absent. */
  ready?: () => boolean;
  /** Why it is not ready, for the /readyz body. */
  notReady?: string;
}

/** GET /healthz (serving at all is healthy), /readyz (200 or 503) and /metrics (Prometheus text). */
export function opsRoutes(router: Router, opts: OpsRoutesOptions): Router {
  router.get('/healthz', (ctx) => {
    ctx.body = 'ok';
  });
  router.get('/readyz', (ctx) => {
    const ready = opts.ready?.() ?? true;
    ctx.status = ready ? 200 : 503;
    ctx.body = ready ? 'ready' : `not ready: ${opts.notReady ?? 'starting'}`;
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = opts.registry.contentType;
    ctx.body = await opts.registry.metrics();
  });
  return router;
}

/** An app of the operations routes alone, for a port of its own. */
export function opsApp(opts: OpsRoutesOptions & Pick<ErrorMiddlewareOptions, 'observe'>): Koa {
  const app = new Koa();
  const router = opsRoutes(new Router(), opts);
  app.use(errorMiddleware({ observe: opts.observe }));
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
