// Lists an object-store Dataset (bucket + prefix) with paginated ListObjectsV2, for its catalog.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable, Transform } from 'node:stream';
import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { guardedLookup, type AddressCheck } from './address-guard.js';
import type { CatalogObject } from './listing.js';

export interface S3Location {
  endpoint: string;
  region?: string;
  bucket: string;
  prefix?: string;
}

export interface S3Credentials {
  accessKeyID: string;
  secretAccessKey: string;
}

export interface ListOptions {
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  pageSize?: number;
  /** Refuse Datasets with more objects than this, rather than hold an unbounded listing in memory. */
  maxObjects?: number;
  /** Per-request timeout: connecting, and silence on the socket. */
  timeoutMs?: number;
  /** Most bytes of one ListObjectsV2 answer (1,000 keys of S3's longest 1,024 bytes fit in 2 MiB). */
  maxPageBytes?: number;
  /** Most memory the listing may hold: key and ETag bytes plus a per-object overhead. */
  maxListingBytes?: number;
  /** Refuses addresses names resolve to (the administrator's policy), at connect time. */
  checkAddress?: AddressCheck;
  /** The whole listing, all pages: a server that trickles bytes never trips the silence timeout. */
  deadlineMs?: number;
}

export const LIST_LIMITS = { maxPageBytes: 8 * 1024 * 1024, maxListingBytes: 128 * 1024 * 1024, deadlineMs: 10 * 60_000 };
/** What one listed object costs beyond its key and ETag (object, array slot, numbers). */
const OBJECT_OVERHEAD = 96;

/** A listing that failed, with a message that says what to check. */
export class CatalogError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}

export async function listObjects(loc: S3Location, creds: S3Credentials, opts: ListOptions = {}): Promise<CatalogObject[]> {
  const maxObjects = opts.maxObjects ?? 5_000_000;
  const client = new S3Client({
    endpoint: loc.endpoint,
    region: loc.region || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.accessKeyID, secretAccessKey: creds.secretAccessKey },
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: opts.timeoutMs ?? 10_000,
      requestTimeout: opts.timeoutMs ?? 30_000,
      ...(opts.checkAddress
        ? { httpAgent: new HttpAgent({ lookup: guardedLookup(opts.checkAddress) }), httpsAgent: new HttpsAgent({ lookup: guardedLookup(opts.checkAddress) }) }
        : {}),
    },
  });
  const maxPageBytes = opts.maxPageBytes ?? LIST_LIMITS.maxPageBytes;
  const maxListingBytes = opts.maxListingBytes ?? LIST_LIMITS.maxListingBytes;
  // Each answer is cut off past maxPageBytes before the SDK's XML parser holds it ("low": below the deserializer).
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const response = out.response as { body?: unknown };
      if (response.body instanceof Readable) response.body = bounded(response.body, maxPageBytes);
      return out;
    },
    { step: 'deserialize', priority: 'low', name: 'locusBoundedBody' },
  );
  const deadline = AbortSignal.timeout(opts.deadlineMs ?? LIST_LIMITS.deadlineMs);
  const objects: CatalogObject[] = [];
  let held = 0;
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: loc.bucket,
          Prefix: loc.prefix || undefined,
          MaxKeys: opts.pageSize,
          ContinuationToken: token,
        }),
        { abortSignal: deadline },
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        objects.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '' });
        held += o.Key.length + (o.ETag?.length ?? 0) + OBJECT_OVERHEAD;
      }
      if (objects.length > maxObjects || held > maxListingBytes) {
        throw new CatalogError(
          `s3://${loc.bucket}/${loc.prefix ?? ''} holds more than ${objects.length > maxObjects ? `${maxObjects} objects` : `${maxListingBytes} bytes of keys`}; narrow spec.local.prefix`,
          'TooManyObjects',
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    throw err instanceof CatalogError ? err : explain(err, loc);
  } finally {
    client.destroy();
  }
  return objects;
}

/** S3's own answers: they show the endpoint is an S3 service, so the Dataset's owner may see them. */
const S3_CODES = new Set([
  'NoSuchBucket',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'Forbidden',
  'InvalidBucketName',
  'AllAccessDisabled',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'RequestTimeTooSkewed',
]);

/**
 * Turns S3 errors into a message naming the Dataset field to check. Anything else (refused, reset,
 * timed out, too large, not S3's XML) gets ONE message and code: the status is readable by the
 * tenant, and telling a refused port from a parse error would make the operator a port scanner.
 * The detail is kept in `cause`, for the operator's log.
 */
function explain(err: unknown, loc: S3Location): CatalogError {
  const where = `s3://${loc.bucket}/${loc.prefix ?? ''} at ${loc.endpoint}`;
  if (err instanceof S3ServiceException && S3_CODES.has(err.name)) {
    const code = err.name;
    const hint =
      code === 'NoSuchBucket'
        ? 'check the bucket name'
        : code === 'InvalidBucketName' || code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed'
          ? 'check the endpoint, region and bucket'
          : code === 'RequestTimeTooSkewed'
            ? "the object store's clock is off"
            : "check the credentials in the Dataset's Secret";
    return new CatalogError(`listing ${where} failed: ${code}: ${err.message}; ${hint}`, code);
  }
  const failure = new CatalogError(
    `listing ${where} failed: no usable S3 answer (unreachable, too slow, too large, or not an S3 service); check the endpoint is an S3 service reachable from the operator`,
    'EndpointUnusable',
  );
  failure.cause = err;
  return failure;
}

/** `body`, failing once more than `max` bytes came through (and closing the connection). */
function bounded(body: Readable, max: number): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) {
        body.destroy();
        done(new Error(`answer larger than ${max} bytes`));
      } else done(null, chunk);
    },
  });
  body.on('error', (err) => out.destroy(err));
  return body.pipe(out);
}
