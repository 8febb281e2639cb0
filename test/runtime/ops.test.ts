import { expect } from 'chai';
import { createServer } from 'node:http';
import Koa from 'koa';
import { Router } from '@koa/router';
import { Registry, Counter } from 'prom-client';
import { HttpError } from '../../src/runtime/body.js';
import { errorMiddleware, opsApp, opsRoutes } from '../../src/runtime/ops.js';
import { handler, serve } from '../../src/runtime/serve.js';
import { untilStopped } from '../../src/runtime/signals.js';

class WireError extends Error {}

describe('runtime/ops: one error middleware, one set of operations routes', () => {
  const registry = new Registry();
  new Counter({ name: 'demo_total', help: 'demo', registers: [registry] }).inc();
  const failures: Array<[number, string]> = [];
  let ready = false;
  const app = new Koa();
  const router = opsRoutes(new Router(), { registry, ready: () => ready, notReady: 'still syncing' });
  router.get('/http', () => {
    throw new HttpError(413, 'too big');
  });
  router.get('/wire', () => {
    throw new WireError('field x must be a string');
  });
  router.get('/boom', () => {
    throw new Error('kaput');
  });
  app.use(
    errorMiddleware({
      classify: (err) => (err instanceof WireError ? { status: 400, message: err.message } : undefined),
      body: (message) => ({ Error: message }),
      observe: (_ctx, f) => failures.push([f.status, f.message]),
    }),
  );
  app.use(router.routes());
  let url = '';
  let close: () => Promise<void>;
  before(async () => {
    const served = await serve(createServer(handler(app)), { host: '127.0.0.1', port: 0 });
    url = served.url;
    close = () => served.close();
  });
  after(() => close());

  it('maps HttpError, classified errors and the rest to a status and a body, observing each', async () => {
    const answers = await Promise.all(
      ['/http', '/wire', '/boom'].map(async (p) => {
        const res = await fetch(`${url}${p}`);
        return [res.status, await res.json(), res.headers.get('connection')];
      }),
    );
    expect(answers).to.deep.equal([
      [413, { Error: 'too big' }, 'close'],
      [400, { Error: 'field x must be a string' }, 'keep-alive'],
      [500, { Error: 'internal error: kaput' }, 'keep-alive'],
    ]);
    expect(failures).to.have.deep.members([
      [413, 'too big'],
      [400, 'field x must be a string'],
      [500, 'internal error: kaput'],
    ]);
  });

  it('serves /healthz, /readyz as the component says, and /metrics', async () => {
    expect(await (await fetch(`${url}/healthz`)).text()).to.equal('ok');
    const notYet = await fetch(`${url}/readyz`);
    expect([notYet.status, await notYet.text()]).to.deep.equal([503, 'not ready: still syncing']);
    ready = true;
    expect((await fetch(`${url}/readyz`)).status).to.equal(200);
    expect(await (await fetch(`${url}/metrics`)).text()).to.match(/^demo_total 1$/m);
  });

  it('opsApp alone answers the three routes and 405 for other methods', async () => {
    const served = await serve(createServer(handler(opsApp({ registry }))), { host: '127.0.0.1', port: 0 });
    try {
      expect((await fetch(`${served.url}/readyz`)).status).to.equal(200);
      expect((await fetch(`${served.url}/metrics`, { method: 'POST' })).status).to.equal(405);
      expect((await fetch(`${served.url}/nothing`)).status).to.equal(404);
    } finally {
      await served.close();
    }
  });
});

describe('runtime/serve and signals', () => {
  it('reports the bound port, refuses a taken one, and closes with a request in flight after the grace period', async () => {
    let answer: (() => void) | undefined;
    const a = await serve(
      createServer((_req, res) => {
        answer = () => res.end('late');
      }),
      { host: '127.0.0.1', port: 0 },
    );
    expect(a.url).to.equal(`http://127.0.0.1:${a.port}`);
    let refused: unknown;
    await serve(createServer(), { host: '127.0.0.1', port: a.port }).catch((err: unknown) => {
      refused = err;
    });
    expect((refused as NodeJS.ErrnoException).code).to.equal('EADDRINUSE');
    const inFlight = fetch(a.url).then(
      () => 'answered',
      () => 'cut',
    );
    while (!answer) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await a.close(100);
    expect(Date.now() - started).to.be.at.least(90);
    expect(await inFlight).to.equal('cut');
    expect(a.server.listening).to.equal(false);
  });

  it('untilStopped resolves on SIGTERM and on a failure, and removes its handlers', async () => {
    const before = process.listenerCount('SIGTERM');
    const stopped = untilStopped();
    process.emit('SIGTERM', 'SIGTERM');
    expect(await stopped).to.equal('SIGTERM');
    expect(await untilStopped(Promise.reject(new Error('sync failed')))).to.equal('failed');
    expect(process.listenerCount('SIGTERM')).to.equal(before);
  });
});
