// The fake API server side by side with a real one: the same requests, the same answers.
// Runs when LOCUS_REAL_KUBECONFIG names the kubeconfig of a disposable real cluster (a 1.20
// kube-apiserver; npm run test:e2e runs it against its control plane) and says why it skips otherwise.
// It installs the repository's CRDs there, creates namespaces `fidelity-*` and leaves them.
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { expect } from 'chai';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { ApiError } from '../../src/kube/errors.js';
import { Informer } from '../../src/kube/informer.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DATASETS, NAMESPACES } from '../../src/kube/resources.js';
import { type Method, Transport } from '../../src/kube/transport.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { installCrds, realCluster } from '../support/real-cluster.js';

interface Answer {
  code: number;
  reason?: string;
  message?: string;
  body?: KubeObject & Record<string, unknown>;
}

const MERGE = 'application/merge-patch+json';

/** Requests whose answers must match; `exact` ones word for word, the others by code and reason. */
async function requests(t: Transport, ns: string): Promise<Record<string, unknown>> {
  const call = async (method: Method, path: string, body?: unknown, contentType?: string, query?: Record<string, string>): Promise<Answer> => {
    try {
      return { code: 200, body: await t.request({ method, path, body, contentType, query }) };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return { code: err.code, reason: err.reason, message: err.message.replace(/^\S+ \S+: /, '') };
    }
  };
  const exact = (a: Answer, view?: (b: NonNullable<Answer['body']>) => unknown) => ({
    code: a.code,
    reason: a.reason,
    message: a.message,
    view: a.body && view?.(a.body),
  });
  const loose = (a: Answer) => ({ code: a.code, reason: a.reason });
  const DS = `/apis/locus.dev/v1alpha1/namespaces/${ns}/datasets`;
  const CM = `/api/v1/namespaces/${ns}/configmaps`;
  const PVC = `/api/v1/namespaces/${ns}/persistentvolumeclaims`;
  const ds = (name: string, extra: object = {}) => ({
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name },
    spec: { local: { type: 'NFS', server: 's', share: '/x' } },
    ...extra,
  });
  const out: Record<string, unknown> = {};
  await call('POST', '/api/v1/namespaces', { metadata: { name: ns } });

  out.getMissing = exact(await call('GET', `${DS}/nope`));
  const created = await call('POST', DS, ds('a', { status: { phase: 'x' } }));
  out.create = exact(created, (b) => ({ status: b.status, generation: b.metadata.generation, keys: Object.keys(b) }));
  out.createTaken = exact(await call('POST', DS, ds('a')));
  out.putWithoutResourceVersion = exact(await call('PUT', `${DS}/a`, ds('a')));
  const rv = created.body!.metadata.resourceVersion;
  await call('PUT', `${DS}/a`, ds('a', { metadata: { name: 'a', resourceVersion: rv }, spec: { local: { type: 'NFS', server: 's2', share: '/x' } } }));
  out.putStale = exact(await call('PUT', `${DS}/a`, ds('a', { metadata: { name: 'a', resourceVersion: rv } })));
  out.patchStatus = exact(await call('PATCH', `${DS}/a/status`, { status: { phase: 'Ready' }, spec: { local: { server: 'zzz' } } }, MERGE), (b) => [
    b.status,
    (b.spec as { local: { server: string } }).local.server,
    b.metadata.generation,
  ]);
  out.patchSpec = exact(await call('PATCH', `${DS}/a`, { status: { phase: 'Lost' }, spec: { local: { server: 's3' } } }, MERGE), (b) => [
    b.status,
    b.metadata.generation,
  ]);
  out.patchLabels = exact(await call('PATCH', `${DS}/a`, { metadata: { labels: { l: 'v' } } }, MERGE), (b) => b.metadata.generation);
  const current = (await call('GET', `${DS}/a`)).body!;
  out.noopPut = (await call('PUT', `${DS}/a`, current)).body!.metadata.resourceVersion === current.metadata.resourceVersion;
  out.unknownSpecFieldPruned = exact(await call('PATCH', `${DS}/a`, { spec: { bogus: 1 } }, MERGE), (b) => [
    (b.spec as { bogus?: number }).bogus,
    b.metadata.generation,
  ]);
  out.statusConditionIncomplete = loose(await call('PATCH', `${DS}/a/status`, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, MERGE));
  out.invalidDataset = exact(
    await call('POST', DS, {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'bad' },
      spec: { local: { type: 'S3', endpoint: 'http://x' } },
    }),
  );

  await call('POST', DS, ds('f', { metadata: { name: 'f', finalizers: ['x.dev/y'] } }));
  out.deleteWithFinalizer = exact(await call('DELETE', `${DS}/f`), (b) => [b.kind, Boolean(b.metadata.deletionTimestamp), b.metadata.generation]);
  out.addFinalizerWhileDeleting = exact(await call('PATCH', `${DS}/f`, { metadata: { finalizers: ['x.dev/y', 'x.dev/z'] } }, MERGE));
  await call('PATCH', `${DS}/f`, { metadata: { finalizers: null } }, MERGE);
  out.goneOnceFinalized = (await call('GET', `${DS}/f`)).code;
  out.deleteCustomResource = exact(await call('DELETE', `${DS}/a`), (b) => [b.kind, b.status]);
  await call('POST', CM, { metadata: { name: 'c' }, data: { k: 'v' } });
  out.deleteConfigMap = exact(await call('DELETE', `${CM}/c`), (b) => [b.kind, b.status]);

  await call('POST', CM, { metadata: { name: 'c' }, data: { a: '1' } });
  out.patchMissing = exact(await call('PATCH', `${CM}/missing`, { data: {} }, MERGE));
  out.unknownPatchType = exact(await call('PATCH', `${CM}/c`, { data: {} }, 'text/plain'));
  const coreList = (await call('GET', CM)).body as unknown as { kind: string; items: object[] };
  out.coreListItems = [coreList.kind, Object.keys(coreList.items[0])];
  await call('POST', DS, ds('l1'));
  const crList = (await call('GET', DS)).body as unknown as { kind: string; items: object[] };
  out.customListItems = [crList.kind, Object.keys(crList.items[0])];
  out.unsupportedFieldSelector = exact(await call('GET', DS, undefined, undefined, { fieldSelector: 'spec.local.type=NFS' }));
  out.badLabelSelector = loose(await call('GET', DS, undefined, undefined, { labelSelector: 'a in b' }));
  out.podFieldSelector = exact(
    await call('GET', `/api/v1/namespaces/${ns}/pods`, undefined, undefined, { fieldSelector: 'spec.nodeName=x' }),
    (b) => (b.items as unknown[]).length,
  );
  out.configMapNumber = loose(await call('POST', CM, { metadata: { name: 'n' }, data: { k: 1 } }));
  out.badLabelValue = exact(await call('POST', CM, { metadata: { name: 'n', labels: { k: 'has space' } } }));
  out.secretStringData = exact(await call('POST', `/api/v1/namespaces/${ns}/secrets`, { metadata: { name: 's' }, stringData: { a: 'b' } }), (b) => [
    b.data,
    b.stringData,
    b.type,
  ]);
  out.secretNotBase64 = loose(await call('POST', `/api/v1/namespaces/${ns}/secrets`, { metadata: { name: 's2' }, data: { a: 'not b64!' } }));
  out.eventElsewhere = exact(
    await call('POST', `/api/v1/namespaces/${ns}/events`, { metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' } }),
  );
  out.clusterEventInNamespace = exact(
    await call('POST', `/api/v1/namespaces/${ns}/events`, { metadata: { name: 'e2' }, involvedObject: { kind: 'Node', name: 'n' } }),
  );
  await call('POST', PVC, { metadata: { name: 'p' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  out.claimBound = exact(await call('PATCH', `${PVC}/p`, { spec: { volumeName: 'pv1' } }, MERGE), (b) => (b.spec as { volumeName: string }).volumeName);
  out.claimRebound = loose(await call('PATCH', `${PVC}/p`, { spec: { volumeName: 'pv2' } }, MERGE));
  out.claimModesChanged = loose(await call('PATCH', `${PVC}/p`, { spec: { accessModes: ['ReadWriteMany'] } }, MERGE));
  out.missingNamespace = exact(await call('POST', `/api/v1/namespaces/${ns}-none/configmaps`, { metadata: { name: 'x' } }));
  out.badName = exact(await call('POST', CM, { metadata: { name: 'Bad_Name' } }));
  out.badNamespaceName = exact(await call('POST', '/api/v1/namespaces', { metadata: { name: 'a.b' } }));
  out.nodeCacheStatusOnCreate = exact(
    await call('POST', '/apis/locus.dev/v1alpha1/nodecaches', {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'NodeCache',
      metadata: { name: `nc-${ns}` },
      spec: { nodeName: 'n' },
      status: { epoch: 'e' },
    }),
    (b) => b.status,
  );
  out.statusOfConfigMap = exact(await call('PUT', `${CM}/c/status`, { metadata: { name: 'c' } }));
  out.unservedResource = exact(await call('GET', `/apis/locus.dev/v1alpha1/namespaces/${ns}/widgets`));
  return out;
}

/** What an Informer and raw watches see of the same writes. */
async function watches(kc: KubeConfig, client: KubeClient, ns: string): Promise<Record<string, unknown>> {
  await client.create(NAMESPACES, { metadata: { name: ns } });
  const ds = (name: string, tier?: string): KubeObject => ({
    metadata: { name, namespace: ns, labels: tier ? { tier } : undefined },
    spec: { local: { type: 'NFS', server: 's', share: '/x' } },
  });
  const seen: string[] = [];
  const informer = new Informer(kc, client, { resource: DATASETS, namespace: ns });
  informer
    .on('add', (o) => seen.push(`add ${o.metadata.name}`))
    .on('update', (o, old) => seen.push(`update ${o.metadata.name} newer=${Number(o.metadata.resourceVersion) > Number(old?.metadata.resourceVersion)}`))
    .on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
  informer.start();
  await informer.waitForSync();
  const a = await client.create(DATASETS, ds('a', 'hot'));
  await client.create(DATASETS, ds('b', 'cold'));
  await client.create(DATASETS, ds('c'));
  const relabelled = await client.mergePatch(DATASETS, a.metadata, { metadata: { labels: { tier: 'cold' } } });
  await client.mergePatchStatus(DATASETS, a.metadata, { status: { phase: 'Ready' } });
  await client.delete(DATASETS, { name: 'b', namespace: ns });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await informer.stop();
  const out: Record<string, unknown> = { informer: seen };
  const queries: Record<string, Record<string, string>> = {
    fromFirstWrite: { resourceVersion: a.metadata.resourceVersion! },
    leavingSelector: { resourceVersion: a.metadata.resourceVersion!, labelSelector: 'tier=hot' },
    notin: { resourceVersion: a.metadata.resourceVersion!, labelSelector: 'tier notin (cold)' },
    byName: { resourceVersion: a.metadata.resourceVersion!, fieldSelector: 'metadata.name=a' },
    fromZero: { resourceVersion: '0' },
  };
  for (const [label, query] of Object.entries(queries)) {
    const events: string[] = [];
    const controller = await new Watch(kc).watch(
      `/apis/locus.dev/v1alpha1/namespaces/${ns}/datasets`,
      query,
      (type, obj: KubeObject) => {
        events.push(
          `${type} ${obj.metadata.name}${type === 'DELETED' ? ` newer=${Number(obj.metadata.resourceVersion) > Number(relabelled.metadata.resourceVersion)}` : ''}`,
        );
      },
      () => {},
    );
    await new Promise((resolve) => setTimeout(resolve, 800));
    controller.abort();
    out[label] = label === 'fromZero' ? events.sort() : events;
  }
  return out;
}

describe('test support: the fake API server answers as a real one (LOCUS_REAL_KUBECONFIG)', function () {
  this.timeout(120_000);
  let api: FakeApiServer;
  let real: KubeConfig;

  before(async function () {
    real = realCluster(this);
    await installCrds(createKubeClient(real));
  });
  beforeEach(async () => {
    api = await FakeApiServer.start({ requireNamespaces: true, garbageCollection: false });
    api.loadCrds('crds');
  });
  afterEach(() => api?.close());

  const ns = () => `fidelity-${Date.now().toString(36)}`;

  it('answers the same requests with the same codes, reasons and (where exact) messages', async () => {
    const name = ns();
    const fake = await requests(new Transport(api.kubeconfig(), 10_000, 'fidelity'), name);
    const truth = await requests(new Transport(real, 10_000, 'fidelity'), name);
    for (const key of Object.keys(truth)) expect(fake[key], key).to.deep.equal(truth[key]);
  });

  it('streams the same watch events and informer callbacks', async () => {
    const name = ns();
    const fake = await watches(api.kubeconfig(), createKubeClient(api.kubeconfig()), name);
    const truth = await watches(real, createKubeClient(real), name);
    for (const key of Object.keys(truth)) expect(fake[key], key).to.deep.equal(truth[key]);
  });
});
