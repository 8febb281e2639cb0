// What the agent probes share: S3 clients and SigV4 signers holding a Dataset's derived credentials
// (signed as the AWS SDK signs for S3), and raw HTTP requests that send a path byte for byte.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { agentCredentials } from '../../src/api/agent-credentials.js';

/** A test agent key (32+ bytes, as the agent requires). */
export const AGENT_KEY = Buffer.from('test-agent-key-0123456789abcdef-0123456789');

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

export function credsFor(namespace: string, name: string, key = AGENT_KEY): Creds {
  const c = agentCredentials(key, namespace, name);
  return { accessKeyId: c.accessKeyID, secretAccessKey: c.secretAccessKey };
}

export function s3ClientAs(endpoint: string, credentials: Creds): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const toBytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** node:crypto in the shape @smithy/signature-v4 takes. */
class Sha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret ? createHmac('sha256', toBytes(this.secret)) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.h.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}

/** The S3 client's own signer settings: the path is signed as sent (not escaped again). */
function signer(credentials: Creds): SignatureV4 {
  return new SignatureV4({ service: 's3', region: 'us-east-1', credentials, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
}

function target(endpoint: string, rawPath: string) {
  const u = new URL(endpoint);
  return { protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: rawPath, headers: { host: u.host } as Record<string, string> };
}

/** Headers of a GET of `rawPath` (sent as is) signed with `credentials` (Authorization header form). */
export async function signedHeaders(
  endpoint: string,
  rawPath: string,
  credentials: Creds,
  query: Record<string, string> = {},
): Promise<Record<string, string>> {
  const t = target(endpoint, rawPath);
  const signed = await signer(credentials).sign({
    method: 'GET',
    protocol: 'http:',
    hostname: t.hostname,
    port: t.port,
    path: rawPath,
    query,
    headers: { ...t.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  return signed.headers;
}

/** A presigned URL for a GET of `rawPath`, as S3 presigners make them. */
export async function presignedUrl(endpoint: string, rawPath: string, credentials: Creds, expiresIn = 300, signingDate?: Date): Promise<string> {
  const t = target(endpoint, rawPath);
  // As the S3 presigner does: the payload is UNSIGNED-PAYLOAD, a header neither signed nor put in the URL.
  const signed = await signer(credentials).presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: t.hostname,
      port: t.port,
      path: rawPath,
      query: { 'x-id': 'GetObject' },
      headers: { ...t.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    {
      expiresIn,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set(['x-amz-content-sha256']),
      ...(signingDate ? { signingDate } : {}),
    },
  );
  const q = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${endpoint}${rawPath}?${q}`;
}

export interface RawResponse {
  status: number;
  body: string;
}

/** A GET whose path goes on the wire exactly as given (fetch would normalise `..` and escapes). */
export function rawGet(endpoint: string, rawPathAndQuery: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const t = target(endpoint, rawPathAndQuery);
  return new Promise((resolve, reject) => {
    const req = request({ ...t, method: 'GET', headers: { ...t.headers, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The S3 error code in an error body. */
export function errorCode(body: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
}
