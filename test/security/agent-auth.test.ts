// Probe 2: the agent's S3 port served every cached and upstream object to anyone who reached it, and
// `GET /tenant-a/data%2f..%2f..%2ftenant-b%2fsecret%2fsalaries.csv` returned another bucket's object
// (the key's `..` segments, decoded, were resolved by the upstream URL). Now a read must be signed
// (SigV4, header or presigned form) with credentials derived for one Dataset, and stays inside that
// Dataset's bucket and prefix; `.`/`..` keys and malformed escapes get S3's 400 InvalidURI.
import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Agent } from '../../src/agent/agent.js';
import { agentCredentials, parseAgentKeys } from '../../src/api/agent-credentials.js';
import { agentFor, getBytes, s3Error, tempDir } from '../agent/harness.js';
import { startRemote, type Remote } from '../agent/remote.js';
import { AGENT_KEY, credsFor, errorCode, presignedUrl, rawGet, s3ClientAs, signedHeaders } from './agent-support.js';

const SALARIES = 'name,salary\nalice,1000000\n';
const OLD_KEY = Buffer.from('the-previous-agent-key-still-accepted-0123');
const DATASETS = [
  { namespace: 'tenant-a', name: 'data', bucket: 'tenant-a', prefix: 'data/' },
  { namespace: 'tenant-b', name: 'secret', bucket: 'tenant-b', prefix: 'secret/' },
];

describe('security probe 2: the agent serves a Dataset only to its credentials, inside its bucket/prefix', function () {
  this.timeout(30_000);
  let remote: Remote;
  let dir: string;
  let agent: Agent;
  let tenantA: S3Client;

  before(async () => {
    remote = await startRemote(['tenant-a', 'tenant-b']);
    await remote.direct.put('tenant-a', 'data/train.csv', 'a,b\n1,2\n');
    await remote.direct.put('tenant-a', 'private/notes.txt', 'not in the Dataset');
    await remote.direct.put('tenant-b', 'secret/salaries.csv', SALARIES);
    dir = await tempDir();
    agent = await agentFor(remote, dir, { datasets: DATASETS, auth: { keys: [AGENT_KEY, OLD_KEY] } });
    tenantA = s3ClientAs(agent.s3Url, credsFor('tenant-a', 'data'));
  });
  after(async () => {
    tenantA.destroy();
    await agent.close();
    await remote.close();
    await rm(dir, { recursive: true, force: true });
  });

  const PROBE = '/tenant-a/data%2f..%2f..%2ftenant-b%2fsecret%2fsalaries.csv';

  it("refuses the traversal probe, unsigned and signed with tenant-a's credentials, and never asks the remote for tenant-b", async () => {
    const unsigned = await rawGet(agent.s3Url, PROBE);
    expect(unsigned.body).not.to.contain('alice');
    expect([unsigned.status, errorCode(unsigned.body)]).to.deep.equal([400, 'InvalidURI']);
    const signed = await rawGet(agent.s3Url, PROBE, await signedHeaders(agent.s3Url, PROBE, credsFor('tenant-a', 'data')));
    expect([signed.status, errorCode(signed.body)]).to.deep.equal([400, 'InvalidURI']);
    // The same through the AWS SDK, which sends the `..` segments literally.
    expect(await s3Error(tenantA.send(new GetObjectCommand({ Bucket: 'tenant-a', Key: 'data/../../tenant-b/secret/salaries.csv' })))).to.deep.equal({
      name: 'InvalidURI',
      status: 400,
    });
    for (const path of ['/tenant-a/data/%2e%2e/private/notes.txt', '/tenant-a/data/./train.csv']) {
      expect(errorCode((await rawGet(agent.s3Url, path)).body), path).to.equal('InvalidURI');
    }
    expect(remote.requests.filter((r) => r.url.includes('tenant-b') || r.url.includes('..'))).to.deep.equal([]);
  });

  it('answers a malformed %-escape with 400 InvalidURI, which SDKs do not retry (not 503)', async () => {
    for (const path of ['/tenant-a/data/%zz', '/tenant-a/data/%E0%A4%A', '/tenant-a%/x']) {
      const r = await rawGet(agent.s3Url, path);
      expect([r.status, errorCode(r.body)], path).to.deep.equal([400, 'InvalidURI']);
    }
  });

  it('refuses anonymous reads, unknown keys, wrong secrets and the older AWS signature', async () => {
    const anonymous = await rawGet(agent.s3Url, '/tenant-a/data/train.csv');
    expect([anonymous.status, errorCode(anonymous.body)]).to.deep.equal([403, 'AccessDenied']);
    const stranger = s3ClientAs(agent.s3Url, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
    expect(await s3Error(stranger.send(new GetObjectCommand({ Bucket: 'tenant-a', Key: 'data/train.csv' })))).to.deep.equal({
      name: 'InvalidAccessKeyId',
      status: 403,
    });
    stranger.destroy();
    const forged = s3ClientAs(agent.s3Url, { accessKeyId: credsFor('tenant-a', 'data').accessKeyId, secretAccessKey: 'guessed' });
    expect(await s3Error(forged.send(new GetObjectCommand({ Bucket: 'tenant-a', Key: 'data/train.csv' })))).to.deep.equal({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
    forged.destroy();
    const v2 = await rawGet(agent.s3Url, '/tenant-a/data/train.csv', {
      authorization: `AWS ${credsFor('tenant-a', 'data').accessKeyId}:c2lnbmF0dXJl`,
      date: new Date().toUTCString(),
    });
    expect([v2.status, errorCode(v2.body)]).to.deep.equal([400, 'InvalidRequest']);
    // Another Dataset's credentials under a key the agent does not hold.
    const otherKey = s3ClientAs(agent.s3Url, credsFor('tenant-a', 'data', Buffer.from('some-other-cluster-agent-key-0123456789')));
    expect((await s3Error(otherKey.send(new GetObjectCommand({ Bucket: 'tenant-a', Key: 'data/train.csv' })))).status).to.equal(403);
    otherKey.destroy();
  });

  it('serves the Dataset to its credentials (header form through the SDK, presigned URLs), also those of a rotated key', async () => {
    expect((await getBytes(tenantA, 'tenant-a', 'data/train.csv')).toString()).to.equal('a,b\n1,2\n');
    const listed = await tenantA.send(new ListObjectsV2Command({ Bucket: 'tenant-a', Prefix: 'data/' }));
    expect(listed.Contents?.map((c) => c.Key)).to.deep.equal(['data/train.csv']);
    await tenantA.send(new HeadBucketCommand({ Bucket: 'tenant-a' }));
    const url = await presignedUrl(agent.s3Url, '/tenant-a/data/train.csv', credsFor('tenant-a', 'data'));
    const presigned = await fetch(url);
    expect([presigned.status, await presigned.text()]).to.deep.equal([200, 'a,b\n1,2\n']);
    const rotated = s3ClientAs(agent.s3Url, credsFor('tenant-a', 'data', OLD_KEY));
    expect((await getBytes(rotated, 'tenant-a', 'data/train.csv')).toString()).to.equal('a,b\n1,2\n');
    rotated.destroy();
  });

  it("keeps a Dataset's credentials to its bucket and prefix: other buckets, keys and listings are 403 AccessDenied", async () => {
    expect(await s3Error(tenantA.send(new GetObjectCommand({ Bucket: 'tenant-b', Key: 'secret/salaries.csv' })))).to.deep.equal({
      name: 'AccessDenied',
      status: 403,
    });
    expect(await s3Error(tenantA.send(new GetObjectCommand({ Bucket: 'tenant-a', Key: 'private/notes.txt' })))).to.deep.equal({
      name: 'AccessDenied',
      status: 403,
    });
    expect(await s3Error(tenantA.send(new ListObjectsV2Command({ Bucket: 'tenant-a' })))).to.deep.equal({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(tenantA.send(new ListObjectsV2Command({ Bucket: 'tenant-b', Prefix: 'secret/' })))).to.deep.equal({
      name: 'AccessDenied',
      status: 403,
    });
    expect((await s3Error(tenantA.send(new HeadBucketCommand({ Bucket: 'tenant-b' })))).status).to.equal(403);
  });

  it('refuses presigned URLs that expired, were altered, or point elsewhere', async () => {
    const creds = credsFor('tenant-a', 'data');
    const expired = await presignedUrl(agent.s3Url, '/tenant-a/data/train.csv', creds, 60, new Date(Date.now() - 3_600_000));
    const r1 = await fetch(expired);
    expect([r1.status, errorCode(await r1.text())]).to.deep.equal([403, 'AccessDenied']);
    const altered = (await presignedUrl(agent.s3Url, '/tenant-a/data/train.csv', creds)).replace('/data/train.csv', '/private/notes.txt');
    const r2 = await fetch(altered);
    expect(r2.status).to.equal(403);
    expect(await r2.text()).not.to.contain('not in the Dataset');
    const elsewhere = await presignedUrl(agent.s3Url, '/tenant-b/secret/salaries.csv', creds);
    const r3 = await fetch(elsewhere);
    expect([r3.status, errorCode(await r3.text())]).to.deep.equal([403, 'AccessDenied']);
  });

  it('derives per-Dataset credentials the operator and the agents agree on, and refuses weak keys', () => {
    const a = agentCredentials(AGENT_KEY, 'tenant-a', 'data');
    expect(agentCredentials(AGENT_KEY, 'tenant-a', 'data')).to.deep.equal(a);
    // `tenant-a/b-c` and `tenant/a-b-c` must not share credentials.
    const names = [
      ['tenant-a', 'b-c'],
      ['tenant', 'a-b-c'],
      ['tenant-a', 'data'],
      ['tenant-b', 'data'],
    ];
    const ids = new Set(names.map(([ns, n]) => agentCredentials(AGENT_KEY, ns, n).accessKeyID));
    expect(ids.size).to.equal(names.length);
    expect(a.accessKeyID).to.match(/^LOCUS[0-9A-F]{27}$/);
    expect(a.accessKeyID).not.to.contain('tenant');
    expect(() => parseAgentKeys('short\n', 'key')).to.throw(/at least 32/);
    expect(parseAgentKeys(`\n${AGENT_KEY.toString()}\n${OLD_KEY.toString()}\n`, 'key')).to.deep.equal([AGENT_KEY, OLD_KEY]);
  });
});
