// Real certificates and real HTTPS calls for the webhook tests, all on 127.0.0.1.
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { FILES, writeCertFiles } from '../../src/certs/files.js';
import { issueCa, issueServingCert, type Pem } from '../../src/certs/issue.js';

export interface CertDir {
  dir: string;
  ca: Pem;
  certFile: string;
  keyFile: string;
  /** Issues a new serving pair from the same CA into the same files. */
  rotate(days?: number): Promise<Pem>;
}

export async function certDir(days = 30): Promise<CertDir> {
  const dir = mkdtempSync(join(tmpdir(), 'locus-webhook-tls-'));
  const ca = await issueCa({ commonName: 'test-ca', days: 365 });
  const rotate = async (d = days) => {
    const serving = await issueServingCert(ca, { dns: ['localhost'], ips: ['127.0.0.1'], days: d });
    await writeCertFiles(dir, ca, serving);
    return serving;
  };
  await rotate();
  return { dir, ca, certFile: join(dir, FILES.cert), keyFile: join(dir, FILES.key), rotate };
}

export interface Reply {
  status: number;
  body: string;
  json(): unknown;
  peer: PeerCertificate;
}

/** One HTTPS request on a fresh connection, verifying the server against `ca` as the API server does. */
export function call(url: string, ca: string, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', ca, agent: false, headers: opts.headers }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body), peer });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** How kube-apiserver called the capture server (test/fixtures/http-requests.json). */
const CAPTURED = (
  JSON.parse(readFileSync('test/fixtures/http-requests.json', 'utf8')) as Record<
    string,
    {
      method: string;
      path: string;
      query: string;
      headers: Record<string, string>;
      client: string;
    }
  >
)['admission/pod-create-dataset-labels.json'];

/**
 * POSTs an AdmissionReview as kube-apiserver did: its method, query, client identification and headers
 * (Host and Content-Length are the connection's own). `url` is the webhook's `…/mutate-pods`.
 */
export function admit(url: string, ca: string, review: unknown, timeout?: string): Promise<Reply> {
  const { Host: _host, 'Content-Length': _length, ...headers } = CAPTURED.headers;
  const query = timeout === undefined ? CAPTURED.query : `timeout=${timeout}`;
  return call(`${url}?${query}`, ca, { method: CAPTURED.method, body: JSON.stringify(review), headers: { ...headers, 'User-Agent': CAPTURED.client } });
}
