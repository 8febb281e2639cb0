// A private CA and a serving certificate it signs, for the webhook's HTTPS endpoint. The API server
// verifies the webhook against the CA (caBundle), so only the CA must stay stable across rotations.
import { generate } from 'selfsigned';

export interface Pem {
  cert: string;
  key: string;
}

export interface ServingCertOptions {
  /** DNS names, e.g. `locus-webhook.locus-system.svc`; the first is also the common name. */
  dns: string[];
  ips: string[];
  days: number;
  /** Start of validity (default now, less a minute for clock skew between nodes). */
  notBefore?: Date;
}

const DAY_MS = 86_400_000;
const SKEW_MS = 60_000;

export async function issueCa(opts: { commonName: string; days: number; notBefore?: Date }): Promise<Pem> {
  const notBeforeDate = opts.notBefore ?? new Date(Date.now() - SKEW_MS);
  const out = await generate([{ name: 'commonName', value: opts.commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + opts.days * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: out.cert, key: out.private };
}

export async function issueServingCert(ca: Pem, opts: ServingCertOptions): Promise<Pem> {
  if (opts.dns.length === 0 && opts.ips.length === 0) throw new Error('a serving certificate needs at least one --dns name or --ip address');
  const notBeforeDate = opts.notBefore ?? new Date(Date.now() - SKEW_MS);
  const out = await generate([{ name: 'commonName', value: opts.dns[0] ?? opts.ips[0] }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + opts.days * DAY_MS),
    ca: { cert: ca.cert, key: ca.key },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...opts.dns.map((value) => ({ type: 2 as const, value })), ...opts.ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { cert: out.cert, key: out.private };
}
