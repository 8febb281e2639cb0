// The agent's S3 surface as an AWS SDK client sees it, compared with s3rver answering directly.
import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Agent } from '../../src/agent/agent.js';
import { parseRange, splitPath } from '../../src/agent/s3-api.js';
import { agentFor, bytes, clientFor, getBytes, s3Error, tempDir } from './harness.js';
import { startRemote, type Remote } from './remote.js';

const BUCKET = 'data';
const BODY = bytes(300_000, 3);

describe('agent S3 API', function () {
  this.timeout(30_000);
  let remote: Remote;
  let dir: string;
  let agent: Agent;
  let viaAgent: S3Client;
  let direct: S3Client;

  before(async () => {
    remote = await startRemote([BUCKET]);
    for (const key of ['a/1', 'a/2', 'a/sub/3', 'b/4', 'odd key/ü+%.bin']) await remote.direct.put(BUCKET, key, BODY);
    dir = await tempDir();
    agent = await agentFor(remote, dir);
    viaAgent = clientFor(agent.s3Url);
    direct = clientFor(remote.endpoint);
  });
  after(async () => {
    viaAgent.destroy();
    direct.destroy();
    await agent.close();
    await remote.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses writes with 403 AccessDenied and leaves the remote untouched', async () => {
    expect(await s3Error(viaAgent.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/new', Body: 'x' })))).to.deep.equal({
      name: 'AccessDenied',
      status: 403,
    });
    expect(await s3Error(viaAgent.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'a/1' })))).to.deep.equal({ name: 'AccessDenied', status: 403 });
    expect(remote.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).to.deep.equal([]);
    expect((await getBytes(direct, BUCKET, 'a/1')).equals(BODY)).to.equal(true);
  });

  it('passes ListObjectsV2 through: prefix, delimiter, pages', async () => {
    const ask = (c: S3Client, token?: string) =>
      c.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'a/', Delimiter: '/', MaxKeys: 1, ContinuationToken: token }));
    const [mine, theirs] = await Promise.all([ask(viaAgent), ask(direct)]);
    const shape = (o: typeof mine) => ({
      keys: o.Contents?.map((c) => [c.Key, c.Size, c.ETag, c.LastModified?.toISOString()]),
      prefixes: o.CommonPrefixes?.map((p) => p.Prefix),
      truncated: o.IsTruncated,
      keyCount: o.KeyCount,
    });
    expect(shape(mine)).to.deep.equal(shape(theirs));
    expect(mine.IsTruncated).to.equal(true);
    const next = await ask(viaAgent, mine.NextContinuationToken);
    expect(next.Contents?.map((c) => c.Key)).to.deep.equal(['a/2']);
    const all = await viaAgent.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(all.Contents?.map((c) => c.Key)).to.deep.equal(['a/1', 'a/2', 'a/sub/3', 'b/4', 'odd key/ü+%.bin']);
  });

  it('answers HeadObject and HeadBucket like the remote, and 404 NoSuchKey for a missing key', async () => {
    const [mine, theirs] = await Promise.all([viaAgent, direct].map((c) => c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'odd key/ü+%.bin' }))));
    expect([mine.ContentLength, mine.ETag, mine.LastModified?.getTime(), mine.ContentType]).to.deep.equal([
      theirs.ContentLength,
      theirs.ETag,
      theirs.LastModified?.getTime(),
      theirs.ContentType,
    ]);
    await viaAgent.send(new HeadBucketCommand({ Bucket: BUCKET }));
    expect(await s3Error(viaAgent.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/missing' })))).to.deep.equal({ name: 'NoSuchKey', status: 404 });
    expect((await s3Error(viaAgent.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a/missing' })))).status).to.equal(404);
  });

  it('serves suffix and open ranges, 416 past the end, 304 for a matching If-None-Match', async () => {
    expect((await viaAgent.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'b/4', Range: 'bytes=-10' }))).ContentRange).to.equal(
      `bytes ${BODY.length - 10}-${BODY.length - 1}/${BODY.length}`,
    );
    const open = await viaAgent.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'b/4', Range: 'bytes=299990-' }));
    expect(Buffer.from(await open.Body!.transformToByteArray()).equals(BODY.subarray(299_990))).to.equal(true);
    expect(await s3Error(viaAgent.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'b/4', Range: `bytes=${BODY.length}-` })))).to.deep.equal({
      name: 'InvalidRange',
      status: 416,
    });
    const etag = (await direct.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'b/4' }))).ETag;
    expect((await s3Error(viaAgent.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'b/4', IfNoneMatch: etag })))).status).to.equal(304);
  });

  it('exports its counters on /metrics and is healthy', async () => {
    expect((await fetch(`${agent.opsUrl}/healthz`)).status).to.equal(200);
    const text = await (await fetch(`${agent.opsUrl}/metrics`)).text();
    for (const name of [
      'locus_agent_block_hits_total',
      'locus_agent_block_misses_total',
      'locus_agent_served_bytes_total',
      'locus_agent_evictions_total',
      'locus_agent_report_seconds',
    ]) {
      expect(text).to.contain(name);
    }
    expect(text).to.match(/locus_agent_s3_requests_total\{operation="Write",code="403"\} [1-9]/);
  });
});

describe('agent S3 request parsing', () => {
  it('reads byte ranges as S3 does', () => {
    expect(parseRange('bytes=0-9', 100)).to.deep.equal([0, 9]);
    expect(parseRange('bytes=90-200', 100)).to.deep.equal([90, 99]);
    expect(parseRange('bytes=-5', 100)).to.deep.equal([95, 99]);
    expect(parseRange('bytes=-500', 100)).to.deep.equal([0, 99]);
    expect(parseRange('', 100)).to.equal(undefined);
    expect(parseRange('bytes=0-1,5-6', 100)).to.equal(undefined);
    expect(() => parseRange('bytes=100-', 100)).to.throw(/not satisfiable/);
  });

  it('splits and decodes path-style addresses', () => {
    expect(splitPath('/')).to.deep.equal({});
    expect(splitPath('/bucket')).to.deep.equal({ bucket: 'bucket' });
    expect(splitPath('/bucket/')).to.deep.equal({ bucket: 'bucket' });
    expect(splitPath('/bucket/a%20b/%C3%BC')).to.deep.equal({ bucket: 'bucket', key: 'a b/ü' });
  });
});
