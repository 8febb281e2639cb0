// The remote object store the agent reads through: the few S3 calls it makes, over the AWS SDK.
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type HeadObjectCommandOutput,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import type { BlockSpec, ListedObject, Part } from './layout.js';

export interface UpstreamOptions {
  endpoint: string;
  region: string;
  /** Absent: the SDK's default chain (environment, web identity, instance metadata). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Parallel part fetches for one block made of many small objects. */
  partConcurrency?: number;
}

/** The object changed under a block: its ETag is no longer the one the block was laid out with. */
export class ObjectChangedError extends Error {
  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly etag: string,
  ) {
    super(`s3://${bucket}/${key} changed (ETag now ${etag})`);
  }
}

export class Upstream {
  readonly client: S3Client;
  private readonly partConcurrency: number;

  constructor(opts: UpstreamOptions) {
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: true,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
    this.partConcurrency = opts.partConcurrency ?? 8;
  }

  /**
   * Streams a block's parts into `sink` as they arrive (nothing block-sized is held in memory): each
   * part read with a ranged GET, checked against its ETag and length; up to `partConcurrency` parts
   * at once for blocks made of many small objects.
   */
  async loadBlock(spec: BlockSpec, sink: (part: number, chunk: Buffer) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < spec.parts.length; i = next++) {
        for await (const chunk of this.readPart(spec.bucket, spec.parts[i], 0, spec.parts[i].length)) await sink(i, chunk);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.partConcurrency, spec.parts.length) }, worker));
  }

  /** Bytes [from, from + length) of a block straight from the remote: for blocks the cache cannot keep. */
  async *readRange(spec: BlockSpec, from: number, length: number): AsyncIterable<Buffer> {
    let base = 0;
    for (const p of spec.parts) {
      const a = Math.max(from, base);
      const b = Math.min(from + length, base + p.length);
      if (b > a) yield* this.readPart(spec.bucket, p, a - base, b - a);
      base += p.length;
    }
  }

  /** `length` bytes at `offset` into a part, checked against the part's ETag. */
  private async *readPart(bucket: string, p: Part, offset: number, length: number): AsyncIterable<Buffer> {
    const from = p.offset + offset;
    const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: p.key, Range: `bytes=${from}-${from + length - 1}` }));
    if (res.ETag !== undefined && res.ETag !== p.etag) {
      res.Body?.transformToWebStream()
        .cancel()
        .catch(() => undefined);
      throw new ObjectChangedError(bucket, p.key, res.ETag);
    }
    let n = 0;
    for await (const chunk of res.Body as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > length) break;
      yield chunk;
    }
    if (n !== length) throw new ObjectChangedError(bucket, p.key, res.ETag ?? '');
  }

  head(bucket: string, key: string): Promise<HeadObjectCommandOutput> {
    return this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  }

  async headBucket(bucket: string): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
  }

  list(input: ListObjectsV2CommandInput): Promise<ListObjectsV2CommandOutput> {
    return this.client.send(new ListObjectsV2Command(input));
  }

  /** Every object under `prefix`, in the store's key order. */
  async listAll(bucket: string, prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.list({ Bucket: bucket, Prefix: prefix, ContinuationToken: token });
      for (const o of page.Contents ?? []) {
        out.push({ key: o.Key!, size: o.Size ?? 0, etag: o.ETag ?? '', ...(o.LastModified ? { lastModified: o.LastModified } : {}) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  destroy(): void {
    this.client.destroy();
  }
}
