// Real certificates and real HTTPS calls for the webhook tests, all on 127.0.0.1.
import { mkdtempSync } from 'node:fs';
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

/** POST an AdmissionReview with the headers kube-apiserver sends (test/fixtures/http-requests.json). */
export function admit(url: string, ca: string, review: unknown, timeout = '10s'): Promise<Reply> {
  const body = JSON.stringify(review);
  return call(`${url}?timeout=${timeout}`, ca, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, */*', 'Accept-Encoding': 'gzip', 'User-Agent': 'kube-apiserver-admission' },
  });
}
