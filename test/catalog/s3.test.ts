import { expect } from 'chai';
import { CatalogError, listObjects } from '../../src/catalog/s3.js';
import { S3RVER_KEYS, startS3, type TestS3 } from './s3rver.js';

describe('S3 catalog lister (real s3rver on 127.0.0.1)', () => {
  let s3: TestS3;
  before(async () => {
    s3 = await startS3(['data', 'empty']);
    for (let i = 0; i < 7; i++) await s3.put('data', `train/part-${i}.csv`, 'x'.repeat(100 + i));
    await s3.put('data', 'other/readme.txt', 'hello');
  });
  after(() => s3.close());

  it('lists every page of a prefix, in key order, with sizes and ETags', async () => {
    const objects = await listObjects({ endpoint: s3.endpoint, bucket: 'data', prefix: 'train/' }, S3RVER_KEYS, { pageSize: 2 });
    expect(objects.map((o) => o.key)).to.deep.equal([0, 1, 2, 3, 4, 5, 6].map((i) => `train/part-${i}.csv`));
    expect(objects.map((o) => o.size)).to.deep.equal([100, 101, 102, 103, 104, 105, 106]);
    expect(objects.every((o) => /^"?[0-9a-f]{32}"?$/.test(o.etag))).to.equal(true);
  });

  it('lists the whole bucket without a prefix, and nothing in an empty bucket', async () => {
    expect(await listObjects({ endpoint: s3.endpoint, bucket: 'data' }, S3RVER_KEYS)).to.have.length(8);
    expect(await listObjects({ endpoint: s3.endpoint, bucket: 'empty', prefix: '' }, S3RVER_KEYS)).to.deep.equal([]);
  });

  it('names the bucket and what to check when it does not exist', async () => {
    const err = await listObjects({ endpoint: s3.endpoint, bucket: 'nope' }, S3RVER_KEYS).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CatalogError);
    expect((err as CatalogError).code).to.equal('NoSuchBucket');
    expect((err as Error).message).to.match(/s3:\/\/nope\/.*check the bucket name/);
  });

  it('points at the Secret when the key id is unknown', async () => {
    const err = await listObjects({ endpoint: s3.endpoint, bucket: 'data' }, { accessKeyID: 'nobody', secretAccessKey: 'x' }).catch((e: unknown) => e);
    expect((err as Error).message).to.match(/InvalidAccessKeyId.*check the credentials/);
  });

  it('refuses listings above the object limit', async () => {
    const err = await listObjects({ endpoint: s3.endpoint, bucket: 'data' }, S3RVER_KEYS, { pageSize: 3, maxObjects: 4 }).catch((e: unknown) => e);
    expect((err as CatalogError).code).to.equal('TooManyObjects');
  });

  it("says when the endpoint is unusable, the same way whatever the cause (kept as the error's cause)", async () => {
    const err = await listObjects({ endpoint: 'http://127.0.0.1:1', bucket: 'data' }, S3RVER_KEYS, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect((err as Error).message).to.match(/no usable S3 answer .*check the endpoint is an S3 service reachable from the operator$/);
    expect((err as CatalogError).code).to.equal('EndpointUnusable');
    expect(((err as Error).cause as Error & { code?: string }).code).to.equal('ECONNREFUSED');
  });
});
