import { expect } from 'chai';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ensureBucket } from '../../src/operator/provision.js';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';

describe('provision: "true" (s3rver)', () => {
  let s3: TestS3;
  before(async () => {
    s3 = await startS3(['existing']);
  });
  after(() => s3?.close());

  it('creates a missing bucket once, and leaves an existing one alone', async () => {
    expect(await ensureBucket({ endpoint: s3.endpoint, bucket: 'my-model' }, S3RVER_KEYS)).to.deep.equal({ ok: true, created: true });
    expect(await ensureBucket({ endpoint: s3.endpoint, bucket: 'my-model' }, S3RVER_KEYS)).to.deep.equal({ ok: true, created: false });
    expect(await ensureBucket({ endpoint: s3.endpoint, bucket: 'existing' }, S3RVER_KEYS)).to.deep.equal({ ok: true, created: false });
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3RVER_KEYS.accessKeyID, secretAccessKey: S3RVER_KEYS.secretAccessKey },
    });
    await client.send(new HeadBucketCommand({ Bucket: 'my-model' }));
    client.destroy();
  });

  it('says why when the store cannot be reached', async () => {
    const r = await ensureBucket({ endpoint: 'http://127.0.0.1:9', bucket: 'x-bucket' }, S3RVER_KEYS, 2000);
    expect(r.ok).to.equal(false);
    expect(!r.ok && r.message).to.match(/could not create bucket x-bucket at http:\/\/127.0.0.1:9 \(provision: "true"\)/);
  });
});
