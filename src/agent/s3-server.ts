// The HTTP server under the agent's S3 port, bounded against idle and slow clients: every pod on the
// node may connect, so a few that open connections and never finish (or never read) must not pin the
// agent's memory or sockets. A stalled reader holds at most the 1 MiB last read from disk and the
// socket buffers.
import { createServer, type RequestListener, type Server } from 'node:http';

export interface S3ServerLimits {
  /** Whole request headers must arrive within this (slow-header clients). */
  headersTimeoutMs: number;
  /** The whole request must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection with no bytes moving either way (a client that stopped reading) is closed after this. */
  idleTimeoutMs: number;
  /** Connections at once; more are refused by closing them. */
  maxConnections: number;
}

export const S3_SERVER_LIMITS: Readonly<S3ServerLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxConnections: 512,
};

export function s3Server(handler: RequestListener, limits: S3ServerLimits = S3_SERVER_LIMITS): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      // Node checks the two timeouts above on this period (30 s by default, which would triple a short timeout).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    handler,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
  server.maxConnections = limits.maxConnections;
  return server;
}
