// The agent's remote for tests: a real s3rver on 127.0.0.1 behind a loopback proxy that records every
// request, so tests count the remote reads the agent really made. `slowReads` makes it a slow, narrow
// store: ranged GETs are answered one at a time in arrival order, each after a delay, so which read the
// agent sent first decides which is answered first.
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';

export { S3RVER_KEYS };

export interface RemoteRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
}

export interface Remote {
  /** The proxy, which the agent reads from. */
  endpoint: string;
  /** s3rver itself, for writes that must not be counted. */
  direct: TestS3;
  requests: RemoteRequest[];
  /** GETs of one object (ranged reads), since the last reset. */
  gets(bucket: string, key: string): RemoteRequest[];
  close(): Promise<void>;
}

export async function startRemote(buckets: string[], opts: { slowReads?: { delayMs: number } } = {}): Promise<Remote> {
  const direct = await startS3(buckets);
  const target = new URL(direct.endpoint);
  const requests: RemoteRequest[] = [];
  let line = Promise.resolve();
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const forward = (done: () => void) => {
      const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
        r.on('close', done);
      });
      up.on('error', (err) => {
        res.destroy(err);
        done();
      });
      req.pipe(up);
    };
    const slow = opts.slowReads;
    if (slow && req.method === 'GET' && req.headers.range) {
      line = line.then(() => new Promise<void>((done) => setTimeout(() => forward(done), slow.delayMs)));
    } else forward(() => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    direct,
    requests,
    gets: (bucket, key) =>
      requests.filter((r) => r.method === 'GET' && r.url.split('?')[0] === `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await direct.close();
    },
  };
}
