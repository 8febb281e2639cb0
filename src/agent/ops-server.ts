// The agent's operations port: /healthz and /metrics, apart from the S3 port so that no bucket name
// ("metrics" is a valid one) is shadowed.
import Koa from 'koa';
import type { Registry } from 'prom-client';

export function opsApp(registry: Registry, healthy: () => boolean): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') ctx.throw(405);
    if (ctx.path === '/healthz') {
      const ok = healthy();
      ctx.status = ok ? 200 : 503;
      ctx.body = ok ? 'ok\n' : 'not ready\n';
    } else if (ctx.path === '/metrics') {
      ctx.type = registry.contentType;
      ctx.body = await registry.metrics();
    } else {
      ctx.throw(404, 'try /healthz or /metrics');
    }
  });
  return app;
}
