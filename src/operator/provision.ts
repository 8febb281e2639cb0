// Datashim's `provision: "true"`: the bucket a Dataset names is created when it does not exist yet,
// with the Dataset's own keys (so only where those keys may create buckets).
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Credentials, S3Location } from '../catalog/s3.js';

export type Provisioned = { ok: true; created: boolean } | { ok: false; message: string };

export async function ensureBucket(loc: S3Location, creds: S3Credentials, timeoutMs = 10_000): Promise<Provisioned> {
  const client = new S3Client({
    endpoint: loc.endpoint,
    region: loc.region || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.accessKeyID, secretAccessKey: creds.secretAccessKey },
    maxAttempts: 2,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: loc.bucket }));
      return { ok: true, created: false };
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw err;
    }
    await client.send(new CreateBucketCommand({ Bucket: loc.bucket }));
    return { ok: true, created: true };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    return {
      ok: false,
      message: `could not create bucket ${loc.bucket} at ${loc.endpoint} (provision: "true"): ${e.name ?? 'Error'}: ${e.message ?? ''}; create it yourself or give the Dataset keys that may create buckets`,
    };
  } finally {
    client.destroy();
  }
}
