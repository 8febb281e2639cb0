// Requests through the Koa app's callback without a socket: a readable request and a real
// ServerResponse whose end() is captured. For tests that send many thousands of bodies.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type Koa from 'koa';

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

export function inProcess(app: Koa): (method: string, url: string, body?: string | Buffer, headers?: Record<string, string>) => Promise<Answer> {
  const handle = app.callback();
  return (method, url, body, headers = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const data = body === undefined ? [] : [typeof body === 'string' ? Buffer.from(body) : body];
      const req = Object.assign(Readable.from(data), {
        method,
        url,
        headers: { 'content-type': 'application/json', ...(body === undefined ? {} : { 'content-length': String(data[0].length) }), ...headers },
        httpVersionMajor: 1,
        httpVersionMinor: 1,
        socket: { remoteAddress: '127.0.0.1' },
      }) as unknown as IncomingMessage;
      const res = new ServerResponse(req);
      res.end = ((chunk?: unknown) => {
        resolve({ status: res.statusCode, headers: res.getHeaders(), body: chunk === undefined ? '' : String(chunk) });
        return res;
      }) as typeof res.end;
      Promise.resolve(handle(req, res)).catch(reject);
    });
}
