// Listening and closing, the same for every server (HTTP or HTTPS): `--listen host:port`, port 0
// picks a free one, and close() lets requests in flight finish for a bounded grace period.
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type Koa from 'koa';

export interface Listen {
  host: string;
  port: number;
}

export interface Served<S extends Server> {
  server: S;
  /** The port actually bound (for port 0). */
  port: number;
  /** `<scheme>://host:port`, IPv6 hosts in brackets. */
  url: string;
  /** Stops accepting, closes idle connections, and ends the rest after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** Listens on `at` with an already built server; rejects when the address cannot be bound. */
export async function serve<S extends Server>(server: S, at: Listen, scheme: 'http' | 'https' = 'http'): Promise<Served<S>> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    port: address.port,
    url: `${scheme}://${host}:${address.port}`,
    close: (graceMs = 0) => closeServer(server, graceMs),
  };
}

/** A Koa app as a node request listener; Koa answers its own errors, so nothing is left to await. */
export function handler(app: Koa): (req: IncomingMessage, res: ServerResponse) => void {
  const callback = app.callback();
  return (req, res) => {
    void callback(req, res);
  };
}

interface HttpLike extends Server {
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
}

async function closeServer(server: HttpLike, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = once(server, 'close');
  server.close();
  server.closeIdleConnections?.();
  const force = graceMs > 0 ? setTimeout(() => server.closeAllConnections?.(), graceMs) : undefined;
  if (force === undefined) server.closeAllConnections?.();
  await closed;
  clearTimeout(force);
}
