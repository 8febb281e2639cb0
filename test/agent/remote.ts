// The agent's remote for tests: a real s3rver on 127.0.0.1 behind a loopback proxy that records every
// request, so tests count the remote reads the agent really made.
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

export async function startRemote(buckets: string[]): Promise<Remote> {
  const direct = await startS3(buckets);
  const target = new URL(direct.endpoint);
  const requests: RemoteRequest[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => res.destroy(err));
    req.pipe(up);
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
