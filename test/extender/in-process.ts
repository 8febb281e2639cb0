// Requests through the extender's request listener (or any Koa app's callback) without a socket: a
// readable request and a real ServerResponse whose end() is captured. For tests that send many
// thousands of bodies.
import { IncomingMessage, ServerResponse, type OutgoingHttpHeaders, type RequestListener } from 'node:http';
import { Readable } from 'node:stream';
import type Koa from 'koa';

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

export function inProcess(
  target: RequestListener | Koa,
): (method: string, url: string, body?: string | Buffer, headers?: Record<string, string>) => Promise<Answer> {
  const handle = typeof target === 'function' ? target : target.callback();
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
      // Headers passed to writeHead as a flat list are not kept by getHeaders(): record them here.
      const written: Record<string, unknown> = {};
      const writeHead = res.writeHead.bind(res) as (status: number, headers?: OutgoingHttpHeaders | string[]) => ServerResponse;
      res.writeHead = ((status: number, list?: OutgoingHttpHeaders | string[]) => {
        if (Array.isArray(list)) for (let i = 0; i < list.length; i += 2) written[list[i].toLowerCase()] = list[i + 1];
        return writeHead(status, list);
      }) as typeof res.writeHead;
      res.end = ((chunk?: unknown) => {
        resolve({ status: res.statusCode, headers: { ...res.getHeaders(), ...written }, body: chunk === undefined ? '' : String(chunk) });
        return res;
      }) as typeof res.end;
      Promise.resolve(handle(req, res)).catch(reject);
    });
}
