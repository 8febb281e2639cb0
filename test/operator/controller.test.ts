import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseAllDocuments } from 'yaml';
import { credentialsSecretName, FINALIZER, OWNER_UID_LABEL } from '../../src/api/names.js';
import type { Condition, DatasetStatus } from '../../src/api/dataset.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DATASETS, PODS, type ResourceType } from '../../src/kube/resources.js';
import { DEFAULT_CONFIG } from '../../src/operator/config.js';
import { parsePolicy } from '../../src/operator/policy.js';
import { startOperator, type RunningOperator } from '../../src/operator/server.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { startFakeMetastore, type FakeMetastore } from '../catalog/fake-metastore.js';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** An HTTP server on loopback serving a real tar.gz (made with the system's tar) at /noaa.tar.gz. */
async function serveArchive(): Promise<{ url: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'locus-archive-'));
  mkdirSync(join(dir, 'src', 'jfk'), { recursive: true });
  writeFileSync(join(dir, 'src', 'jfk', 'weather.csv'), 'date,temp\n2020-01-01,4\n');
  writeFileSync(join(dir, 'src', 'README.md'), 'NOAA weather\n');
  execFileSync('tar', ['-czf', join(dir, 'noaa.tar.gz'), '-C', join(dir, 'src'), '.']);
  const body = readFileSync(join(dir, 'noaa.tar.gz'));
  rmSync(dir, { recursive: true, force: true });
  const server = createServer((req, res) => {
    if (req.url === '/noaa.tar.gz') res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The operator's KubeClient calls as RBAC sees them: `group/resource[/subresource]:verb`. */
function recordingClient(client: KubeClient, used: Set<string>): KubeClient {
  const verbs: Record<string, string> = {
    get: 'get',
    list: 'list',
    create: 'create',
    replace: 'update',
    replaceStatus: 'update',
    mergePatch: 'patch',
    mergePatchStatus: 'patch',
    delete: 'delete',
  };
  return new Proxy(client, {
    get(target, prop: string) {
      const method = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop];
      return (...args: unknown[]) => {
        if (prop === 'createEvent') used.add('/events:create');
        else {
          const res = args[0] as ResourceType;
          const sub = prop.endsWith('Status') ? '/status' : '';
          used.add(`${res.group}/${res.plural}${sub}:${verbs[prop]}`);
          // The operator lists only through informers, which then watch.
          if (prop === 'list') used.add(`${res.group}/${res.plural}:watch`);
        }
        return method.apply(target, args);
      };
    },
  });
}

describe('operator against the fake API server (with s3rver and a fake metastore)', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let s3: TestS3;
  let hive: FakeMetastore;
  let client: KubeClient;
  let op: RunningOperator;
  let archiveWeb: { url: string; close(): Promise<void> };
  const used = new Set<string>();

  const status = (ns: string, name: string) => api.object<KubeObject>('datasets', name, ns)?.status as DatasetStatus | undefined;
  const condition = (ns: string, name: string, type: string): Condition | undefined => status(ns, name)?.conditions?.find((c) => c.type === type);
  const s3Dataset = (ns: string, name: string, local: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name, namespace: ns },
    spec: { local: { type: 'S3', endpoint: s3.endpoint, bucket: 'books', prefix: 'train/', 'secret-name': 's3-creds', ...local } },
  });
  const putCredentials = (ns: string) =>
    api.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's3-creds', namespace: ns },
      data: { accessKeyID: b64(S3RVER_KEYS.accessKeyID), secretAccessKey: b64(S3RVER_KEYS.secretAccessKey) },
    });

  before(async () => {
    [api, s3] = await Promise.all([FakeApiServer.start(), startS3(['books', 'archives'])]);
    archiveWeb = await serveArchive();
    for (let i = 0; i < 3; i++) await s3.put('books', `train/part-${i}`, 'x'.repeat(1000));
    await s3.put('books', 'test/part-0', 'y'.repeat(10));
    hive = await startFakeMetastore({ 'lake.books': { tableName: 'books', dbName: 'lake', sd: { location: 's3a://books/train' } } });
    const kc = api.kubeconfig();
    client = createKubeClient(kc);
    op = await startOperator({
      kc,
      client: recordingClient(createKubeClient(kc, { userAgent: 'locus-operator' }), used),
      config: {
        ...DEFAULT_CONFIG,
        catalogIntervalMs: 60_000,
        // NFS allowed: the policy itself is tested in test/security/dataset-policy.test.ts.
        policy: parsePolicy(
          'namespaces: { "*": { types: [S3, COS, NFS, ARCHIVE, CatalogEntry], nfs: [{ server: nfs.example, exports: [/] }, { server: 10.0.0.5, exports: [/] }] } }',
          'test',
        ),
        archiveStore: {
          endpoint: s3.endpoint,
          region: '',
          bucket: 'archives',
          prefix: 'staged/',
          secret: { namespace: 'locus-system', name: 'archive-store' },
        },
      },
      backoff: { initialMs: 20, maxMs: 1000 },
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
    });
  });
  after(async () => {
    await op?.close();
    await Promise.all([api?.close(), s3?.close(), hive?.close(), archiveWeb?.close()]);
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    expect((await fetch(`${op.url}/healthz`)).status).to.equal(200);
    expect((await fetch(`${op.url}/readyz`)).status).to.equal(200);
    expect(await (await fetch(`${op.url}/metrics`)).text()).to.match(/locus_operator_queue_depth/);
  });

  it('creates the owned Secret, ConfigMap and PVC, lists the bucket, and becomes Ready when the PVC binds', async () => {
    putCredentials('ml');
    const created = await client.create(DATASETS, s3Dataset('ml', 'books'));
    const uid = created.metadata.uid;
    const catalog = await waitFor('the catalog', () => status('ml', 'books')?.catalog);
    expect(catalog).to.include({ objectCount: 3, totalBytes: 3000, blockSize: 16 * 1024 * 1024, blockCount: 1 });

    const ds = api.object<KubeObject>('datasets', 'books', 'ml')!;
    expect(ds.metadata.finalizers).to.include(FINALIZER);
    const secret = api.object<KubeObject>('secrets', credentialsSecretName('books'), 'ml')!;
    const cm = api.object<KubeObject>('configmaps', 'books', 'ml')!;
    const pvc = api.object<KubeObject>('persistentvolumeclaims', 'books', 'ml')!;
    for (const o of [secret, cm, pvc]) {
      expect(o.metadata.ownerReferences?.[0]).to.include({ kind: 'Dataset', name: 'books', uid, controller: true });
      expect(o.metadata.labels?.[OWNER_UID_LABEL]).to.equal(uid);
    }
    expect(secret.data).to.deep.equal({ accessKeyID: b64('S3RVER'), secretAccessKey: b64('S3RVER') });
    expect(cm.data).to.deep.equal({ endpoint: s3.endpoint, bucket: 'books', region: '', prefix: 'train/' });
    expect(condition('ml', 'books', 'CredentialsResolved')).to.include({ status: 'True', message: 'keys from Secret s3-creds, in Secret books-credentials' });
    await waitFor('the Pending PVC in VolumeBound', () =>
      /PVC books is Pending: no events yet; check that StorageClass csi-s3 exists/.test(condition('ml', 'books', 'VolumeBound')?.message ?? ''),
    );
    expect(status('ml', 'books')?.phase).to.equal('Pending');

    // A provisioning failure reaches the condition (the PVC's events are read while it is Pending).
    api.put({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'books.1', namespace: 'ml' },
      involvedObject: { kind: 'PersistentVolumeClaim', namespace: 'ml', name: 'books', uid: pvc.metadata.uid },
      type: 'Warning',
      reason: 'ProvisioningFailed',
      message: 'storageclass.storage.k8s.io "csi-s3" not found',
      lastTimestamp: '2026-01-01T00:00:00Z',
    });
    await waitFor('the event in VolumeBound', () =>
      condition('ml', 'books', 'VolumeBound')?.message.includes('ProvisioningFailed: storageclass.storage.k8s.io "csi-s3" not found'),
    );

    api.put({ ...pvc, spec: { ...(pvc.spec as object), volumeName: 'pv-books' }, status: { phase: 'Bound' } });
    await waitFor('Ready', () => status('ml', 'books')?.phase === 'Ready');
    expect(condition('ml', 'books', 'Ready')).to.include({ status: 'True', message: 'PVC books is bound; 3 objects, 3000 bytes listed' });
  });

  it('says which Secret is missing, then picks it up once it exists', async () => {
    await client.create(DATASETS, s3Dataset('nosecret', 'books'));
    const c = await waitFor('CredentialsResolved', () => condition('nosecret', 'books', 'CredentialsResolved'));
    expect(c).to.include({ status: 'False', reason: 'SecretNotFound' });
    expect(c.message).to.match(/^Secret s3-creds not found in namespace nosecret: create it with keys accessKeyID and secretAccessKey/);
    expect(condition('nosecret', 'books', 'Ready')?.message).to.equal(c.message);
    expect(api.object('persistentvolumeclaims', 'books', 'nosecret')).to.equal(undefined);
    putCredentials('nosecret');
    await waitFor('credentials resolved', () => condition('nosecret', 'books', 'CredentialsResolved')?.status === 'True');
    await waitFor('the PVC', () => api.object('persistentvolumeclaims', 'books', 'nosecret'));
  });

  it('follows a spec change: relists and rewrites the ConfigMap', async () => {
    putCredentials('update');
    await client.create(DATASETS, s3Dataset('update', 'books'));
    await waitFor('the first catalog', () => status('update', 'books')?.catalog?.objectCount === 3);
    const ds = api.object<KubeObject>('datasets', 'books', 'update')!;
    await client.mergePatch(DATASETS, ds.metadata, { spec: { local: { prefix: 'test/' } } });
    await waitFor('the new catalog', () => status('update', 'books')?.catalog?.objectCount === 1);
    expect(status('update', 'books')?.catalog?.totalBytes).to.equal(10);
    expect(status('update', 'books')?.observedGeneration).to.equal(2);
    await waitFor('the ConfigMap', () => (api.object<KubeObject>('configmaps', 'books', 'update')?.data as Record<string, string>).prefix === 'test/');
    await waitFor(
      'a PVC for the new prefix',
      () => api.object<KubeObject>('persistentvolumeclaims', 'books', 'update')?.metadata.annotations?.['locus.dev/prefix'] === 'test/',
    );
  });

  it('retries writes that meet 409 conflicts', async () => {
    putCredentials('conflict');
    const before = (await op.metrics.reconciles.get()).values.find((v) => v.labels.result === 'conflict')?.value ?? 0;
    api.failNext(3, { code: 409, reason: 'Conflict', verb: 'update', resource: 'datasets' });
    await client.create(DATASETS, s3Dataset('conflict', 'books'));
    await waitFor('the status despite conflicts', () => status('conflict', 'books')?.catalog);
    const after = (await op.metrics.reconciles.get()).values.find((v) => v.labels.result === 'conflict')?.value ?? 0;
    expect(after - before).to.equal(3);
  });

  it('on delete, removes what it created through the finalizer (garbage collector off)', async () => {
    putCredentials('cleanup');
    await client.create(DATASETS, s3Dataset('cleanup', 'books'));
    await waitFor('the PVC', () => api.object('persistentvolumeclaims', 'books', 'cleanup'));
    api.setGarbageCollection(false);
    try {
      await client.delete(DATASETS, { namespace: 'cleanup', name: 'books' });
      await waitFor('the Dataset to go', () => api.object('datasets', 'books', 'cleanup') === undefined);
      expect(api.objects('persistentvolumeclaims', 'cleanup')).to.deep.equal([]);
      expect(api.objects('configmaps', 'cleanup')).to.deep.equal([]);
      expect(api.objects('secrets', 'cleanup').map((s) => s.metadata.name)).to.deep.equal(['s3-creds']);
    } finally {
      api.setGarbageCollection(true);
    }
  });

  it('owns its objects so the garbage collector removes them with the Dataset', async () => {
    putCredentials('gc');
    await client.create(DATASETS, s3Dataset('gc', 'books'));
    await waitFor('the PVC', () => api.object('persistentvolumeclaims', 'books', 'gc'));
    // Removed at once, finalizer or not: only the owner references can take the rest with it.
    api.delete('datasets', 'books', 'gc');
    expect(api.objects('persistentvolumeclaims', 'gc')).to.deep.equal([]);
    expect(api.objects('configmaps', 'gc')).to.deep.equal([]);
    expect(api.objects('secrets', 'gc').map((s) => s.metadata.name)).to.deep.equal(['s3-creds']);
  });

  it('deletes the NFS PersistentVolume it created (cluster-scoped, so not garbage collected)', async () => {
    await client.create(DATASETS, {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'share', namespace: 'nfs' },
      spec: { local: { type: 'NFS', server: 'nfs.example', share: '/exports/share' } },
    });
    const pv = await waitFor('the PV', () => api.object<KubeObject>('persistentvolumes', 'locus.nfs.share'));
    expect(pv.spec).to.deep.include({ storageClassName: 'nfs', claimRef: { namespace: 'nfs', name: 'share' } });
    await waitFor('the PVC', () => api.object('persistentvolumeclaims', 'share', 'nfs'));
    await client.delete(DATASETS, { namespace: 'nfs', name: 'share' });
    await waitFor('the PV to go', () => api.object('persistentvolumes', 'locus.nfs.share') === undefined);
  });

  it('moves raw keys from the spec into the owned Secret, with a warning condition and event', async () => {
    const ds = s3Dataset('raw', 'books', { accessKeyID: 'S3RVER', secretAccessKey: 'S3RVER' });
    delete (ds.spec as { local: Record<string, string> }).local['secret-name'];
    await client.create(DATASETS, ds);
    await waitFor('the keys to leave the spec', () => {
      const local = (api.object<KubeObject>('datasets', 'books', 'raw')?.spec as { local: Record<string, string> }).local;
      return local.accessKeyID === undefined && local.secretAccessKey === undefined;
    });
    const secret = api.object<KubeObject>('secrets', 'books-credentials', 'raw')!;
    expect(secret.data).to.deep.equal({ accessKeyID: b64('S3RVER'), secretAccessKey: b64('S3RVER') });
    await waitFor('the catalog, listed with the moved keys', () => status('raw', 'books')?.catalog?.objectCount === 3);
    expect(condition('raw', 'books', 'RawKeysInSpec')).to.include({ status: 'True', reason: 'MovedToSecret' });
    expect(JSON.stringify(api.objects('configmaps', 'raw'))).to.not.include('S3RVER');
    await waitFor('the RawKeysMoved event', () => api.objects<KubeObject>('events', 'raw').some((e) => e.reason === 'RawKeysMoved' && e.type === 'Warning'));
  });

  it('refuses a Secret in another namespace with a clear error', async () => {
    putCredentials('elsewhere');
    await client.create(DATASETS, s3Dataset('cross', 'books', { 'secret-namespace': 'elsewhere' }));
    await waitFor('Failed', () => status('cross', 'books')?.phase === 'Failed');
    expect(condition('cross', 'books', 'Ready')?.message).to.match(
      /secret-namespace is "elsewhere" but Secrets are read only from the Dataset's namespace "cross"/,
    );
    expect(api.requests.some((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/elsewhere/secrets/s3-creds')).to.equal(false);
  });

  it('resolves a catalog entry through the metastore and lists its location', async () => {
    putCredentials('hive');
    await client.create(DATASETS, {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'lake', namespace: 'hive' },
      spec: { remote: { type: 'CatalogEntry', table: 'lake/books', catalogURI: hive.uri, endpoint: s3.endpoint, 'secret-name': 's3-creds' } },
    });
    await waitFor('the catalog', () => status('hive', 'lake')?.catalog?.objectCount === 3);
    expect(status('hive', 'lake')?.resolved).to.deep.equal({ bucket: 'books', prefix: 'train/', endpoint: s3.endpoint });
    expect(condition('hive', 'lake', 'CatalogResolved')).to.include({ status: 'True', message: 'table lake/books is at s3://books/train/' });
  });

  it('audits which pods use a Dataset, in status and in /metrics', async () => {
    putCredentials('audit');
    await client.create(DATASETS, s3Dataset('audit', 'books'));
    await waitFor('the catalog', () => status('audit', 'books')?.catalog);
    const pod = (name: string, labels: Record<string, string>, claim?: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'audit', labels },
      spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: claim ? [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] : [] },
    });
    await client.create(PODS, pod('trainer', { 'dataset.0.id': 'books', 'dataset.0.useas': 'mount' }));
    await client.create(PODS, pod('reader', {}, 'books'));
    await client.create(PODS, pod('bystander', {}));
    await client.create(PODS, pod('lost', { 'dataset.0.id': 'no-such-dataset' }));
    await waitFor('two users', () => status('audit', 'books')?.usage?.pods === 2);
    expect(status('audit', 'books')?.usage?.podNames).to.deep.equal(['reader', 'trainer']);
    const metrics = await (await fetch(`${op.url}/metrics`)).text();
    expect(metrics).to.match(/locus_operator_dataset_pods\{namespace="audit",dataset="books"\} 2/);
    expect(metrics).to.not.include('no-such-dataset');
    await client.delete(PODS, { namespace: 'audit', name: 'trainer' });
    await waitFor('one user', () => status('audit', 'books')?.usage?.pods === 1);
  });

  it("stages an ARCHIVE Dataset (Datashim's top-level form): download, extract, then a read-only object-store Dataset", async () => {
    api.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'archive-store', namespace: 'locus-system' },
      data: { accessKeyID: b64('S3RVER'), secretAccessKey: b64('S3RVER') },
    });
    await client.create(DATASETS, {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'weather', namespace: 'arch' },
      spec: { type: 'ARCHIVE', url: `${archiveWeb.url}/noaa.tar.gz`, format: 'application/x-tar', extract: 'true' },
    });
    await waitFor('the archive to be staged', () => condition('arch', 'weather', 'ArchiveStaged')?.status === 'True', 20_000);
    expect(status('arch', 'weather')?.archive).to.deep.include({ url: `${archiveWeb.url}/noaa.tar.gz`, extract: true, objects: 2 });
    const catalog = await waitFor('the catalog of what was staged', () => status('arch', 'weather')?.catalog);
    expect(catalog).to.include({ objectCount: 2 });
    const cm = api.object<KubeObject>('configmaps', 'weather', 'arch')!;
    expect(cm.data).to.deep.equal({ endpoint: s3.endpoint, bucket: 'archives', region: '', prefix: 'staged/arch/weather/' });
    const pvc = await waitFor('the PVC', () => api.object<KubeObject>('persistentvolumeclaims', 'weather', 'arch'));
    expect((pvc.spec as { accessModes: string[] }).accessModes).to.deep.equal(['ReadOnlyMany']);
    expect(api.object<KubeObject>('secrets', 'weather-credentials', 'arch')?.metadata.annotations).to.include({
      'locus.dev/credentials-source': 'archive-store',
    });
    api.put({ ...pvc, spec: { ...(pvc.spec as object), volumeName: 'pv-weather' }, status: { phase: 'Bound' } });
    await waitFor('Ready', () => status('arch', 'weather')?.phase === 'Ready');
  });

  it('reports an archive that cannot be downloaded in ArchiveStaged, with the HTTP status and the retry', async () => {
    api.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'archive-store', namespace: 'locus-system' },
      data: { accessKeyID: b64('S3RVER'), secretAccessKey: b64('S3RVER') },
    });
    await client.create(DATASETS, {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'gone', namespace: 'arch' },
      spec: { type: 'ARCHIVE', url: `${archiveWeb.url}/missing.tar.gz` },
    });
    const c = await waitFor(
      'the failure',
      () => condition('arch', 'gone', 'ArchiveStaged')?.status === 'False' && condition('arch', 'gone', 'ArchiveStaged'),
      20_000,
    );
    expect(c.message).to.match(/answered HTTP 404; check spec.url; trying again at /);
    expect(api.object('persistentvolumeclaims', 'gone', 'arch')).to.equal(undefined);
  });

  it('creates a missing bucket for provision: "true", then lists it', async () => {
    putCredentials('prov');
    await client.create(DATASETS, s3Dataset('prov', 'models', { bucket: 'my-model', prefix: '', provision: 'true' }));
    await waitFor('BucketProvisioned', () => condition('prov', 'models', 'BucketProvisioned')?.status === 'True');
    expect(condition('prov', 'models', 'BucketProvisioned')).to.include({ reason: 'Created' });
    await waitFor('the (empty) catalog', () => status('prov', 'models')?.catalog);
  });

  it('NFS createDirPVC: creates the mkdir Job, and the PV on the new directory once the Job succeeded', async () => {
    const created = await client.create<KubeObject>(DATASETS, {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'scratch', namespace: 'nfs' },
      spec: { local: { type: 'NFS', server: 'nfs.example', share: '/exports', createDirPVC: 'true' } },
    });
    const job = await waitFor('the Job', () => api.object<KubeObject>('jobs', 'scratch-mkdir', 'nfs'));
    const dir = `scratch-${created.metadata.uid!.replace(/-/g, '').slice(0, 6)}`;
    expect(JSON.stringify(job.spec)).to.include(`/share/${dir}`);
    api.put({ ...job, status: { succeeded: 1 } });
    const pv = await waitFor('the PV', () => api.objects<KubeObject>('persistentvolumes').find((p) => p.metadata.name === 'locus.nfs.scratch'), 10_000);
    expect((pv.spec as { csi: { volumeAttributes: object } }).csi.volumeAttributes).to.deep.equal({ server: 'nfs.example', share: `/exports/${dir}` });
  });

  it('needed nothing that deploy/operator/rbac.yaml does not grant, and never listed Secrets', () => {
    const role = parseAllDocuments(readFileSync('deploy/operator/rbac.yaml', 'utf8'))
      .map((d) => d.toJS())
      .find((o) => o.kind === 'ClusterRole');
    const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const granted = (group: string, resource: string, verb: string) =>
      rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    expect(used.size).to.be.greaterThan(10);
    for (const u of used) {
      const [, group, resource, verb] = /^([^/]*)\/(.+):(\w+)$/.exec(u)!;
      expect(granted(group, resource, verb), `${verb} ${resource} in group "${group}"`).to.equal(true);
    }
    expect([...used]).to.not.include.members(['/secrets:list', '/secrets:watch']);
  });
});
