// Transparent caching end to end on real pieces: s3rver (behind a recording proxy) is the store the
// Dataset names and the agent's upstream; an in-process agent with an auth key learns its Datasets
// from the cluster as deployed (its upstream and its own address) and publishes its NodeCache; the
// operator's controller runs against the in-memory fake API server. The Dataset never names the agent.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import type { Agent } from '../../src/agent/agent.js';
import { ClusterDatasets } from '../../src/agent/dataset-sources.js';
import type { Condition, DatasetStatus } from '../../src/api/dataset.js';
import { nodeCacheToSnapshot } from '../../src/inventory/nodecache.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DATASETS, NAMESPACES } from '../../src/kube/resources.js';
import { DEFAULT_CONFIG } from '../../src/operator/config.js';
import { secretValue } from '../../src/operator/credentials.js';
import { READ_THROUGH_LABEL } from '../../src/operator/read-through.js';
import { startOperator, type RunningOperator } from '../../src/operator/server.js';
import { agentFor, bytes, getBytes, MiB, silent, tempDir } from '../agent/harness.js';
import { S3RVER_KEYS, startRemote, type Remote } from '../agent/remote.js';
import { AGENT_KEY, credsFor, s3ClientAs } from '../security/agent-support.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const NODE = 'node-a';
const BUCKET = 'books';
/** Three 1 MiB blocks and a bit: a read spans blocks. */
const BODY = bytes(3 * MiB + 1234, 18);

describe('operator: transparent caching reads a Dataset that names the store through the agents', function () {
  this.timeout(30_000);
  let remote: Remote;
  let dir: string;
  let agent: Agent;
  let watcher: ClusterDatasets;
  let api: FakeApiServer;
  let client: KubeClient;
  let op: RunningOperator;

  const dataset = () => api.object<KubeObject>('datasets', 'books', 'ml')!;
  const status = () => dataset().status as DatasetStatus | undefined;
  const condition = (type: string): Condition | undefined => status()?.conditions?.find((c) => c.type === type);
  const secret = () => api.object<KubeObject>('secrets', 'books-credentials', 'ml');
  const configMap = () => api.object<KubeObject>('configmaps', 'books', 'ml');
  const endpointOf = (cm: KubeObject | undefined) => (cm?.data as Record<string, string> | undefined)?.endpoint;
  const labelNamespace = (value: string | null) => client.mergePatch(NAMESPACES, { name: 'ml' }, { metadata: { labels: { [READ_THROUGH_LABEL]: value } } });
  /** What a pod given the Dataset as `configmap` reads with: the ConfigMap's endpoint, the Secret's keys. */
  const podClient = () =>
    s3ClientAs(endpointOf(configMap())!, { accessKeyId: secretValue(secret()!, 'accessKeyID')!, secretAccessKey: secretValue(secret()!, 'secretAccessKey')! });

  before(async () => {
    remote = await startRemote([BUCKET]);
    await remote.direct.put(BUCKET, 'train/part-0', BODY);
    dir = await tempDir();
    const keyFile = join(dir, 'agent-key');
    await writeFile(keyFile, `${AGENT_KEY.toString('utf8')}\n`);
    api = await FakeApiServer.start();
    const kc = api.kubeconfig();
    client = createKubeClient(kc);
    api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, uid: 'uid-node-a' } });
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
    agent = await agentFor(remote, join(dir, 'cache'), { auth: { keys: [AGENT_KEY] }, publish: { client, node: NODE, interval: () => 100 } });
    // As deployed: the agent fronts Datasets at its upstream or at its own address.
    watcher = new ClusterDatasets(kc, client, [remote.endpoint, agent.s3Url], (s) => agent.setDatasets(s), silent);
    await watcher.start();
    op = await startOperator({
      kc,
      client: createKubeClient(kc, { userAgent: 'locus-operator' }),
      config: { ...DEFAULT_CONFIG, agent: { url: agent.s3Url, upstream: remote.endpoint, keyFile, readThroughDefault: false } },
      backoff: { initialMs: 20, maxMs: 500 },
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
    });
    api.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'keys', namespace: 'ml' },
      data: { accessKeyID: b64(S3RVER_KEYS.accessKeyID), secretAccessKey: b64(S3RVER_KEYS.secretAccessKey) },
    });
    await client.create(DATASETS, {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'books', namespace: 'ml' },
      spec: { local: { type: 'S3', endpoint: remote.endpoint, bucket: BUCKET, prefix: 'train/', 'secret-name': 'keys' }, cache: { blockSize: MiB } },
    });
  });
  after(async () => {
    await op?.close();
    await watcher?.stop();
    await agent?.close();
    await Promise.all([api?.close(), remote?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the store directly while nothing opts in', async () => {
    await eventually(() => expect(condition('CredentialsResolved')?.reason).to.equal('FromSecret'), { timeoutMs: 10_000 });
    expect(endpointOf(configMap())).to.equal(remote.endpoint);
    expect(secretValue(secret()!, 'accessKeyID')).to.equal(S3RVER_KEYS.accessKeyID);
    expect(status()?.resolved?.agent).to.equal(undefined);
    expect(condition('ReadThroughAgents')).to.equal(undefined);
  });

  it('the namespace label opts in: agent address in status and ConfigMap, derived keys, and a read through the agent is byte-identical', async () => {
    await labelNamespace('true');
    await eventually(
      () => {
        expect(condition('ReadThroughAgents')).to.include({ status: 'True', reason: 'NamespaceDefault' });
        expect(condition('CredentialsResolved')?.reason).to.equal('FromAgentKey');
        expect(endpointOf(configMap())).to.equal(agent.s3Url);
      },
      { timeoutMs: 10_000 },
    );
    expect(status()?.resolved).to.deep.include({ endpoint: remote.endpoint, agent: agent.s3Url });
    expect(dataset().spec).to.deep.include({ local: { type: 'S3', endpoint: remote.endpoint, bucket: BUCKET, prefix: 'train/', 'secret-name': 'keys' } });
    expect(secretValue(secret()!, 'accessKeyID')).to.equal(credsFor('ml', 'books').accessKeyId);
    expect(JSON.stringify(secret())).to.not.include(b64(S3RVER_KEYS.secretAccessKey));
    // The CSI-S3 volume too: the PVC made for direct reads is replaced (no pod uses it yet).
    await eventually(
      () => expect(api.object<KubeObject>('persistentvolumeclaims', 'books', 'ml')?.metadata.annotations?.['locus.dev/endpoint']).to.equal(agent.s3Url),
      { timeoutMs: 10_000 },
    );
    const s3 = podClient();
    const before = remote.requests.length;
    expect((await getBytes(s3, BUCKET, 'train/part-0')).equals(BODY)).to.equal(true);
    expect(remote.requests.length, 'the agent read the store').to.be.greaterThan(before);
    // A second read is the agent's cache: nothing more reaches the store.
    const cached = remote.requests.length;
    expect((await getBytes(s3, BUCKET, 'train/part-0', [MiB - 10, 2 * MiB + 10])).equals(BODY.subarray(MiB - 10, 2 * MiB + 11))).to.equal(true);
    expect(remote.requests.length).to.equal(cached);
    s3.destroy();
  });

  it('the agent fronts the Dataset (its spec names the upstream) and reports its blocks in the NodeCache', async () => {
    await eventually(
      () => {
        const snap = nodeCacheToSnapshot(api.object('nodecaches', NODE))!;
        const books = snap.datasets.find((d) => d.dataset === 'ml/books');
        expect(books?.bytes).to.equal(BODY.length);
        expect([...books!.blocks!]).to.deep.equal([0, 1, 2, 3]);
      },
      { timeoutMs: 5_000 },
    );
  });

  it('the Dataset opts out against its namespace: direct reads and the tenant keys again; the derived keys stop working', async () => {
    const derived = credsFor('ml', 'books');
    await client.mergePatch(DATASETS, { namespace: 'ml', name: 'books' }, { spec: { cache: { readThrough: false } } });
    await eventually(
      () => {
        expect(condition('ReadThroughAgents')).to.include({ status: 'False', reason: 'OptedOut' });
        expect(endpointOf(configMap())).to.equal(remote.endpoint);
        expect(secretValue(secret()!, 'accessKeyID')).to.equal(S3RVER_KEYS.accessKeyID);
        expect(status()?.resolved?.agent).to.equal(undefined);
      },
      { timeoutMs: 10_000 },
    );
    const s3 = podClient();
    expect((await getBytes(s3, BUCKET, 'train/part-0')).equals(BODY)).to.equal(true);
    s3.destroy();
    // Pods created from now on get the tenant's keys for the store, not the derived ones.
    expect(secretValue(secret()!, 'accessKeyID')).to.not.equal(derived.accessKeyId);
  });

  it('removing the opt-out hands the choice back to the namespace, which opts in again after a new proof', async () => {
    const lists = () => remote.requests.filter((r) => r.method === 'GET' && /[?&]list-type=2/.test(r.url)).length;
    const listed = lists();
    await client.mergePatch(DATASETS, { namespace: 'ml', name: 'books' }, { spec: { cache: { readThrough: null } } });
    await eventually(
      () => {
        expect(condition('CredentialsResolved')?.reason).to.equal('FromAgentKey');
        expect(endpointOf(configMap())).to.equal(agent.s3Url);
      },
      { timeoutMs: 10_000 },
    );
    expect(lists(), "the tenant's keys listed the store again first").to.be.greaterThan(listed);
    // Taking the label off restores direct reads (the cluster default is off).
    await labelNamespace(null);
    await eventually(
      () => {
        expect(endpointOf(configMap())).to.equal(remote.endpoint);
        expect(secretValue(secret()!, 'accessKeyID')).to.equal(S3RVER_KEYS.accessKeyID);
        expect(condition('ReadThroughAgents'), 'nothing asks for the agents').to.equal(undefined);
      },
      { timeoutMs: 10_000 },
    );
  });
});
