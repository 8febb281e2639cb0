// AWS Signature Version 4 verification for the agent's S3 port, in both forms the AWS SDKs send:
// the Authorization header and presigned URLs (X-Amz-* query parameters). The canonical request is
// rebuilt from the request exactly as it arrived (S3 signs the path as sent, without normalising it),
// so a path that decodes differently from what was signed never verifies.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './s3-error.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a signed request's time may be from the agent's clock, as S3 allows. */
export const MAX_SKEW_MS = 15 * 60_000;
/** The longest a presigned URL may live, as S3 allows (7 days). */
const MAX_EXPIRES_S = 7 * 24 * 3600;

export interface RawRequest {
  method: string;
  /** Path and query exactly as received (`req.url`). */
  url: string;
  headers: IncomingHttpHeaders;
}

/** What a valid signature proves: who signed (the access key id). */
export interface Signed {
  accessKeyId: string;
}

interface Parsed {
  accessKeyId: string;
  scope: { date: string; region: string; service: string };
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  payloadHash: string;
  /** Query parameters taking part in the signature. */
  query: [string, string][];
  /** Presigned URLs only: seconds the signature is valid from amzDate. */
  expires?: number;
}

/**
 * Verifies the request's signature with the secrets `secretsOf(accessKeyId)` returns (several while
 * a key is rotated); throws the S3Error S3 itself would answer when it is missing or wrong.
 */
export function verifySigV4(req: RawRequest, secretsOf: (accessKeyId: string) => readonly string[], now: number): Signed {
  const [rawPath, rawQuery = ''] = splitUrl(req.url);
  const params = parseQuery(rawQuery);
  const p = params.some(([k]) => k === 'X-Amz-Algorithm') ? fromQuery(params) : fromHeader(req.headers, params);
  checkTime(p, now);
  const secrets = secretsOf(p.accessKeyId);
  if (secrets.length === 0) {
    throw new S3Error(403, 'InvalidAccessKeyId', "the access key id is not one the agent issued for a Dataset: use the credentials in your Dataset's Secret");
  }
  const canonical = [
    req.method,
    canonicalPath(rawPath),
    canonicalQuery(p.query),
    p.signedHeaders.map((h) => `${h}:${headerValue(req.headers, h)}\n`).join(''),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
  const scope = `${p.scope.date}/${p.scope.region}/${p.scope.service}/aws4_request`;
  const toSign = `${ALGORITHM}\n${p.amzDate}\n${scope}\n${sha256Hex(canonical)}`;
  const given = Buffer.from(p.signature, 'hex');
  for (const secret of secrets) {
    let key = hmac(`AWS4${secret}`, p.scope.date);
    for (const part of [p.scope.region, p.scope.service, 'aws4_request']) key = hmac(key, part);
    const expected = hmac(key, toSign);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { accessKeyId: p.accessKeyId };
  }
  throw new S3Error(403, 'SignatureDoesNotMatch', "the request signature does not match: sign with the access key id and secret of your Dataset's Secret");
}

/**
 * Signs a body-less request in the Authorization-header form the verifier accepts (host, x-amz-date and
 * x-amz-content-sha256 signed): the headers to send. `url` is the path and query as they will be sent.
 */
export function signSigV4(
  req: { method: string; url: string; host: string },
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
  now: number,
): Record<string, string> {
  const amzDate = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = { host: req.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-date': amzDate };
  const names = Object.keys(headers).sort();
  const [rawPath, rawQuery = ''] = splitUrl(req.url);
  const canonical = [
    req.method,
    canonicalPath(rawPath),
    canonicalQuery(parseQuery(rawQuery)),
    names.map((h) => `${h}:${headers[h]}\n`).join(''),
    names.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = hmac(key, `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`).toString('hex');
  return {
    ...headers,
    authorization: `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

/** Whether a request carries any SigV4 (or older) authentication at all. */
export function isSigned(req: RawRequest): boolean {
  return req.headers.authorization !== undefined || /[?&](X-Amz-Algorithm|AWSAccessKeyId)=/.test(req.url);
}

function fromHeader(headers: IncomingHttpHeaders, params: [string, string][]): Parsed {
  const auth = headers.authorization ?? '';
  if (!auth.startsWith(`${ALGORITHM} `)) {
    throw new S3Error(400, 'InvalidRequest', `the authorization mechanism is not supported: sign requests with ${ALGORITHM} (AWS Signature Version 4)`);
  }
  const fields = new Map<string, string>();
  for (const f of auth.slice(ALGORITHM.length + 1).split(',')) {
    const eq = f.indexOf('=');
    if (eq > 0) fields.set(f.slice(0, eq).trim(), f.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', 'the Authorization header needs Credential, SignedHeaders and Signature');
  }
  const amzDate = single(headers['x-amz-date']);
  if (!amzDate) throw new S3Error(403, 'AccessDenied', 'a signed request needs an X-Amz-Date header');
  const payloadHash = single(headers['x-amz-content-sha256']);
  if (!payloadHash) throw new S3Error(400, 'InvalidRequest', 'a signed request needs an x-amz-content-sha256 header');
  return {
    ...credentialOf(credential, 'AuthorizationHeaderMalformed'),
    amzDate,
    signedHeaders: headersOf(signedHeaders, ['x-amz-date']),
    signature,
    payloadHash,
    query: params,
  };
}

function fromQuery(params: [string, string][]): Parsed {
  const get = (k: string) => params.find(([n]) => n === k)?.[1];
  const fail = (what: string) => new S3Error(400, 'AuthorizationQueryParametersError', what);
  if (get('X-Amz-Algorithm') !== ALGORITHM) throw fail(`X-Amz-Algorithm must be ${ALGORITHM}`);
  const credential = get('X-Amz-Credential');
  const amzDate = get('X-Amz-Date');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  const expires = Number(get('X-Amz-Expires'));
  if (!credential || !amzDate || !signedHeaders || !signature)
    throw fail('a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature');
  if (!(Number.isInteger(expires) && expires > 0 && expires <= MAX_EXPIRES_S)) throw fail(`X-Amz-Expires must be 1 to ${MAX_EXPIRES_S} seconds`);
  return {
    ...credentialOf(credential, 'AuthorizationQueryParametersError'),
    amzDate,
    signedHeaders: headersOf(signedHeaders, []),
    signature,
    payloadHash: get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    query: params.filter(([k]) => k !== 'X-Amz-Signature'),
    expires,
  };
}

/** `AKID/20260101/us-east-1/s3/aws4_request`. */
function credentialOf(credential: string, code: string): Pick<Parsed, 'accessKeyId' | 'scope'> {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || parts[3] !== 's3' || !/^\d{8}$/.test(parts[1])) {
    throw new S3Error(400, code, 'the credential scope must be <access key id>/<yyyymmdd>/<region>/s3/aws4_request');
  }
  return { accessKeyId: parts[0], scope: { date: parts[1], region: parts[2], service: parts[3] } };
}

/** Signed header names: lower-case, must include host (and `required`). */
function headersOf(list: string, required: string[]): string[] {
  const names = list.split(';').map((h) => h.trim().toLowerCase());
  for (const h of ['host', ...required]) {
    if (!names.includes(h)) throw new S3Error(403, 'AccessDenied', `the signature must cover the ${h} header`);
  }
  return names;
}

function checkTime(p: Parsed, now: number): void {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(p.amzDate);
  if (!m || m[1] + m[2] + m[3] !== p.scope.date)
    throw new S3Error(403, 'AccessDenied', 'X-Amz-Date must be yyyymmddThhmmssZ on the date of the credential scope');
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (p.expires !== undefined) {
    if (now > t + p.expires * 1000) throw new S3Error(403, 'AccessDenied', 'Request has expired: presign the URL again');
    if (t - now > MAX_SKEW_MS) throw new S3Error(403, 'RequestTimeTooSkewed', "the presigned URL is dated in the future: check the client's clock");
  } else if (Math.abs(now - t) > MAX_SKEW_MS) {
    throw new S3Error(403, 'RequestTimeTooSkewed', "the difference between the request time and the agent's time is too large: check the client's clock");
  }
}

function splitUrl(url: string): [string, string?] {
  const q = url.indexOf('?');
  return q < 0 ? [url] : [url.slice(0, q), url.slice(q + 1)];
}

/** Query parameters as sent, decoded; a malformed escape is S3's 400 InvalidURI. */
export function parseQuery(raw: string): [string, string][] {
  if (raw === '') return [];
  return raw
    .split('&')
    .filter((s) => s !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return [decode(k), decode(v)];
    });
}

/** decodeURIComponent, with a malformed `%` escape answered as S3 does (400 InvalidURI, not retried). */
export function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error(400, 'InvalidURI', `could not parse the URI: "${s}" has a malformed %-escape`);
  }
}

/** RFC 3986 encoding as SigV4 specifies: everything but unreserved characters, upper-case hex. */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The path as sent, in canonical form: escapes upper-cased, anything not unreserved (or `/`) escaped. */
function canonicalPath(raw: string): string {
  return raw.replace(/%[0-9a-fA-F]{2}|[^A-Za-z0-9\-._~/%]/g, (m) => (m.startsWith('%') ? m.toUpperCase() : encode(m)));
}

function canonicalQuery(params: [string, string][]): string {
  return params
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return (Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ');
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}
