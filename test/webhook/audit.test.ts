import { expect } from 'chai';
import { createKubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { webhookMetrics } from '../../src/metrics/webhook.js';
import { kubeAuditRecorder } from '../../src/webhook/audit.js';
import { Informer } from '../../src/kube/informer.js';
import { DATASETS } from '../../src/kube/resources.js';
import { cachedDatasetLookup, kubeDatasetLookup } from '../../src/webhook/kube-lookup.js';
import { review } from '../../src/webhook/review.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { captureLog } from './logs.js';
import { applied, NS, pod } from './pods.js';

interface Event extends KubeObject {
  involvedObject: { kind: string; name: string; namespace: string; uid?: string };
  reason: string;
  message: string;
  type: string;
  source: { component: string };
}

describe('webhook against the API server (Dataset lookup, audit Events)', () => {
  let api: FakeApiServer;

  beforeEach(async () => {
    api = await FakeApiServer.start();
    const ds = (namespace: string, name: string, local: Record<string, string>) =>
      api.put({ apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', metadata: { namespace, name }, spec: { local } });
    ds(NS, 'imagenet', { type: 'S3', bucket: 'imagenet', endpoint: 'http://minio:9000', readonly: 'true' });
    ds(NS, 'share', { type: 'NFS', server: 'nfs.local', share: '/exports/share' });
    ds(NS, 'weights', { type: 'ARCHIVE', url: 'https://example.com/w.tar.gz', format: 'application/x-tar' });
    ds('other', 'secret-data', { type: 'S3', bucket: 'secret-data' });
  });
  afterEach(async () => {
    await api.close();
  });

  const deps = () => {
    const kube = createKubeClient(api.kubeconfig());
    return {
      lookup: kubeDatasetLookup(kube),
      audit: kubeAuditRecorder(kube),
      options: { schedulerName: 'locus-scheduler', allowMissing: false },
      log: captureLog().log,
      metrics: webhookMetrics(() => undefined),
    };
  };
  const request = (object: unknown) => ({ uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: NS, operation: 'CREATE', object });

  it("reads Datasets of the pod's namespace: credentials for object stores, read-only flag", async () => {
    const lookup = kubeDatasetLookup(createKubeClient(api.kubeconfig()));
    expect(await lookup.find(NS, 'imagenet')).to.deep.equal({
      name: 'imagenet',
      credentials: true,
      readOnly: true,
      volume: true,
      configKeys: ['endpoint', 'bucket', 'region', 'prefix'],
      deleting: false,
      endpoint: 'http://minio:9000',
      flags: { readonly: 'true', extract: 'false', provision: 'false', 'remove-on-delete': 'false' },
    });
    expect(await lookup.find(NS, 'share')).to.deep.equal({
      name: 'share',
      credentials: false,
      readOnly: false,
      volume: true,
      configKeys: ['server', 'share'],
      deleting: false,
    });
    // An archive is the object store it is staged in, read-only as Datashim mounts it.
    expect(await lookup.find(NS, 'weights')).to.deep.include({
      credentials: true,
      volume: true,
      readOnly: true,
      configKeys: ['endpoint', 'bucket', 'region', 'prefix'],
    });
    api.put({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { namespace: NS, name: 'books' },
      spec: { remote: { type: 'CatalogEntry', table: 'default/books' } },
    });
    expect(await lookup.find(NS, 'books')).to.deep.include({ credentials: true, volume: true, configKeys: ['endpoint', 'bucket', 'region', 'prefix'] });
    api.put({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { namespace: NS, name: 'going', deletionTimestamp: '2026-11-26T05:00:00Z', finalizers: ['locus.dev/cleanup'] },
      spec: { local: { type: 'S3', bucket: 'going' } },
    });
    expect(await lookup.find(NS, 'going')).to.deep.include({ deleting: true });
    expect(await lookup.find(NS, 'secret-data')).to.equal(undefined);
  });

  it('answers from the watch cache once synced, asking the API server only for names the cache lacks', async () => {
    const kube = createKubeClient(api.kubeconfig());
    const informer = new Informer(api.kubeconfig(), kube, { resource: DATASETS });
    const lookup = cachedDatasetLookup(informer, kubeDatasetLookup(kube));
    const gets = () => api.requests.filter((r) => r.verb === 'get' && r.resource === 'datasets').length;
    try {
      expect(await lookup.find(NS, 'imagenet')).to.deep.include({ name: 'imagenet' });
      expect(gets(), 'before the cache has synced').to.equal(1);
      informer.start();
      await informer.waitForSync();
      expect(await lookup.find(NS, 'imagenet')).to.deep.include({ name: 'imagenet', readOnly: true });
      expect(await lookup.find('other', 'imagenet')).to.equal(undefined);
      expect(gets(), 'a hit costs no call; a miss asks').to.equal(2);
      // A Dataset written after the sync is found, from the cache or, if the watch lags, directly.
      api.put({
        apiVersion: 'locus.dev/v1alpha1',
        kind: 'Dataset',
        metadata: { namespace: NS, name: 'fresh' },
        spec: { local: { type: 'NFS', server: 'n', share: '/s' } },
      });
      expect(await lookup.find(NS, 'fresh')).to.deep.include({ name: 'fresh', configKeys: ['server', 'share'] });
    } finally {
      await informer.stop();
    }
  });

  it('records an Event on the pod for each Dataset it wired in, naming the Dataset', async () => {
    const v = await review(request(pod({ 'dataset.0.id': 'imagenet', 'dataset.1.id': 'share', 'dataset.1.useas': 'configmap' })), deps(), 5000);
    expect(v.denial).to.equal(undefined);
    const events = await eventually(() => {
      const evs = api.objects<Event>('events', NS);
      expect(evs).to.have.length(2);
      return evs;
    });
    for (const e of events) {
      expect(e.involvedObject).to.deep.include({ kind: 'Pod', name: 'trainer', namespace: NS });
      expect(e).to.deep.include({ reason: 'DatasetAttached', type: 'Normal' });
      expect(e.source.component).to.equal('locus-webhook');
    }
    expect(events.map((e) => e.message).sort()).to.deep.equal([
      'Dataset "imagenet": added volume "imagenet" from PVC "imagenet" read-only; mounted at /mnt/datasets/imagenet in container main; schedulerName set to locus-scheduler',
      'Dataset "share": env share_* from ConfigMap "share"; schedulerName set to locus-scheduler',
    ]);
  });

  it('records Events of a pod that has only a generateName on its controlling owner', async () => {
    const p = pod({ 'dataset.0.id': 'imagenet' });
    p.metadata = {
      generateName: 'trainer-7d9f-',
      namespace: NS,
      labels: { 'dataset.0.id': 'imagenet' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'trainer-7d9f', uid: 'rs-uid', controller: true }],
    };
    await review(request(p), deps(), 5000);
    const [event] = await eventually(() => {
      const evs = api.objects<Event>('events', NS);
      expect(evs).to.have.length(1);
      return evs;
    });
    expect(event.involvedObject).to.deep.include({ kind: 'ReplicaSet', name: 'trainer-7d9f', uid: 'rs-uid' });
    expect(event.message).to.match(/^pod trainer-7d9f-\*: Dataset "imagenet": /);
  });

  it('names a generateName-only pod without owner, as the API server would, so its Events have a pod to point at', async () => {
    const p = pod({ 'dataset.0.id': 'imagenet' });
    p.metadata = { generateName: 'adhoc-', namespace: NS, labels: { 'dataset.0.id': 'imagenet' } };
    const v = await review(request(p), { ...deps(), nameSuffix: () => 'x7k2q' }, 5000);
    expect(v.patch).to.deep.include({ op: 'add', path: '/metadata/name', value: 'adhoc-x7k2q' });
    const [event] = await eventually(() => {
      const evs = api.objects<Event>('events', NS);
      expect(evs).to.have.length(1);
      return evs;
    });
    expect(event.involvedObject).to.deep.include({ kind: 'Pod', name: 'adhoc-x7k2q', namespace: NS });
    expect(event.message).to.match(/^Dataset "imagenet": added volume/);
    // Called again on its own output (reinvocation), nothing more is patched.
    const again = await review(request(applied(p, v.patch!)), deps(), 5000);
    expect(again.patch).to.deep.equal([]);
  });

  it('admits the pod when the Event cannot be written', async () => {
    api.failNext(5, { code: 403, reason: 'Forbidden', message: 'events is forbidden', resource: 'events' });
    const d = deps();
    const v = await review(request(pod({ 'dataset.0.id': 'imagenet' })), d, 5000);
    expect(v.denial).to.equal(undefined);
    expect(v.patch?.length).to.be.greaterThan(0);
    await eventually(async () => expect((await d.metrics.eventErrors.get()).values[0]?.value).to.equal(1));
    expect(api.objects('events', NS)).to.deep.equal([]);
  });

  it('never uses a Dataset of another namespace', async () => {
    const v = await review(request(pod({ 'dataset.0.id': 'secret-data' })), deps(), 5000);
    expect(v.denial?.message).to.match(/Dataset "secret-data", which does not exist in namespace "ml"/);
  });
});
