// Scenario 4: `locus webhook` over TLS on loopback (serving cert signed by the cluster CA), registered
// with the repo's MutatingWebhookConfiguration with only its address and caBundle filled in; the real
// apiserver calls it on pod CREATE and stores what it patched in.
import { expect } from 'chai';
import { ApiError, create, find, get, mergePatch, remove } from './support/api.js';
import { datasetPath, s3Dataset } from './support/datasets.js';
import { installCrds } from './support/crds.js';
import { createPod, deleteAllPods, pod, podPath } from './support/pods.js';
import type { Tracked } from './support/process.js';
import { until } from './support/wait.js';
import { register, startWebhook, unregister } from './support/webhook.js';

const ns = 'e2e-webhook';
const plainNs = 'e2e-plain';
const datasetLabels = (name: string) => ({ 'dataset.0.id': name, 'dataset.0.useas': 'mount.configmap' });

describe('scenario 4: the webhook on the real apiserver', () => {
  let webhook: Tracked;
  let configName: string;

  before(async () => {
    await installCrds();
    await mergePatch(`/api/v1/namespaces/${ns}`, { metadata: { labels: { 'monitor-pods-datasets': 'enabled' } } });
    await create(datasetPath(ns), s3Dataset(ns, 'books'));
    webhook = await startWebhook();
    configName = await register();
  });

  after(async () => {
    await unregister(configName);
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
    expect(stored.spec.volumes).to.deep.include({ name: 'books', persistentVolumeClaim: { claimName: 'books', readOnly: true } });
    const container = stored.spec.containers[0];
    expect(container.volumeMounts).to.deep.include({ name: 'books', mountPath: '/mnt/datasets/books' });
    const env = Object.fromEntries((container.env as { name: string; valueFrom: unknown }[]).map((e) => [e.name, e.valueFrom]));
    expect(env.books_endpoint).to.deep.equal({ configMapKeyRef: { name: 'books', key: 'endpoint', optional: true } });
    expect(env.books_bucket).to.deep.equal({ configMapKeyRef: { name: 'books', key: 'bucket', optional: true } });
    expect(stored.metadata.annotations?.['locus.dev/datasets']).to.equal('books');
    // what the apiserver returned on create is what it keeps
    expect((await get(podPath(ns, 'reader'))).spec.volumes).to.deep.equal(stored.spec.volumes);
  });

  it("refuses a pod naming a missing Dataset, with the webhook's message", async () => {
    const err = await createPod(pod(ns, 'orphan', { labels: datasetLabels('missing') })).then(
      () => undefined,
      (e: unknown) => e,
    );
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
