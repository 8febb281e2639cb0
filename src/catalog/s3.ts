// Lists an object-store Dataset (bucket + prefix) with paginated ListObjectsV2, for its catalogue.
import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
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
  /** Per-request timeout. */
  timeoutMs?: number;
}

/** A listing that failed, with a message that says what to check. */
export class CatalogError extends Error {
  constructor(message: string, readonly code: string) {
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
    requestHandler: { connectionTimeout: opts.timeoutMs ?? 10_000, requestTimeout: opts.timeoutMs ?? 30_000 },
  });
  const objects: CatalogObject[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({
        Bucket: loc.bucket,
        Prefix: loc.prefix || undefined,
        MaxKeys: opts.pageSize,
        ContinuationToken: token,
      }));
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        objects.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '' });
      }
      if (objects.length > maxObjects) {
        throw new CatalogError(`s3://${loc.bucket}/${loc.prefix ?? ''} holds more than ${maxObjects} objects; narrow spec.local.prefix`, 'TooManyObjects');
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

/** Turns S3 and network errors into a message naming the Dataset field to check. */
function explain(err: unknown, loc: S3Location): CatalogError {
  const where = `s3://${loc.bucket}/${loc.prefix ?? ''} at ${loc.endpoint}`;
  if (err instanceof S3ServiceException) {
    const code = err.name;
    const hint =
      code === 'NoSuchBucket' ? 'check the bucket name'
        : ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden'].includes(code) ? 'check the credentials in the Dataset\'s Secret'
          : 'check the endpoint and bucket';
    return new CatalogError(`listing ${where} failed: ${code}: ${err.message}; ${hint}`, code);
  }
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? e.name ?? 'Error';
  return new CatalogError(`listing ${where} failed: ${code}: ${e.message}; check the endpoint is reachable from the operator`, code);
}
