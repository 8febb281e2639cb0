// The agent's S3 front end (path-style): GetObject (with Range) through the block cache, HeadObject,
// HeadBucket and ListObjectsV2 passed through to the remote. The agent is a read-only cache, so
// every write (PUT, POST, DELETE) is refused with 403 AccessDenied, the answer a client gets from a
// bucket it may read but not write; mounters surface it as "permission denied". With agent keys
// configured, a request is served only when signed for a Dataset, and only inside its bucket/prefix.
// A GetObject naming a block (peer fill by another agent, signed the same way) is answered from the
// cache only, with the block's digest, never from the object store.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import Koa from 'koa';
import type { Logger } from 'pino';
import { PATTERNS } from '../api/dataset.js';
import type { AgentMetrics } from '../metrics/agent.js';
import { confine, type AgentAccess } from './access.js';
import { CorruptBlockError, type BlockStore } from './block-store.js';
import type { DatasetSource } from './catalogs.js';
import { PEER_BLOCK_PARAM, PEER_DIGEST_HEADER } from './peer-fill.js';
import type { ReadThrough } from './read-through.js';
import { S3Error } from './s3-error.js';
import { errorXml, listObjectsV2Xml } from './s3-xml.js';
import { decode } from './sigv4.js';
import { ObjectChangedError, type Upstream } from './upstream.js';

export interface S3ApiOptions {
  readThrough: ReadThrough;
  /** Answers peer reads of blocks. */
  store: BlockStore;
  upstream: Upstream;
  access: AgentAccess;
  metrics: AgentMetrics;
  log: Logger;
}

/** Query parameters naming sub-resources the agent does not serve (ACLs, tagging, uploads…). */
const UNSUPPORTED_QUERY = [
  'acl',
  'tagging',
  'uploads',
  'uploadId',
  'versioning',
  'versions',
  'policy',
  'cors',
  'lifecycle',
  'partNumber',
  'versionId',
  'torrent',
  'attributes',
];

export function s3App(opts: S3ApiOptions): Koa {
  const app = new Koa();
  // Errors after the headers went out: a client that hung up early is no news; anything else is.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
    opts.log.warn({ err }, 'S3 response failed after it started');
  });
  app.use(async (ctx, next) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    ctx.set('x-amz-request-id', requestId);
    ctx.state.operation = 'Unknown';
    try {
      await next();
    } catch (err) {
      const e = toS3Error(err);
      if (e.status >= 500) opts.log.warn({ err, path: ctx.path }, 'S3 request failed');
      ctx.status = e.status;
      if (ctx.method !== 'HEAD') {
        ctx.type = 'application/xml';
        ctx.body = errorXml(e.code, e.message, ctx.path, requestId);
      }
    } finally {
      opts.metrics.requests.inc({ operation: ctx.state.operation as string, code: String(ctx.status) });
    }
  });
  app.use(async (ctx) => {
    const { bucket, key } = splitPath(ctx.path);
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.state.operation = 'Write';
      throw new S3Error(403, 'AccessDenied', `the Locus node cache agent is read-only: ${ctx.method} is refused; write to the object store itself`);
    }
    const unsupported = UNSUPPORTED_QUERY.find((q) => q in ctx.query);
    if (unsupported || bucket === undefined) {
      throw new S3Error(
        501,
        'NotImplemented',
        `the agent serves GetObject, HeadObject, HeadBucket and ListObjectsV2 only${unsupported ? ` (not ?${unsupported})` : ''}`,
      );
    }
    const grant = opts.access.authorize(ctx.req as { method: string; url: string; headers: typeof ctx.req.headers });
    if (key === undefined) {
      if (grant) confine(grant, bucket, ctx.method === 'HEAD' ? {} : { listPrefix: typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '' });
      if (ctx.method === 'HEAD') {
        ctx.state.operation = 'HeadBucket';
        await opts.upstream.headBucket(bucket);
        ctx.status = 200;
        return;
      }
      if (ctx.query['list-type'] !== '2') throw new S3Error(501, 'NotImplemented', 'list with ListObjectsV2 (list-type=2)');
      ctx.state.operation = 'ListObjectsV2';
      await listObjects(ctx, opts, bucket);
      return;
    }
    if (grant) confine(grant, bucket, { key });
    const block = ctx.query[PEER_BLOCK_PARAM];
    if (block !== undefined && ctx.method === 'GET') {
      ctx.state.operation = 'PeerBlock';
      await peerBlock(ctx, opts.store, bucket, block, grant);
    } else if (ctx.method === 'HEAD') {
      ctx.state.operation = 'HeadObject';
      await headObject(ctx, opts, bucket, key);
    } else {
      ctx.state.operation = 'GetObject';
      await getObject(ctx, opts, bucket, key, grant);
    }
  });
  return app;
}

/**
 * A block for a peer agent, whole, from the cache only (404 when it is not here: the asker reads the
 * object store itself), with its digest; every part must lie inside the signer's Dataset.
 */
async function peerBlock(ctx: Koa.Context, store: BlockStore, bucket: string, id: unknown, grant: DatasetSource | undefined): Promise<void> {
  if (typeof id !== 'string' || !/^[0-9a-f]{40}$/.test(id)) throw new S3Error(400, 'InvalidArgument', `${PEER_BLOCK_PARAM} must be a block id (40 hex digits)`);
  const notHere = () => new S3Error(404, 'NoSuchKey', `block ${id} is not cached on this node; peers never read the object store for each other`);
  const spec = store.spec(id);
  if (!spec || spec.bucket !== bucket) throw notHere();
  if (grant) for (const p of spec.parts) confine(grant, bucket, { key: p.key });
  const digest = await store.digest(id);
  const body = await store.stream(id, 0, spec.length).catch((err: unknown) => {
    if (err instanceof CorruptBlockError) return undefined;
    throw err;
  });
  if (!digest || !body) throw notHere();
  ctx.status = 200;
  ctx.set(PEER_DIGEST_HEADER, digest);
  ctx.type = 'application/octet-stream';
  ctx.body = Readable.from(body, { objectMode: false });
  ctx.length = spec.length;
}

async function listObjects(ctx: Koa.Context, opts: S3ApiOptions, bucket: string): Promise<void> {
  const q = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : undefined);
  const maxKeys = q('max-keys');
  const out = await opts.upstream.list({
    Bucket: bucket,
    Prefix: q('prefix'),
    Delimiter: q('delimiter'),
    ContinuationToken: q('continuation-token'),
    StartAfter: q('start-after'),
    FetchOwner: q('fetch-owner') === 'true',
    ...(maxKeys !== undefined ? { MaxKeys: Number(maxKeys) } : {}),
    ...(q('encoding-type') === 'url' ? { EncodingType: 'url' as const } : {}),
  });
  if (out.EncodingType !== 'url') for (const o of out.Contents ?? []) if (o.Key && o.ETag) opts.readThrough.observe(bucket, o.Key, o.ETag);
  ctx.type = 'application/xml';
  ctx.body = listObjectsV2Xml(out);
}

/** HeadObject is passed through (content type and user metadata included); its ETag is noted. */
async function headObject(ctx: Koa.Context, opts: S3ApiOptions, bucket: string, key: string): Promise<void> {
  const head = await opts.upstream.head(bucket, key);
  const etag = head.ETag ?? '';
  opts.readThrough.observe(bucket, key, etag);
  for (const [k, v] of Object.entries(head.Metadata ?? {})) ctx.set(`x-amz-meta-${k}`, v);
  if (objectHeaders(ctx, etag, head.LastModified, head.ContentType)) return;
  ctx.status = 200;
  ctx.set('Content-Length', String(head.ContentLength ?? 0));
}

async function getObject(ctx: Koa.Context, opts: S3ApiOptions, bucket: string, key: string, grant: DatasetSource | undefined): Promise<void> {
  const view = await opts.readThrough.resolve(bucket, key, grant);
  if (objectHeaders(ctx, view.etag, view.lastModified, view.contentType)) return;
  const range = parseRange(ctx.get('Range'), view.size);
  const [start, end] = range ?? [0, view.size - 1];
  const length = end - start + 1;
  const body = await opts.readThrough.read(length > 0 ? view.segments(start, end) : []);
  ctx.status = range ? 206 : 200;
  if (range) ctx.set('Content-Range', `bytes ${start}-${end}/${view.size}`);
  ctx.body = Readable.from(body, { objectMode: false });
  ctx.length = length;
}

/** Sets an object's headers and applies If-Match / If-None-Match; true when that already answered. */
function objectHeaders(ctx: Koa.Context, etag: string, lastModified: Date | undefined, contentType: string | undefined): boolean {
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('ETag', etag);
  if (lastModified) ctx.set('Last-Modified', lastModified.toUTCString());
  ctx.type = contentType ?? 'application/octet-stream';
  const ifMatch = ctx.get('If-Match');
  if (ifMatch && !etagListHas(ifMatch, etag)) throw new S3Error(412, 'PreconditionFailed', `If-Match ${ifMatch} does not match ETag ${etag}`);
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch && etagListHas(ifNoneMatch, etag)) {
    ctx.status = 304;
    return true;
  }
  return false;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` against an object of `size` bytes; undefined means the whole object. */
export function parseRange(header: string, size: number): [number, number] | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // S3 ignores a range it cannot parse
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
    if (Number(m[2]) === 0) throw invalidRange(header, size);
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw invalidRange(header, size);
  return [start, end];
}

const invalidRange = (header: string, size: number) =>
  new S3Error(416, 'InvalidRange', `the requested range ${header} is not satisfiable for an object of ${size} bytes`);

function etagListHas(list: string, etag: string): boolean {
  return list.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === etag || `"${v}"` === etag;
  });
}

const BUCKET = new RegExp(PATTERNS.bucket);

/**
 * `/bucket/some/key` → bucket and key, each URL-decoded; `/` has neither. Refused with S3's codes: a
 * malformed escape (400 InvalidURI), a bad bucket name (400 InvalidBucketName), and a key with a `.`
 * or `..` segment, encoded or not (400 InvalidURI): the object store's URL would resolve it to
 * another path, even another bucket.
 */
export function splitPath(path: string): { bucket?: string; key?: string } {
  const rest = path.replace(/^\//, '');
  if (rest === '') return {};
  const slash = rest.indexOf('/');
  const bucket = decode(slash < 0 ? rest : rest.slice(0, slash));
  if (!BUCKET.test(bucket)) throw new S3Error(400, 'InvalidBucketName', `"${bucket}" is not a valid bucket name`);
  const key = slash < 0 ? '' : decode(rest.slice(slash + 1));
  if (key.split('/').some((s) => s === '.' || s === '..')) {
    throw new S3Error(400, 'InvalidURI', 'object keys with "." or ".." path segments are refused: the object store would resolve them to another object');
  }
  return { bucket, ...(key !== '' ? { key } : {}) };
}

/** Any failure as the S3 error a client expects: the remote's own answer where there is one. */
function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  if (err instanceof ObjectChangedError) return new S3Error(503, 'SlowDown', `${err.message} while it was being read; retry the request`);
  const sdk = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = sdk.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 300) {
    const code = status === 404 && (sdk.name === 'NotFound' || sdk.name === 'NoSuchKey') ? 'NoSuchKey' : (sdk.name ?? 'InternalError');
    return new S3Error(status, code, sdk.message || `the object store answered ${status}`);
  }
  return new S3Error(503, 'ServiceUnavailable', `the object store could not be reached: ${sdk.message ?? String(err)}`);
}
