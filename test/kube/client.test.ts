import { expect } from 'chai';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { AlreadyExistsError, ApiError, ConflictError } from '../../src/kube/errors.js';
import type { KubeObject } from '../../src/kube/object.js';
import { CONFIG_MAPS, DATASETS, EVENTS, NODE_CACHES, NODES, PODS, SECRETS } from '../../src/kube/resources.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const dataset = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  metadata: { name, namespace: 'team-a' },
  spec: { local: { type: 'S3', bucket: 'b', endpoint: 'http://127.0.0.1:9000' } },
  ...extra,
});

describe('kube/client against the fake API server', () => {
  let api: FakeApiServer;
  let client: KubeClient;

  beforeEach(async () => {
    api = await FakeApiServer.start();
    client = createKubeClient(api.kubeconfig(), { now: () => new Date('2026-01-02T03:04:05.678Z') });
  });
  afterEach(() => api.close());

  it('creates, gets, lists and deletes, filling apiVersion and kind', async () => {
    const created = await client.create(DATASETS, dataset('ds1'));
    expect(created.apiVersion).to.equal('locus.dev/v1alpha1');
    expect(created.kind).to.equal('Dataset');
    expect(created.metadata.uid).to.be.a('string');
    expect(created.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await client.get(DATASETS, created.metadata))?.spec).to.deep.equal(dataset('ds1').spec);

    await client.create(CONFIG_MAPS, { metadata: { name: 'cm', namespace: 'team-a' }, data: { bucket: 'b' } });
    const list = await client.list(CONFIG_MAPS, { namespace: 'team-a' });
    expect(list.metadata.resourceVersion).to.equal(api.resourceVersion());
    // The server omits apiVersion/kind on core list items; the client puts them back.
    expect(list.items.map((i) => [i.apiVersion, i.kind, i.metadata.name])).to.deep.equal([['v1', 'ConfigMap', 'cm']]);

    await client.delete(DATASETS, created.metadata);
    expect(await client.get(DATASETS, created.metadata)).to.equal(undefined);
  });

  it('answers undefined for a missing object and ignores deleting one', async () => {
    expect(await client.get(NODES, { name: 'nowhere' })).to.equal(undefined);
    await client.delete(NODES, { name: 'nowhere' });
  });

  it('raises AlreadyExistsError on a taken name and ConflictError on a stale replace', async () => {
    const first = await client.create(DATASETS, dataset('ds1'));
    const err = await client.create(DATASETS, dataset('ds1')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AlreadyExistsError);
    expect(err).to.include({ code: 409, reason: 'AlreadyExists' });

    await client.replace(DATASETS, { ...first, spec: { local: { type: 'NFS' } } });
    const stale = await client.replace(DATASETS, { ...first, spec: { local: { type: 'HOST' } } }).catch((e: unknown) => e);
    expect(stale).to.be.instanceOf(ConflictError);
    expect((stale as ConflictError).message).to.contain('the object has been modified');
  });

  it('keeps status out of main-resource writes and spec out of status writes', async () => {
    const ds = await client.create(DATASETS, dataset('ds1', { status: { phase: 'Forged' } }));
    expect(ds.status).to.equal(undefined);
    const withStatus = await client.replaceStatus(DATASETS, { ...ds, spec: { changed: true }, status: { phase: 'Ready' } });
    expect(withStatus.status).to.deep.equal({ phase: 'Ready' });
    expect(withStatus.spec).to.deep.equal(ds.spec);
    expect(withStatus.metadata.generation).to.equal(1);

    const replaced = await client.replace(DATASETS, { ...withStatus, spec: { local: { type: 'NFS' } }, status: { phase: 'Lost' } });
    expect(replaced.status).to.deep.equal({ phase: 'Ready' });
    expect(replaced.metadata.generation).to.equal(2);

    const patched = await client.mergePatchStatus(DATASETS, ds.metadata, { status: { catalog: { objectCount: 3 } }, spec: { ignored: 1 } });
    expect(patched.status).to.deep.equal({ phase: 'Ready', catalog: { objectCount: 3 } });
    expect(patched.spec).to.deep.equal({ local: { type: 'NFS' } });
  });

  it('merge-patches, deleting fields with null, and conditions a patch on a named resourceVersion', async () => {
    const ds = await client.create(DATASETS, dataset('ds1', { metadata: { name: 'ds1', namespace: 'team-a', labels: { a: '1', b: '2' } } }));
    const patched = await client.mergePatch(DATASETS, ds.metadata, { metadata: { labels: { a: null, c: '3' } } });
    expect(patched.metadata.labels).to.deep.equal({ b: '2', c: '3' });
    expect(patched.metadata.generation).to.equal(1);
    const err = await client
      .mergePatch(DATASETS, ds.metadata, { metadata: { resourceVersion: ds.metadata.resourceVersion, labels: { d: '4' } } })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConflictError);
  });

  it('keeps an object with finalizers until they are removed', async () => {
    const ds = await client.create(DATASETS, dataset('ds1', { metadata: { name: 'ds1', namespace: 'team-a', finalizers: ['locus.dev/cleanup'] } }));
    await client.delete(DATASETS, ds.metadata);
    const marked = await client.get(DATASETS, ds.metadata);
    expect(marked?.metadata.deletionTimestamp).to.be.a('string');
    expect(marked?.metadata.generation).to.equal(2);
    await client.mergePatch(DATASETS, ds.metadata, { metadata: { finalizers: null } });
    expect(await client.get(DATASETS, ds.metadata)).to.equal(undefined);
  });

  it('garbage-collects dependents of a deleted owner, unless collection is off', async () => {
    const ds = await client.create(DATASETS, dataset('ds1'));
    const owner = { apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', name: 'ds1', uid: ds.metadata.uid!, controller: true };
    await client.create(SECRETS, { metadata: { name: 'ds1-credentials', namespace: 'team-a', ownerReferences: [owner] } });
    await client.create(CONFIG_MAPS, { metadata: { name: 'ds1', namespace: 'team-a', ownerReferences: [owner] } });
    await client.delete(DATASETS, ds.metadata);
    expect(api.objects('secrets')).to.deep.equal([]);
    expect(api.objects('configmaps')).to.deep.equal([]);

    api.setGarbageCollection(false);
    const ds2 = await client.create(DATASETS, dataset('ds2'));
    await client.create(SECRETS, {
      metadata: { name: 'ds2-credentials', namespace: 'team-a', ownerReferences: [{ ...owner, name: 'ds2', uid: ds2.metadata.uid! }] },
    });
    await client.delete(DATASETS, ds2.metadata);
    expect(api.objects('secrets').map((s) => s.metadata.name)).to.deep.equal(['ds2-credentials']);
  });

  it('writes cluster-scoped NodeCache status owned by its Node', async () => {
    const node = api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } });
    const nc = await client.create(NODE_CACHES, {
      metadata: { name: 'node-a', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'node-a', uid: node.metadata.uid! }] },
      spec: { nodeName: 'node-a' },
    });
    const written = await client.mergePatchStatus(NODE_CACHES, nc.metadata, { status: { epoch: 'e1', seq: 1, datasets: [] } });
    expect(written.status).to.deep.equal({ epoch: 'e1', seq: 1, datasets: [] });
    api.delete('nodes', 'node-a');
    expect(api.objects('nodecaches')).to.deep.equal([]);
  });

  it('records events about an object, cluster-scoped ones in default', async () => {
    const ds = await client.create(DATASETS, dataset('ds1'));
    await client.createEvent({ regarding: ds, type: 'Warning', reason: 'ProvisionFailed', message: 'bucket b missing', component: 'locus-operator' });
    const node = api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } });
    await client.createEvent({ regarding: node, type: 'Normal', reason: 'CacheWiped', message: 'new epoch', component: 'locus-agent' });
    const [event] = api.objects(EVENTS, 'team-a');
    expect(event).to.deep.include({
      type: 'Warning',
      reason: 'ProvisionFailed',
      message: 'bucket b missing',
      count: 1,
      source: { component: 'locus-operator' },
      firstTimestamp: '2026-01-02T03:04:05Z',
    });
    expect(event.involvedObject).to.deep.include({ kind: 'Dataset', name: 'ds1', namespace: 'team-a', uid: ds.metadata.uid });
    expect(api.objects(EVENTS, 'default').map((e) => (e.involvedObject as { name: string }).name)).to.deep.equal(['node-a']);
  });

  it('counts repeats of an event on the first one instead of creating more', async () => {
    let clock = Date.parse('2026-01-02T03:04:05Z');
    const ticking = createKubeClient(api.kubeconfig(), { now: () => new Date((clock += 1000)) });
    const ds = await ticking.create(DATASETS, dataset('ds1'));
    const warn = (message: string) => ticking.createEvent({ regarding: ds, type: 'Warning', reason: 'ProvisionFailed', message, component: 'locus-operator' });
    await warn('bucket b missing');
    await warn('bucket b missing');
    await warn('bucket b missing');
    await warn('bucket c missing');
    const events = api.objects(EVENTS, 'team-a');
    expect(events.map((e) => [e.message, e.count, e.firstTimestamp, e.lastTimestamp])).to.have.deep.members([
      ['bucket b missing', 3, '2026-01-02T03:04:06Z', '2026-01-02T03:04:08Z'],
      ['bucket c missing', 1, '2026-01-02T03:04:09Z', '2026-01-02T03:04:09Z'],
    ]);
    api.delete(EVENTS, events.find((e) => e.message === 'bucket b missing')!.metadata.name!, 'team-a');
    await warn('bucket b missing');
    expect(api.objects(EVENTS, 'team-a').map((e) => [e.message, e.count])).to.have.deep.members([
      ['bucket b missing', 1],
      ['bucket c missing', 1],
    ]);
  });

  it('surfaces other failures as ApiError with code, reason and the server message', async () => {
    api.failNext(1, { code: 503, reason: 'ServiceUnavailable', message: 'etcd is sad', verb: 'list' });
    const err = await client.list(PODS).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect(err).to.include({ code: 503, reason: 'ServiceUnavailable' });
    expect((err as ApiError).message).to.contain('etcd is sad');
    expect((await client.list(PODS)).items).to.deep.equal([]);
  });

  it('refuses a namespaced object without a namespace before sending anything', async () => {
    const before = api.requests.length;
    const err = await client.create(DATASETS, { metadata: { name: 'x' } }).catch((e: unknown) => e);
    expect((err as Error).message).to.match(/metadata.namespace is required/);
    expect(api.requests.length).to.equal(before);
  });
});
