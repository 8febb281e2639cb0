// A misbehaving stand-in on the extender's address: answers every verb with HTTP 500, or never answers.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

export interface BrokenExtender {
  /** Requests received, by path. */
  calls: string[];
  close(): Promise<void>;
}

export async function startBrokenExtender(port: number, mode: 'error-500' | 'hang'): Promise<BrokenExtender> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    calls.push(req.url ?? '');
    req.resume();
    if (mode === 'error-500') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('broken on purpose');
    }
    // 'hang': hold the request open; the scheduler's httpTimeout ends it, close() drops it
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    calls,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
