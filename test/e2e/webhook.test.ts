// Scenario 4: `locus webhook` over TLS on loopback (serving cert signed by the cluster CA), registered
// with the repo's MutatingWebhookConfiguration with only its address and caBundle filled in; the real
// apiserver calls it on pod CREATE and stores what it patched in.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ApiError, create, find, get, mergePatch, remove, type Obj } from './support/api.js';
import { datasetPath, s3Dataset } from './support/datasets.js';
import { installCrds } from './support/crds.js';
import { cluster } from './support/env.js';
import { kubectlOk } from './support/kubectl.js';
import { createPod, deleteAllPods, pod, podPath } from './support/pods.js';
import { startLocus, type Tracked } from './support/process.js';
import { until } from './support/wait.js';

const ns = 'e2e-webhook';
const plainNs = 'e2e-plain';
const WEBHOOK_CONFIG = 'deploy/webhook/mutatingwebhookconfiguration.yaml';

interface WebhookConfig extends Obj {
  webhooks: { name: string; clientConfig: { url?: string; service?: { path?: string }; caBundle?: string } }[];
}

/**
 * Registers the repo's MutatingWebhookConfiguration as a user would (kubectl apply), then points each
 * webhook at the loopback server (kubectl patch): only clientConfig's address and caBundle change.
 */
async function register(): Promise<string> {
  const docs = parseAllDocuments(readFileSync(join(cluster.root, WEBHOOK_CONFIG), 'utf8')).map((d) => d.toJS() as Obj);
  const config = docs.find((d) => d?.kind === 'MutatingWebhookConfiguration') as WebhookConfig | undefined;
  if (!config) throw new Error(`${WEBHOOK_CONFIG} holds no MutatingWebhookConfiguration`);
  const caBundle = readFileSync(cluster.caFile).toString('base64');
  const ops = config.webhooks.map((w, i) => {
    const path = w.clientConfig.service?.path ?? new URL(w.clientConfig.url!).pathname;
    return { op: 'replace', path: `/webhooks/${i}/clientConfig`, value: { url: `https://127.0.0.1:${cluster.ports.webhook}${path}`, caBundle } };
  });
  await kubectlOk(['apply', '-f', WEBHOOK_CONFIG]);
  await kubectlOk(['patch', 'mutatingwebhookconfiguration', config.metadata.name, '--type', 'json', '-p', JSON.stringify(ops)]);
  return config.metadata.name;
}

const datasetLabels = (name: string) => ({ 'dataset.0.id': name, 'dataset.0.useas': 'mount.configmap' });

describe('scenario 4: the webhook on the real apiserver', () => {
  let webhook: Tracked;
  let configName: string;

  before(async () => {
    await installCrds();
    await mergePatch(`/api/v1/namespaces/${ns}`, { metadata: { labels: { 'monitor-pods-datasets': 'enabled' } } });
    await create(datasetPath(ns), s3Dataset(ns, 'books'));
    webhook = startLocus('webhook', ['--kubeconfig', cluster.kubeconfig, '--host', '127.0.0.1', '--port', String(cluster.ports.webhook),
      '--cert', cluster.loopbackCert, '--key', cluster.loopbackKey]);
    await until('the webhook to serve /healthz over TLS', async () => {
      if (!webhook.running()) throw new Error(`locus webhook exited: ${webhook.log().slice(-2000)}`);
      return tlsHealthy();
    });
    configName = await register();
  });

  after(async () => {
    await remove(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${configName}`);
    await webhook?.stop();
    await deleteAllPods(ns);
    await deleteAllPods(plainNs);
    await remove(datasetPath(ns, 'books'));
  });

  it('stores a labelled pod with the volume, mount, env and schedulerName the webhook adds', async () => {
    // the apiserver may take a moment to pick up a new webhook configuration
    const stored = await until('the pod to be stored mutated', async () => {
      await remove(podPath(ns, 'reader'));
      const p = await createPod(pod(ns, 'reader', { labels: datasetLabels('books') }));
      return p.spec.volumes?.some((v: { name: string }) => v.name === 'books') ? p : undefined;
    });
    expect(stored.spec.schedulerName).to.equal('locus-scheduler');
    expect(stored.spec.volumes).to.deep.include({ name: 'books', persistentVolumeClaim: { claimName: 'books' } });
    const container = stored.spec.containers[0];
    expect(container.volumeMounts).to.deep.include({ name: 'books', mountPath: '/mnt/datasets/books', readOnly: true });
    const env = Object.fromEntries((container.env as { name: string; valueFrom: unknown }[]).map((e) => [e.name, e.valueFrom]));
    expect(env.books_endpoint).to.deep.equal({ configMapKeyRef: { name: 'books', key: 'endpoint', optional: true } });
    expect(env.books_bucket).to.deep.equal({ configMapKeyRef: { name: 'books', key: 'bucket', optional: true } });
    expect(stored.metadata.annotations?.['locus.dev/datasets']).to.equal('books');
    // what the apiserver returned on create is what it keeps
    expect((await get(podPath(ns, 'reader'))).spec.volumes).to.deep.equal(stored.spec.volumes);
  });

  it('refuses a pod naming a missing Dataset, with the webhook\'s message', async () => {
    const err = await createPod(pod(ns, 'orphan', { labels: datasetLabels('missing') })).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    const apiErr = err as ApiError;
    expect(apiErr.status).to.equal(403);
    expect(apiErr.message).to.include('denied the request').and.include('dataset.0.id').and.include('"missing"').and.include(ns);
    expect(await find(podPath(ns, 'orphan')), 'the refused pod was not stored').to.equal(undefined);
  });

  it('leaves pods in a namespace without the monitor-pods-datasets label untouched', async () => {
    const stored = await createPod(pod(plainNs, 'reader', { labels: datasetLabels('books') }));
    expect(stored.spec.schedulerName).to.equal('default-scheduler');
    expect((stored.spec.volumes as { name: string }[]).map((v) => v.name)).to.not.include('books');
    expect(stored.metadata.annotations?.['locus.dev/datasets']).to.equal(undefined);
  });
});

/** GET /healthz on the webhook over TLS, verified against the cluster CA as the apiserver will. */
function tlsHealthy(): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const req = request(`https://127.0.0.1:${cluster.ports.webhook}/healthz`, { ca: readFileSync(cluster.caFile) }, (res) => {
      res.resume();
      resolvePromise(res.statusCode === 200);
    });
    req.on('error', () => resolvePromise(false));
    req.end();
  });
}
