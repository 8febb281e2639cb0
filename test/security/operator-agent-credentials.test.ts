// The operator's half of the authenticated agent: a Dataset read through the agents gets credentials
// derived from the agent key in its Secret, and only after the tenant's own keys listed its bucket and
// prefix at the agents' upstream directly. Otherwise the agent, which reads upstream with its own keys,
// would be a confused deputy: any tenant naming another's bucket would get a credential that reads it.
// Real pieces: s3rver (behind a recording proxy) as the upstream, an in-process agent with an auth key,
// the operator's controller against the in-memory fake API server.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import type { Agent } from '../../src/agent/agent.js';
import { datasetSource } from '../../src/agent/dataset-sources.js';
import type { Condition, DatasetStatus } from '../../src/api/dataset.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DATASETS } from '../../src/kube/resources.js';
import { DEFAULT_CONFIG } from '../../src/operator/config.js';
import { secretValue } from '../../src/operator/credentials.js';
import { startOperator, type RunningOperator } from '../../src/operator/server.js';
import { agentFor, s3Error, tempDir } from '../agent/harness.js';
import { S3RVER_KEYS, startRemote, type Remote } from '../agent/remote.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { AGENT_KEY, credsFor, s3ClientAs } from './agent-support.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const SALARIES = 'name,salary\nalice,1000000\n';
/** The key the administrator rotates to (the agents are given it first, as SECURITY.md says). */
const NEW_KEY = Buffer.from('rotated-agent-key-0123456789abcdef-012345');

describe('security: the operator issues agent credentials only for what the tenant can read upstream', function () {
  this.timeout(30_000);
  let remote: Remote;
  let dir: string;
  let agent: Agent;
  let api: FakeApiServer;
  let client: KubeClient;
  let op: RunningOperator;
  let keyFile: string;

  const status = (ns: string, name: string) => api.object<KubeObject>('datasets', name, ns)?.status as DatasetStatus | undefined;
  const condition = (ns: string, name: string, type: string): Condition | undefined => status(ns, name)?.conditions?.find((c) => c.type === type);
  const secret = (ns: string, name: string) => api.object<KubeObject>('secrets', name, ns);
  /** A tenant's S3 Dataset read through the agent, with the tenant's own keys in Secret `keys`. */
  async function tenantDataset(ns: string, name: string, bucket: string, prefix: string, keys: { accessKeyID: string; secretAccessKey: string }) {
    api.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'keys', namespace: ns },
      data: { accessKeyID: b64(keys.accessKeyID), secretAccessKey: b64(keys.secretAccessKey) },
    });
    await client.create(DATASETS, {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name, namespace: ns },
      spec: { local: { type: 'S3', endpoint: agent.s3Url, bucket, prefix, 'secret-name': 'keys' } },
    });
  }

  before(async () => {
    remote = await startRemote(['tenant-a', 'tenant-b']);
    await remote.direct.put('tenant-a', 'data/train.csv', 'a,b\n1,2\n');
    await remote.direct.put('tenant-b', 'secret/salaries.csv', SALARIES);
    dir = await tempDir();
    keyFile = join(dir, 'agent-key');
    await writeFile(keyFile, `${AGENT_KEY.toString('utf8')}\n`);
    agent = await agentFor(remote, join(dir, 'cache'), { auth: { keys: [AGENT_KEY, NEW_KEY] } });
    api = await FakeApiServer.start();
    const kc = api.kubeconfig();
    client = createKubeClient(kc);
    op = await startOperator({
      kc,
      client: createKubeClient(kc, { userAgent: 'locus-operator' }),
      config: { ...DEFAULT_CONFIG, agent: { url: agent.s3Url, upstream: remote.endpoint, keyFile } },
      backoff: { initialMs: 20, maxMs: 500 },
      agentKeyPollMs: 50,
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
    });
    // tenant-a and tenant-b each read their own bucket; tenant-c names tenant-b's with keys the store refuses.
    await tenantDataset('tenant-a', 'data', 'tenant-a', 'data/', S3RVER_KEYS);
    await tenantDataset('tenant-b', 'secret', 'tenant-b', 'secret/', S3RVER_KEYS);
    await tenantDataset('tenant-c', 'stolen', 'tenant-b', 'secret/', { accessKeyID: 'TENANTC', secretAccessKey: 'not-allowed-upstream' });
    await eventually(
      () => {
        expect(condition('tenant-a', 'data', 'CredentialsResolved')?.reason).to.equal('FromAgentKey');
        expect(condition('tenant-b', 'secret', 'CredentialsResolved')?.reason).to.equal('FromAgentKey');
        expect(condition('tenant-c', 'stolen', 'CredentialsResolved')?.reason).to.equal('UpstreamAccessDenied');
      },
      { timeoutMs: 15_000 },
    );
    // The agent learns the Datasets it fronts from the cluster, by the rule the operator used.
    const objects = ['tenant-a/data', 'tenant-b/secret', 'tenant-c/stolen'].map((k) => api.object<KubeObject>('datasets', k.split('/')[1], k.split('/')[0])!);
    agent.setDatasets(objects.flatMap((o) => datasetSource(o, [agent.s3Url]) ?? []));
  });
  after(async () => {
    await op?.close();
    await agent?.close();
    await Promise.all([api?.close(), remote?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const clientFromSecret = (ns: string, name: string) => {
    const s = secret(ns, `${name}-credentials`)!;
    return s3ClientAs(agent.s3Url, { accessKeyId: secretValue(s, 'accessKeyID')!, secretAccessKey: secretValue(s, 'secretAccessKey')! });
  };

  it("writes derived credentials (not the tenant's keys) that read the Dataset's object through the agent", async () => {
    const s = secret('tenant-a', 'data-credentials')!;
    expect(s.metadata.annotations?.['locus.dev/credentials-source']).to.equal('agent');
    expect(secretValue(s, 'accessKeyID')).to.match(/^LOCUS/);
    expect(JSON.stringify(s)).to.not.include(b64(S3RVER_KEYS.secretAccessKey));
    const tenantA = clientFromSecret('tenant-a', 'data');
    const got = await tenantA.send(new GetObjectCommand({ Bucket: 'tenant-a', Key: 'data/train.csv' }));
    expect(got.$metadata.httpStatusCode).to.equal(200);
    expect(await got.Body!.transformToString()).to.equal('a,b\n1,2\n');
    tenantA.destroy();
  });

  it("refuses Dataset A's credentials for Dataset B's bucket (403 AccessDenied)", async () => {
    const tenantA = clientFromSecret('tenant-a', 'data');
    expect(await s3Error(tenantA.send(new GetObjectCommand({ Bucket: 'tenant-b', Key: 'secret/salaries.csv' })))).to.deep.equal({
      name: 'AccessDenied',
      status: 403,
    });
    tenantA.destroy();
  });

  it('proved access with the tenant keys at the upstream directly, not through the agent', () => {
    const lists = remote.requests.filter((r) => r.method === 'GET' && /[?&]list-type=2/.test(r.url));
    const byKey = (id: string) => lists.filter((r) => String(r.headers.authorization ?? '').includes(`Credential=${id}/`));
    // Through the agent, tenant-c's keys would have been refused there and never reached the upstream.
    expect(
      byKey('TENANTC').map((r) => r.url.split('?')[0]),
      "tenant-c's listing reached the upstream itself",
    ).to.include('/tenant-b/');
  });

  it('gives a tenant whose keys cannot list the bucket no credentials, and says why and what to do', async () => {
    expect(secret('tenant-c', 'stolen-credentials')).to.equal(undefined);
    const c = condition('tenant-c', 'stolen', 'CredentialsResolved')!;
    expect(c.status).to.equal('False');
    expect(c.message).to.match(
      /the keys from Secret keys may not list s3:\/\/tenant-b\/secret\/ at .*InvalidAccessKeyId.*grant them s3:ListBucket and s3:GetObject there/,
    );
    expect(condition('tenant-c', 'stolen', 'Ready')).to.include({ status: 'False', reason: 'UpstreamAccessDenied' });
    expect(api.object('persistentvolumeclaims', 'stolen', 'tenant-c'), 'no volume either').to.equal(undefined);
    // And the agent refuses whatever a tenant-c pod might sign with: there is nothing of Dataset stolen to sign with.
    const guessed = s3ClientAs(agent.s3Url, { accessKeyId: 'TENANTC', secretAccessKey: 'not-allowed-upstream' });
    expect((await s3Error(guessed.send(new GetObjectCommand({ Bucket: 'tenant-b', Key: 'secret/salaries.csv' })))).status).to.equal(403);
    guessed.destroy();
  });

  it('rewrites the Secret with the new key as soon as the key file is rotated, with no Dataset change', async () => {
    const before = secret('tenant-a', 'data-credentials')!.metadata.resourceVersion;
    // Rotation: the new key first (current), the old one second until every Secret was rewritten.
    await writeFile(keyFile, `${NEW_KEY.toString('utf8')}\n${AGENT_KEY.toString('utf8')}\n`);
    const keyId = (ns: string, name: string) => secretValue(secret(ns, `${name}-credentials`)!, 'accessKeyID');
    await eventually(
      () => {
        expect(keyId('tenant-a', 'data')).to.equal(credsFor('tenant-a', 'data', NEW_KEY).accessKeyId);
        expect(keyId('tenant-b', 'secret')).to.equal(credsFor('tenant-b', 'secret', NEW_KEY).accessKeyId);
      },
      { timeoutMs: 5_000 },
    );
    expect(secret('tenant-a', 'data-credentials')!.metadata.resourceVersion).to.not.equal(before);
    expect(secret('tenant-c', 'stolen-credentials'), 'still nothing for tenant-c').to.equal(undefined);
    const tenantA = clientFromSecret('tenant-a', 'data');
    const got = await tenantA.send(new GetObjectCommand({ Bucket: 'tenant-a', Key: 'data/train.csv' }));
    expect(got.$metadata.httpStatusCode).to.equal(200);
    tenantA.destroy();
  });
});
