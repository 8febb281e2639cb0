// The agent's operations port: /healthz and /metrics, apart from the S3 port so that no bucket name
// ("metrics" is a valid one) is shadowed. The agent listens only once its inventory is rebuilt from
// disk, so answering at all is being healthy.
import Koa from 'koa';
import type { Registry } from 'prom-client';

export function opsApp(registry: Registry): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') ctx.throw(405);
    if (ctx.path === '/healthz') {
      ctx.body = 'ok\n';
    } else if (ctx.path === '/metrics') {
      ctx.type = registry.contentType;
      ctx.body = await registry.metrics();
    } else {
      ctx.throw(404, 'try /healthz or /metrics');
    }
  });
  return app;
}
