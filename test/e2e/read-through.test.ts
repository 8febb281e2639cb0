// Issue 18, transparent caching, on the real 1.20 control plane: a Dataset that names the object store
// itself (s3rver on loopback, the agents' upstream) and opts in (spec.cache.readThrough, or its
// namespace's locus.dev/read-through label) is read through the agents: `locus operator`, acting as its
// ServiceAccount with the RBAC of deploy/operator/rbac.yaml, records the agents in status.resolved.agent,
// writes credentials derived from the agent key and the agents' address in the ConfigMap; `locus
// webhook --agent-host-port 9300` gives a pod created for it the agent of its own node
// (http://$(LOCUS_NODE_IP):9300, LOCUS_NODE_IP from status.hostIP). The pod's manifest names neither.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { agentCredentials } from '../../src/api/agent-credentials.js';
import { DEFAULT_AGENT_URL } from '../../src/api/agent-endpoint.js';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';
import { create, ensureNamespace, find, get, mergePatch, remove, type Obj } from './support/api.js';
import { installCrds } from './support/crds.js';
import { datasetPath } from './support/datasets.js';
import { kubeconfigAs } from './support/identity.js';
import { kubectlOk } from './support/kubectl.js';
import { createPod, deleteAllPods, pod, podPath } from './support/pods.js';
import { startLocus, type Tracked } from './support/process.js';
import { until } from './support/wait.js';
import { register, startWebhook, unregister } from './support/webhook.js';
import { freePort } from '../support/free-port.js';
import { untilReady } from './support/ready.js';

const ns = 'e2e-read-through';
const BUCKET = 'e2e-read-through';
const KEY = 'e2e-agent-key-0123456789abcdef-0123456789abcdef';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
/** The operator's cluster-scoped RBAC as deployed (locus-system must not exist before the install scenario). */
const operatorRbac = parseAllDocuments(readFileSync('deploy/operator/rbac.yaml', 'utf8'))
  .map((d) => d.toJSON() as Obj)
  .filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');

type Condition = { type: string; status: string; reason: string; message: string };
const condition = (ds: Obj, type: string): Condition | undefined => (ds.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

describe('issue 18 on the real apiserver: transparent caching reads a Dataset naming the store through the agents', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'locus-e2e-read-through-'));
  let s3: TestS3;
  let operator: Tracked;
  let webhook: Tracked | undefined;
  let webhookConfig: string | undefined;

  /** A Dataset at the store with the tenant's keys in Secret `keys`; `readThrough` in spec.cache when given. */
  async function dataset(name: string, readThrough?: boolean): Promise<void> {
    await create(datasetPath(ns), {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name, namespace: ns },
      spec: {
        local: { type: 'S3', endpoint: s3.endpoint, bucket: BUCKET, region: 'us-east-1', prefix: 'train/', 'secret-name': 'keys' },
        ...(readThrough === undefined ? {} : { cache: { readThrough } }),
      },
    });
  }

  /** Waits until the operator has issued the Dataset's agent credentials; returns the Dataset. */
  const issued = (name: string) =>
    until(
      `the operator to read ${name} through the agents`,
      async () => {
        if (!operator.running()) throw new Error(`locus operator exited: ${operator.log().slice(-2000)}`);
        const ds = await get(datasetPath(ns, name));
        return condition(ds, 'CredentialsResolved')?.reason === 'FromAgentKey' && ds.status?.resolved?.agent ? ds : undefined;
      },
      { timeoutMs: 60_000 },
    );

  before(async () => {
    await installCrds();
    await ensureNamespace(ns);
    // Pods pass the ServiceAccount admission plugin only with the namespace's default ServiceAccount.
    if (!(await find(`/api/v1/namespaces/${ns}/serviceaccounts/default`))) {
      await create(`/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    }
    s3 = await startS3([BUCKET]);
    await s3.put(BUCKET, 'train/a.bin', 'a'.repeat(4096));
    await create(`/api/v1/namespaces/${ns}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'keys' },
      data: { accessKeyID: b64(S3RVER_KEYS.accessKeyID), secretAccessKey: b64(S3RVER_KEYS.secretAccessKey) },
    });
    const keyFile = join(dir, 'agent-key');
    writeFileSync(keyFile, `${KEY}\n`);
    await kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: operatorRbac }));
    const ops = await freePort();
    operator = startLocus('operator', [
      '--kubeconfig',
      kubeconfigAs('locus-system', 'locus-operator', join(dir, 'operator.kubeconfig')),
      '--listen',
      `127.0.0.1:${ops}`,
      '--namespace',
      ns,
      `--agent-upstream=${s3.endpoint}`,
      `--agent-key-file=${keyFile}`,
    ]);
    await untilReady(operator, `http://127.0.0.1:${ops}`, 'locus operator');
  });

  after(async () => {
    if (webhookConfig) await unregister(webhookConfig).catch(() => undefined);
    await webhook?.stop();
    await deleteAllPods(ns).catch(() => undefined);
    for (const name of ['books', 'notes']) await remove(datasetPath(ns, name)).catch(() => undefined);
    // The finalizers need the operator: stop it once the Datasets are gone.
    await until('the Datasets to be gone', async () => !(await find(datasetPath(ns, 'books'))) && !(await find(datasetPath(ns, 'notes'))), {
      timeoutMs: 30_000,
    }).catch(() => undefined);
    await operator?.stop();
    await kubectlOk(['delete', '--ignore-not-found', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: operatorRbac })).catch(
      () => undefined,
    );
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spec.cache.readThrough: the agents in status, derived credentials in the Secret, their address in the ConfigMap', async () => {
    await dataset('books', true);
    const ds = await issued('books');
    expect(ds.status.resolved).to.deep.equal({ bucket: BUCKET, prefix: 'train/', endpoint: s3.endpoint, agent: DEFAULT_AGENT_URL });
    expect(condition(ds, 'ReadThroughAgents')).to.include({ status: 'True', reason: 'DatasetOptIn' });
    expect(ds.spec.local.endpoint, 'the spec still names the store').to.equal(s3.endpoint);
    const secret = await get(`/api/v1/namespaces/${ns}/secrets/books-credentials`);
    const derived = agentCredentials(Buffer.from(KEY), ns, 'books');
    expect(unb64(secret.data.accessKeyID)).to.equal(derived.accessKeyID);
    expect(unb64(secret.data.secretAccessKey)).to.equal(derived.secretAccessKey);
    expect(secret.metadata.annotations?.['locus.dev/credentials-source']).to.equal('agent');
    expect((await get(`/api/v1/namespaces/${ns}/configmaps/books`)).data).to.include({ endpoint: DEFAULT_AGENT_URL, bucket: BUCKET, prefix: 'train/' });
    expect((await get(`/api/v1/namespaces/${ns}/persistentvolumeclaims/books`)).metadata.annotations?.['locus.dev/endpoint']).to.equal(DEFAULT_AGENT_URL);
    expect(operator.log()).not.to.match(/forbidden/i);
  });

  it("the namespace's locus.dev/read-through label opts in a Dataset that does not say, and taking it off restores direct reads", async () => {
    await dataset('notes');
    await until(
      'notes to be read directly with the tenant keys',
      async () => condition(await get(datasetPath(ns, 'notes')), 'CredentialsResolved')?.reason === 'FromSecret',
      { timeoutMs: 60_000 },
    );
    await mergePatch(`/api/v1/namespaces/${ns}`, { metadata: { labels: { 'locus.dev/read-through': 'true' } } });
    const ds = await issued('notes');
    expect(condition(ds, 'ReadThroughAgents')).to.include({ status: 'True', reason: 'NamespaceDefault' });
    await mergePatch(`/api/v1/namespaces/${ns}`, { metadata: { labels: { 'locus.dev/read-through': null } } });
    await until(
      'notes to be read directly again',
      async () => {
        const d = await get(datasetPath(ns, 'notes'));
        const cm = await get(`/api/v1/namespaces/${ns}/configmaps/notes`);
        const secret = await get(`/api/v1/namespaces/${ns}/secrets/notes-credentials`);
        return !d.status?.resolved?.agent && cm.data.endpoint === s3.endpoint && unb64(secret.data.accessKeyID) === S3RVER_KEYS.accessKeyID;
      },
      { timeoutMs: 60_000 },
    );
    // books decides for itself: still through the agents.
    expect((await get(datasetPath(ns, 'books'))).status.resolved.agent).to.equal(DEFAULT_AGENT_URL);
  });

  it("`locus webhook --agent-host-port 9300` points a pod labelled for it at its own node's agent", async () => {
    await mergePatch(`/api/v1/namespaces/${ns}`, { metadata: { labels: { 'monitor-pods-datasets': 'enabled' } } });
    webhook = await startWebhook(['--agent-host-port', '9300']);
    webhookConfig = await register();
    const labels = { 'dataset.0.id': 'books', 'dataset.0.useas': 'configmap' };
    // the apiserver may take a moment to pick up a new webhook configuration
    const stored = await until('the pod to be stored mutated', async () => {
      await remove(podPath(ns, 'reader'));
      const p = pod(ns, 'reader', { labels });
      // No token controller here: the namespace's ServiceAccount has no token to mount.
      p.spec.automountServiceAccountToken = false;
      const stored = await createPod(p);
      return stored.spec.containers[0].env?.length ? stored : undefined;
    });
    const env = stored.spec.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[];
    expect(env[0]).to.deep.equal({ name: 'LOCUS_NODE_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.hostIP' } } });
    expect(env.find((e) => e.name === 'books_endpoint')).to.deep.equal({ name: 'books_endpoint', value: 'http://$(LOCUS_NODE_IP):9300' });
    expect(env.find((e) => e.name === 'books_accessKeyID')?.valueFrom).to.deep.equal({ secretKeyRef: { name: 'books-credentials', key: 'accessKeyID' } });
    expect((await get(podPath(ns, 'reader'))).spec.containers[0].env, 'what the apiserver returned is what it keeps').to.deep.equal(env);
  });
});
