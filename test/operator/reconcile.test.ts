import { expect } from 'chai';
import { FINALIZER, OWNER_UID_LABEL } from '../../src/api/names.js';
import type { Condition, DatasetStatus } from '../../src/api/dataset.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DEFAULT_CONFIG as BASE_CONFIG } from '../../src/operator/config.js';
import { parsePolicy } from '../../src/operator/policy.js';
import { catalogDue, reconcile, type Action, type Observed, type ReconcileResult } from '../../src/operator/reconcile.js';
import { stripKeysPatch } from '../../src/operator/strip-keys.js';

// Every type allowed: these tests are about reconciling; the policy has test/security/dataset-policy.test.ts.
const DEFAULT_CONFIG = {
  ...BASE_CONFIG,
  policy: parsePolicy(
    'namespaces: { "*": { types: [COS, S3, NFS, HOST, ARCHIVE, H3, CatalogEntry], hostPaths: [/], nfs: [{ server: nfs.example, exports: [/] }, { server: 10.109.11.40, exports: [/] }, { server: nfs, exports: [/] }] } }',
    'test',
  ),
};
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';
const UID = 'uid-books';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const owner = [{ apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', name: 'books', uid: UID, controller: true, blockOwnerDeletion: true }];

const s3Spec = { local: { type: 'S3', endpoint: 'http://minio:9000', bucket: 'books', region: 'eu', prefix: 'train/', 'secret-name': 's3-creds' } };

function dataset(spec: object, opts: { finalizers?: string[]; status?: DatasetStatus; deleting?: boolean; generation?: number } = {}): KubeObject {
  return {
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: {
      name: 'books',
      namespace: 'ml',
      uid: UID,
      generation: opts.generation ?? 1,
      resourceVersion: '10',
      finalizers: opts.finalizers ?? [FINALIZER],
      ...(opts.deleting ? { deletionTimestamp: T0 } : {}),
    },
    spec,
    ...(opts.status ? { status: opts.status } : {}),
  };
}

const userSecret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's3-creds', namespace: 'ml' },
  data: { accessKeyID: b64('AK'), secretAccessKey: b64('SK') },
};
/** `namespaceLabels`: the namespace was read and sets no read-through default (test/operator/reconcile-read-through.test.ts). */
const nothing: Observed = { now: T0, userSecret: null, ownedSecret: null, configMap: null, pvc: null, pv: null, pods: [], namespaceLabels: {} };

/** The objects an action list creates or updates, by kind. */
const writes = (r: ReconcileResult, verb: 'create' | 'update'): Record<string, KubeObject> =>
  Object.fromEntries(r.actions.filter((a): a is Extract<Action, { object: KubeObject }> => a.kind === verb).map((a) => [a.object.kind ?? '', a.object]));
const cond = (r: ReconcileResult, type: string): Condition | undefined => r.status?.conditions?.find((c) => c.type === type);

/** What a first round created, as the API server would hand it back (uid, resourceVersion, owned). */
function stored(o: KubeObject, extra: Record<string, unknown> = {}): KubeObject {
  return { ...o, metadata: { ...o.metadata, uid: `uid-${o.kind}`, resourceVersion: '20' }, ...extra };
}

describe('operator reconcile (pure)', () => {
  describe('object-store Datasets', () => {
    it('creates the owned Secret, ConfigMap and PVC of a new S3 Dataset, keys only in the Secret', () => {
      const r = reconcile(dataset(s3Spec), { ...nothing, userSecret }, DEFAULT_CONFIG);
      const created = writes(r, 'create');
      expect(Object.keys(created).sort()).to.deep.equal(['ConfigMap', 'PersistentVolumeClaim', 'Secret']);
      expect(created.Secret.metadata).to.include({ name: 'books-credentials', namespace: 'ml' });
      expect(created.Secret.data).to.deep.equal({ accessKeyID: b64('AK'), secretAccessKey: b64('SK') });
      expect(created.ConfigMap.data).to.deep.equal({ endpoint: 'http://minio:9000', bucket: 'books', region: 'eu', prefix: 'train/' });
      expect(JSON.stringify(created.ConfigMap)).to.not.match(/AK|SK/);
      expect(created.PersistentVolumeClaim.spec).to.deep.include({ storageClassName: 'csi-s3', accessModes: ['ReadWriteMany'] });
      for (const o of Object.values(created)) {
        expect(o.metadata.ownerReferences).to.deep.equal(owner);
        expect(o.metadata.labels?.[OWNER_UID_LABEL]).to.equal(UID);
      }
      expect(r.status?.phase).to.equal('Pending');
      expect(cond(r, 'CredentialsResolved')).to.include({ status: 'True', reason: 'FromSecret' });
      expect(cond(r, 'VolumeBound')).to.include({ status: 'False', reason: 'Creating' });
      expect(r.requeue).to.equal('backoff');
    });

    it('adds the finalizer first when it is missing', () => {
      const r = reconcile(dataset(s3Spec, { finalizers: [] }), { ...nothing, userSecret }, DEFAULT_CONFIG);
      expect(r.actions[0]).to.deep.equal({ kind: 'addFinalizer' });
    });

    it('says which Secret is missing in which namespace, and retries with backoff', () => {
      const r = reconcile(dataset(s3Spec), nothing, DEFAULT_CONFIG);
      expect(cond(r, 'CredentialsResolved')).to.include({ status: 'False', reason: 'SecretNotFound' });
      expect(cond(r, 'Ready')?.message).to.match(/^Secret s3-creds not found in namespace ml: create it with keys accessKeyID and secretAccessKey/);
      expect(Object.keys(writes(r, 'create'))).to.deep.equal(['ConfigMap']);
      expect(r.status?.phase).to.equal('Pending');
      expect(r.requeue).to.equal('backoff');
    });

    it('names the missing key of an incomplete Secret', () => {
      const partial = { ...userSecret, data: { accessKeyID: b64('AK') } };
      const r = reconcile(dataset(s3Spec), { ...nothing, userSecret: partial }, DEFAULT_CONFIG);
      expect(cond(r, 'CredentialsResolved')?.message).to.equal('Secret s3-creds in namespace ml has no secretAccessKey: add it to the Secret');
    });

    it("refuses a secret-namespace other than the Dataset's, permanently", () => {
      const spec = { local: { ...s3Spec.local, 'secret-namespace': 'other' } };
      const r = reconcile(dataset(spec), { ...nothing, userSecret }, DEFAULT_CONFIG);
      expect(cond(r, 'CredentialsResolved')).to.include({ status: 'False', reason: 'SecretNamespaceNotAllowed' });
      expect(cond(r, 'Ready')?.message).to.match(/secret-namespace is "other" but Secrets are read only from the Dataset's namespace "ml"/);
      expect(writes(r, 'create').Secret).to.equal(undefined);
      expect(r.status?.phase).to.equal('Failed');
      expect(r.requeue).to.equal(undefined);
    });

    it('moves raw keys into the owned Secret, warns, and strips them from the spec once the Secret holds them', () => {
      const spec = { local: { type: 'COS', endpoint: 'http://minio:9000', bucket: 'books', accessKeyID: 'AK', secretAccessKey: 'SK' } };
      const first = reconcile(dataset(spec), nothing, DEFAULT_CONFIG);
      const secret = writes(first, 'create').Secret;
      expect(secret.data).to.deep.equal({ accessKeyID: b64('AK'), secretAccessKey: b64('SK') });
      expect(secret.metadata.annotations?.['locus.dev/credentials-source']).to.equal('spec');
      expect(JSON.stringify(writes(first, 'create').ConfigMap)).to.not.match(/AK|SK/);
      expect(cond(first, 'RawKeysInSpec')).to.include({ status: 'True', reason: 'MovedToSecret' });
      expect(first.actions.some((a) => a.kind === 'stripSpecKeys')).to.equal(false);

      const second = reconcile(dataset(spec), { ...nothing, ownedSecret: stored(secret) }, DEFAULT_CONFIG);
      expect(second.actions).to.deep.include({ kind: 'stripSpecKeys', field: 'local' });

      // After the strip the owned Secret is the source, and the warning stays.
      const { accessKeyID: _a, secretAccessKey: _s, ...stripped } = spec.local;
      const third = reconcile(dataset({ local: stripped }), { ...nothing, ownedSecret: stored(secret) }, DEFAULT_CONFIG);
      expect(third.actions.map((a) => (a.kind === 'create' ? a.object.kind : a.kind))).to.deep.equal(['ConfigMap', 'PersistentVolumeClaim']);
      expect(cond(third, 'CredentialsResolved')).to.include({ status: 'True', reason: 'MovedFromSpec' });
      expect(cond(third, 'RawKeysInSpec')?.status).to.equal('True');
    });

    it('reports only one raw key as an error naming both fields', () => {
      const r = reconcile(dataset({ local: { type: 'S3', endpoint: 'http://m:9000', bucket: 'bb1', accessKeyID: 'AK' } }), nothing, DEFAULT_CONFIG);
      expect(cond(r, 'CredentialsResolved')?.message).to.match(/spec\.local\.accessKeyID is set but spec\.local\.secretAccessKey is not/);
    });

    it('surfaces the cause of a Pending PVC from its latest Warning event', () => {
      const pvc = stored(writes(reconcile(dataset(s3Spec), { ...nothing, userSecret }, DEFAULT_CONFIG), 'create').PersistentVolumeClaim, {
        status: { phase: 'Pending' },
      });
      const ev = (reason: string, type: string, at: string, message: string): KubeObject => ({
        metadata: { name: reason },
        reason,
        type,
        lastTimestamp: at,
        message,
      });
      const events = [
        ev('ExternalProvisioning', 'Normal', '2026-01-01T00:00:03Z', 'waiting for a volume'),
        ev('ProvisioningFailed', 'Warning', '2026-01-01T00:00:02Z', 'storageclass.storage.k8s.io "csi-s3" not found'),
        ev('ProvisioningFailed', 'Warning', '2026-01-01T00:00:01Z', 'older failure'),
      ];
      const r = reconcile(dataset(s3Spec), { ...nothing, userSecret, pvc, pvcEvents: events }, DEFAULT_CONFIG);
      expect(cond(r, 'VolumeBound')?.message).to.equal('PVC books is Pending: ProvisioningFailed: storageclass.storage.k8s.io "csi-s3" not found');
      expect(cond(r, 'Ready')?.reason).to.equal('Pending');
      const quiet = reconcile(dataset(s3Spec), { ...nothing, userSecret, pvc, pvcEvents: [] }, DEFAULT_CONFIG);
      expect(cond(quiet, 'VolumeBound')?.message).to.match(/no events yet; check that StorageClass csi-s3 exists/);
    });

    it('is Ready when the PVC is bound, records the listing, and requeues for the next refresh', () => {
      const first = writes(reconcile(dataset(s3Spec), { ...nothing, userSecret }, DEFAULT_CONFIG), 'create');
      const observed: Observed = {
        ...nothing,
        userSecret,
        ownedSecret: stored(first.Secret),
        configMap: stored(first.ConfigMap),
        pvc: stored(first.PersistentVolumeClaim, { status: { phase: 'Bound' }, spec: { ...(first.PersistentVolumeClaim.spec as object), volumeName: 'pv-1' } }),
        listing: { ok: true, summary: { objectCount: 3, totalBytes: 40 << 20, blockSize: 16 << 20, blockCount: 3, version: 'abc' } },
        pods: ['trainer-1'],
      };
      const r = reconcile(dataset(s3Spec), observed, DEFAULT_CONFIG);
      expect(r.actions).to.deep.equal([]);
      expect(r.status?.phase).to.equal('Ready');
      expect(cond(r, 'Ready')).to.include({ status: 'True' });
      expect(cond(r, 'VolumeBound')?.message).to.equal('PVC books is bound to pv-1');
      expect(r.status?.catalog).to.deep.equal({ objectCount: 3, totalBytes: 40 << 20, blockSize: 16 << 20, blockCount: 3, version: 'abc', refreshedAt: T0 });
      expect(r.status?.resolved).to.deep.equal({ bucket: 'books', prefix: 'train/', endpoint: 'http://minio:9000' });
      expect(r.status?.usage).to.deep.equal({ pods: 1, podNames: ['trainer-1'] });
      expect(r.requeue).to.deep.equal({ afterMs: DEFAULT_CONFIG.catalogIntervalMs });

      // The next round, five minutes on without a listing, keeps the catalog and every transition time.
      const again = reconcile(dataset(s3Spec, { status: r.status }), { ...observed, listing: undefined, now: T1 }, DEFAULT_CONFIG);
      expect(again.status).to.deep.equal(r.status);
      expect(again.requeue).to.deep.equal({ afterMs: DEFAULT_CONFIG.catalogIntervalMs - 5 * 60_000 });

      // A failed listing keeps the last catalog, says so, and stays Ready.
      const failed = reconcile(
        dataset(s3Spec, { status: r.status }),
        { ...observed, listing: { ok: false, message: 'listing failed: boom' }, now: T1 },
        DEFAULT_CONFIG,
      );
      expect(failed.status?.catalog).to.deep.equal(r.status?.catalog);
      expect(cond(failed, 'CatalogListed')).to.include({ status: 'False', message: `listing failed: boom (keeping the catalog of ${T0})` });
      expect(failed.status?.phase).to.equal('Ready');
      expect(failed.requeue).to.equal('backoff');
    });

    it('updates a ConfigMap that drifted, based on its resourceVersion', () => {
      const cm = stored(writes(reconcile(dataset(s3Spec), { ...nothing, userSecret }, DEFAULT_CONFIG), 'create').ConfigMap);
      const r = reconcile(dataset(s3Spec), { ...nothing, userSecret, configMap: { ...cm, data: { bucket: 'edited' } } }, DEFAULT_CONFIG);
      const updated = writes(r, 'update').ConfigMap;
      expect(updated.metadata.resourceVersion).to.equal('20');
      expect(updated.data).to.deep.equal(cm.data);
    });

    it('leaves alone an object of the same name that it does not own, and says so', () => {
      const foreign: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'books', namespace: 'ml', resourceVersion: '3' }, data: {} };
      const r = reconcile(dataset(s3Spec), { ...nothing, userSecret, configMap: foreign }, DEFAULT_CONFIG);
      expect(writes(r, 'update').ConfigMap).to.equal(undefined);
      expect(cond(r, 'Ready')).to.include({ reason: 'NameTaken' });
      expect(cond(r, 'Ready')?.message).to.match(/ConfigMap books exists in namespace ml and is not owned by Dataset books/);
      expect(r.status?.phase).to.equal('Failed');
    });

    it('replaces a PVC made for an earlier bucket when no pod uses it, and reports it otherwise', () => {
      const pvc = stored(writes(reconcile(dataset(s3Spec), { ...nothing, userSecret }, DEFAULT_CONFIG), 'create').PersistentVolumeClaim, {
        status: { phase: 'Bound' },
      });
      const moved = { local: { ...s3Spec.local, bucket: 'books-v2' } };
      const idle = reconcile(dataset(moved), { ...nothing, userSecret, pvc }, DEFAULT_CONFIG);
      expect(idle.actions).to.deep.include({
        kind: 'delete',
        target: { kind: 'PersistentVolumeClaim', namespace: 'ml', name: 'books', uid: 'uid-PersistentVolumeClaim' },
      });
      const busy = reconcile(dataset(moved), { ...nothing, userSecret, pvc, pods: ['a', 'b'] }, DEFAULT_CONFIG);
      expect(busy.actions.some((a) => a.kind === 'delete')).to.equal(false);
      expect(cond(busy, 'VolumeBound')?.message).to.match(/made for an earlier spec and 2 pod\(s\) use it \(a, b\)/);
    });

    it('drops the catalog of a bucket the Dataset no longer points at', () => {
      const status: DatasetStatus = {
        resolved: { bucket: 'books', prefix: 'train/', endpoint: 'http://minio:9000' },
        catalog: { objectCount: 1, totalBytes: 1, blockSize: 16 << 20, blockCount: 1, version: 'old', refreshedAt: T0 },
      };
      const r = reconcile(dataset({ local: { ...s3Spec.local, prefix: 'test/' } }, { status, generation: 2 }), { ...nothing, userSecret }, DEFAULT_CONFIG);
      expect(r.status?.catalog).to.equal(undefined);
      expect(r.status?.observedGeneration).to.equal(2);
    });
  });

  describe('NFS, HOST and ARCHIVE', () => {
    it('binds an NFS Dataset through its own PV in the NFS class (no Secret)', () => {
      const r = reconcile(dataset({ local: { type: 'NFS', server: 'nfs.example', share: '/exports/data', readonly: 'true' } }), nothing, DEFAULT_CONFIG);
      const c = writes(r, 'create');
      expect(Object.keys(c).sort()).to.deep.equal(['ConfigMap', 'PersistentVolume', 'PersistentVolumeClaim']);
      expect(c.ConfigMap.data).to.deep.equal({ server: 'nfs.example', share: '/exports/data' });
      expect(c.PersistentVolume.metadata.ownerReferences).to.equal(undefined);
      expect(c.PersistentVolume.metadata.labels?.[OWNER_UID_LABEL]).to.equal(UID);
      expect(c.PersistentVolume.spec).to.deep.include({
        storageClassName: 'nfs',
        accessModes: ['ReadOnlyMany'],
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace: 'ml', name: 'books' },
      });
      expect((c.PersistentVolume.spec as { csi: { volumeAttributes: object } }).csi.volumeAttributes).to.deep.equal({
        server: 'nfs.example',
        share: '/exports/data',
      });
      expect(c.PersistentVolumeClaim.spec).to.deep.include({ storageClassName: 'nfs', volumeName: 'locus.ml.books' });
      expect(cond(r, 'CredentialsResolved')).to.equal(undefined);
    });

    it('takes PVs and PVCs as the API server stores them (empty strings and false dropped) as up to date', () => {
      for (const local of [
        { type: 'NFS', server: 'nfs.example', share: '/exports/data' },
        { type: 'HOST', path: '/data/books' },
      ]) {
        const c = writes(reconcile(dataset({ local }), nothing, DEFAULT_CONFIG), 'create');
        const omitEmpty = (o: KubeObject): KubeObject => JSON.parse(JSON.stringify(o, (_k, v) => (v === '' || v === false ? undefined : v)));
        const pv = stored(omitEmpty(c.PersistentVolume), { status: { phase: 'Bound' } });
        const pvc = stored(omitEmpty(c.PersistentVolumeClaim), { status: { phase: 'Bound' } });
        const r = reconcile(dataset({ local }), { ...nothing, configMap: stored(c.ConfigMap), pv, pvc }, DEFAULT_CONFIG);
        expect(r.actions, local.type).to.deep.equal([]);
        expect(r.status?.phase, local.type).to.equal('Ready');
      }
    });

    it("maps Datashim's CreateNew host path type to DirectoryOrCreate", () => {
      const r = reconcile(dataset({ local: { type: 'HOST', path: '/data/books', hostPathType: 'CreateNew' } }), nothing, DEFAULT_CONFIG);
      const pv = writes(r, 'create').PersistentVolume;
      expect(pv.spec).to.deep.include({ storageClassName: '', hostPath: { path: '/data/books', type: 'DirectoryOrCreate' } });
    });
  });

  describe("Datashim's fields", () => {
    const store = {
      endpoint: 'http://staging:9000',
      region: '',
      bucket: 'locus-archives',
      prefix: '',
      secret: { namespace: 'locus-system', name: 'archive-store' },
    };
    const config = { ...DEFAULT_CONFIG, archiveStore: store };
    const archive = { type: 'ARCHIVE', url: 'https://cdn.example.com/noaa.tar.gz', format: 'application/x-tar', extract: 'true' };
    const stagingKeys = { accessKeyID: 'SAK', secretAccessKey: 'SSK' };
    const needs = (r: ReconcileResult) => r.needs.map((n) => n.kind);

    it('ARCHIVE at the top of spec: reads the staging keys, then stages, with no volume until it is staged', () => {
      let r = reconcile(dataset(archive), nothing, config);
      expect(needs(r)).to.deep.equal(['archiveKeys']);
      r = reconcile(dataset(archive), { ...nothing, archiveKeys: stagingKeys }, config);
      const need = r.needs.find((n) => n.kind === 'archive');
      expect(need).to.deep.include({ keys: stagingKeys });
      expect(need && need.kind === 'archive' && need.plan).to.deep.include({
        url: archive.url,
        extract: true,
        keys: 'staging',
        target: { endpoint: 'http://staging:9000', region: '', bucket: 'locus-archives', prefix: 'ml/books/' },
      });
      expect(needs(r), 'nothing is listed before the files are there').to.not.include('listing');
      const running = reconcile(
        dataset(archive),
        {
          ...nothing,
          archiveKeys: stagingKeys,
          archive: {
            state: 'running',
            id: need!.kind === 'archive' ? need!.plan.id : '',
            phase: 'downloading',
            bytes: 3 << 20,
            totalBytes: 10 << 20,
            objects: 0,
          },
        },
        config,
      );
      expect(cond(running, 'ArchiveStaged')).to.include({
        status: 'Unknown',
        reason: 'Downloading',
        message: `downloaded 3.0 MiB of 10.0 MiB of ${archive.url}`,
      });
      expect(writes(running, 'create').PersistentVolumeClaim).to.equal(undefined);
      expect(writes(running, 'create').Secret.metadata.annotations).to.include({ 'locus.dev/credentials-source': 'archive-store' });
      expect(cond(running, 'Ready')).to.include({ status: 'False' });
      expect(running.status?.phase).to.equal('Pending');
    });

    it('ARCHIVE staged: records it, and is from then on the read-only object store it was staged in', () => {
      const first = reconcile(dataset(archive), { ...nothing, archiveKeys: stagingKeys }, config);
      const plan = (first.needs.find((n) => n.kind === 'archive') as { plan: { id: string } }).plan;
      const done = { state: 'done' as const, id: plan.id, objects: 2, bytes: 4096, detected: 'tar+gzip', at: T0 };
      const r = reconcile(dataset(archive), { ...nothing, archiveKeys: stagingKeys, archive: done }, config);
      expect(r.status?.archive).to.deep.equal({ id: plan.id, url: archive.url, extract: true, objects: 2, bytes: 4096, stagedAt: T0 });
      expect(cond(r, 'ArchiveStaged')).to.include({ status: 'True', reason: 'Staged' });
      expect(writes(r, 'create').PersistentVolumeClaim.spec).to.deep.include({ accessModes: ['ReadOnlyMany'] });
      expect(writes(r, 'create').ConfigMap.data).to.deep.equal({ endpoint: 'http://staging:9000', bucket: 'locus-archives', region: '', prefix: 'ml/books/' });
      expect(r.status?.resolved).to.deep.equal({ bucket: 'locus-archives', prefix: 'ml/books/', endpoint: 'http://staging:9000' });
      expect(needs(r)).to.include('listing');
      // Next round the record in status says it is staged: no staging is asked for again.
      const again = reconcile(dataset(archive, { status: r.status }), { ...nothing, archiveKeys: stagingKeys }, config);
      expect(needs(again)).to.not.include('archive');
      expect(cond(again, 'ArchiveStaged')).to.include({ status: 'True' });
    });

    it('ARCHIVE: a failure shows in ArchiveStaged and Ready; one only a spec change mends fails the Dataset', () => {
      const first = reconcile(dataset(archive), { ...nothing, archiveKeys: stagingKeys }, config);
      const id = (first.needs.find((n) => n.kind === 'archive') as { plan: { id: string } }).plan.id;
      const r = reconcile(
        dataset(archive),
        { ...nothing, archiveKeys: stagingKeys, archive: { state: 'failed', id, reason: 'TooLarge', message: 'the archive is larger than 10 bytes' } },
        config,
      );
      expect(cond(r, 'ArchiveStaged')).to.include({ status: 'False', reason: 'TooLarge' });
      expect(cond(r, 'Ready')).to.include({ status: 'False', reason: 'TooLarge' });
      expect(r.status?.phase).to.equal('Failed');
    });

    it('ARCHIVE without a staging store, or a staging Secret that is missing, says what to do', () => {
      const r = reconcile(dataset(archive), nothing, DEFAULT_CONFIG);
      expect(cond(r, 'Ready')).to.include({ status: 'False', reason: 'NoStagingStore' });
      expect(cond(r, 'Ready')?.message).to.match(/--archive-endpoint, --archive-bucket and --archive-secret/);
      const missing = reconcile(
        dataset(archive),
        { ...nothing, archiveKeys: { error: 'Secret locus-system/archive-store (--archive-secret) does not exist' } },
        config,
      );
      expect(cond(missing, 'CredentialsResolved')).to.include({ status: 'False', reason: 'StagingKeysMissing' });
    });

    it('ARCHIVE in spec.local with a bucket of its own is staged there, with its own keys', () => {
      const local = { type: 'ARCHIVE', url: archive.url, extract: 'false', endpoint: 'http://minio:9000', bucket: 'weather/jfk', 'secret-name': 's3-creds' };
      const r = reconcile(dataset({ local }), { ...nothing, userSecret }, config);
      const need = r.needs.find((n) => n.kind === 'archive') as { plan: { target: object; keys: string }; keys: object } | undefined;
      expect(need?.plan).to.deep.include({ keys: 'dataset', target: { endpoint: 'http://minio:9000', region: '', bucket: 'weather', prefix: 'jfk/' } });
      expect(need?.keys).to.deep.equal({ accessKeyID: 'AK', secretAccessKey: 'SK' });
    });

    it('bucket: <bucket>/<folder> is the bucket and the prefix <folder>/', () => {
      const r = reconcile(
        dataset({ local: { ...s3Spec.local, bucket: 'my-bucket/my-user/data', prefix: undefined } }),
        { ...nothing, userSecret },
        DEFAULT_CONFIG,
      );
      expect(writes(r, 'create').ConfigMap.data).to.include({ bucket: 'my-bucket', prefix: 'my-user/data/' });
    });

    it('provision: "true" creates the bucket before it is listed', () => {
      const spec = { local: { ...s3Spec.local, provision: 'true' } };
      const r = reconcile(dataset(spec), { ...nothing, userSecret }, DEFAULT_CONFIG);
      expect(needs(r)).to.deep.equal(['provision']);
      const created = reconcile(dataset(spec), { ...nothing, userSecret, provisioned: { ok: true, created: true } }, DEFAULT_CONFIG);
      expect(cond(created, 'BucketProvisioned')).to.include({ status: 'True', reason: 'Created', message: 'bucket books created at http://minio:9000' });
      expect(needs(created)).to.deep.equal(['listing']);
      const failed = reconcile(
        dataset(spec),
        { ...nothing, userSecret, provisioned: { ok: false, message: 'could not create bucket books: AccessDenied' } },
        DEFAULT_CONFIG,
      );
      expect(cond(failed, 'Ready')).to.include({ status: 'False', reason: 'ProvisionFailed' });
      expect(failed.requeue).to.equal('backoff');
    });

    it('H3 is refused with the reason; removeOnDelete is accepted and reported as ignored', () => {
      const h3 = reconcile(dataset({ local: { type: 'H3', storageUri: 'h3://x', bucket: 'bucket1' } }), nothing, DEFAULT_CONFIG);
      expect(cond(h3, 'Ready')).to.include({ status: 'False', reason: 'UnsupportedType' });
      expect(h3.status?.phase).to.equal('Failed');
      expect(h3.actions.filter((a) => a.kind === 'create')).to.deep.equal([]);
      const r = reconcile(dataset({ local: { ...s3Spec.local, removeOnDelete: 'true' } }), { ...nothing, userSecret }, DEFAULT_CONFIG);
      expect(cond(r, 'Unsupported')).to.include({ status: 'True', reason: 'FieldsIgnored' });
      expect(cond(r, 'Unsupported')?.message).to.match(/never deletes the bucket/);
    });

    it('HOST permissions: ReadOnly is read-only', () => {
      const r = reconcile(dataset({ local: { type: 'HOST', path: '/data/books', permissions: 'ReadOnly' } }), nothing, DEFAULT_CONFIG);
      expect((writes(r, 'create').PersistentVolume.spec as { accessModes: string[] }).accessModes).to.deep.equal(['ReadOnlyMany']);
    });

    it("NFS createDirPVC: a Job makes the Dataset's own directory first, then the PV mounts it", () => {
      const spec = { local: { type: 'NFS', server: '10.109.11.40', share: '/', createDirPVC: 'true' } };
      const dir = 'books-uidboo';
      let r = reconcile(dataset(spec), nothing, DEFAULT_CONFIG);
      expect(r.needs).to.deep.equal([{ kind: 'dirJob', name: 'books-mkdir' }]);
      r = reconcile(dataset(spec), { ...nothing, dirJob: null }, DEFAULT_CONFIG);
      const job = writes(r, 'create').Job;
      expect(job.metadata).to.deep.include({ name: 'books-mkdir', namespace: 'ml', ownerReferences: owner });
      const pod = (job.spec as { template: { spec: { containers: { command: string[] }[]; volumes: object[] } } }).template.spec;
      expect(pod.containers[0].command).to.deep.equal(['mkdir', '-p', `/share/${dir}`]);
      expect(pod.volumes).to.deep.equal([{ name: 'share', nfs: { server: '10.109.11.40', path: '/' } }]);
      expect(writes(r, 'create').PersistentVolume).to.equal(undefined);
      expect(cond(r, 'DirectoryCreated')).to.include({ status: 'False', reason: 'Creating' });
      const succeeded = stored(job, { status: { succeeded: 1 } });
      r = reconcile(dataset(spec), { ...nothing, dirJob: succeeded }, DEFAULT_CONFIG);
      const pv = writes(r, 'create').PersistentVolume;
      expect((pv.spec as { csi: { volumeAttributes: object } }).csi.volumeAttributes).to.deep.equal({ server: '10.109.11.40', share: `/${dir}` });
      expect(cond(r, 'DirectoryCreated')).to.include({ status: 'True', message: `directory /${dir} on 10.109.11.40 is the Dataset's volume` });
      const failed = stored(job, {
        status: {
          failed: 4,
          conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }],
        },
      });
      r = reconcile(dataset(spec), { ...nothing, dirJob: failed }, DEFAULT_CONFIG);
      expect(cond(r, 'Ready')).to.include({ status: 'False', reason: 'MkdirFailed' });
      expect(r.status?.phase).to.equal('Failed');
    });
  });

  describe('catalog entries (spec.remote)', () => {
    const remote = {
      remote: { type: 'CatalogEntry', table: 'default/books', catalogURI: 'thrift://hive:9083', endpoint: 'http://minio:9000', 'secret-name': 's3-creds' },
    };

    it('uses the looked-up bucket and prefix', () => {
      const r = reconcile(
        dataset(remote),
        { ...nothing, userSecret, remote: { ok: true, location: 's3a://lake/books', bucket: 'lake', prefix: 'books/' } },
        DEFAULT_CONFIG,
      );
      expect(writes(r, 'create').ConfigMap.data).to.include({ bucket: 'lake', prefix: 'books/' });
      expect(cond(r, 'CatalogResolved')).to.include({ status: 'True', message: 'table default/books is at s3://lake/books/' });
      expect(r.status?.resolved).to.include({ bucket: 'lake', prefix: 'books/' });
    });

    it('reports a failed lookup and makes no volume', () => {
      const r = reconcile(dataset(remote), { ...nothing, userSecret, remote: { ok: false, message: 'table default.books not found' } }, DEFAULT_CONFIG);
      expect(cond(r, 'CatalogResolved')).to.include({ status: 'False', reason: 'LookupFailed', message: 'table default.books not found' });
      expect(writes(r, 'create').PersistentVolumeClaim).to.equal(undefined);
      expect(r.requeue).to.equal('backoff');
    });

    it('needs the object store endpoint', () => {
      const { endpoint: _e, ...noEndpoint } = remote.remote;
      const r = reconcile(dataset({ remote: noEndpoint }), { ...nothing, userSecret }, DEFAULT_CONFIG);
      expect(cond(r, 'Ready')?.message).to.match(/spec\.remote\.endpoint is not set/);
      expect(r.status?.phase).to.equal('Failed');
    });
  });

  describe('what it needs looked up (the controller fetches exactly that)', () => {
    const unread: Observed = { now: T0, ownedSecret: null, configMap: null, pvc: null, pv: null, pods: [], namespaceLabels: {} };
    const listing = { ok: true as const, summary: { objectCount: 1, totalBytes: 1, blockSize: 16 << 20, blockCount: 1, version: 'v' } };
    const keys = { accessKeyID: 'AK', secretAccessKey: 'SK' };

    it('an S3 Dataset: its Secret, then (keys in hand) the listing, then nothing', () => {
      expect(reconcile(dataset(s3Spec), unread, DEFAULT_CONFIG).needs).to.deep.equal([{ kind: 'userSecret', name: 's3-creds' }]);
      expect(reconcile(dataset(s3Spec), { ...unread, userSecret }, DEFAULT_CONFIG).needs).to.deep.equal([
        {
          kind: 'listing',
          location: { endpoint: 'http://minio:9000', region: 'eu', bucket: 'books', prefix: 'train/' },
          keys,
          blockSize: 16 << 20,
        },
      ]);
      expect(reconcile(dataset(s3Spec), { ...unread, userSecret, listing }, DEFAULT_CONFIG).needs).to.deep.equal([]);
    });

    it('a catalog entry: the entry and the Secret, then the listing of where the entry points', () => {
      const remote = {
        remote: { type: 'CatalogEntry', table: 'default/books', catalogURI: 'thrift://hive:9083', endpoint: 'http://minio:9000', 'secret-name': 's3-creds' },
      };
      expect(reconcile(dataset(remote), unread, DEFAULT_CONFIG).needs).to.deep.equal([
        { kind: 'remote', uri: 'thrift://hive:9083', table: 'default/books' },
        { kind: 'userSecret', name: 's3-creds' },
      ]);
      const located = { ...unread, userSecret, remote: { ok: true as const, location: 's3a://lake/books', bucket: 'lake', prefix: 'books/' } };
      expect(reconcile(dataset(remote), located, DEFAULT_CONFIG).needs).to.deep.equal([
        {
          kind: 'listing',
          location: { endpoint: 'http://minio:9000', region: '', bucket: 'lake', prefix: 'books/' },
          keys,
          blockSize: 16 << 20,
        },
      ]);
    });

    it('no catalog lookups while the catalog is fresh, and no Secret from another namespace', () => {
      const fresh = dataset(s3Spec, {
        status: {
          observedGeneration: 1,
          resolved: { bucket: 'books', prefix: 'train/', endpoint: 'http://minio:9000' },
          catalog: { ...listing.summary, refreshedAt: T0 },
          conditions: [{ type: 'CatalogListed', status: 'True', reason: 'Listed', message: 'x', lastTransitionTime: T0 }],
        },
      });
      expect(reconcile(fresh, { ...unread, userSecret }, DEFAULT_CONFIG).needs).to.deep.equal([]);
      const elsewhere = dataset({ local: { ...s3Spec.local, 'secret-namespace': 'other' } });
      expect(reconcile(elsewhere, unread, DEFAULT_CONFIG).needs).to.deep.equal([]);
    });

    it('the events of a Pending PVC, none for a bound one or a Dataset without object store', () => {
      const pvc = stored(writes(reconcile(dataset(s3Spec), { ...nothing, userSecret }, DEFAULT_CONFIG), 'create').PersistentVolumeClaim);
      const pending = { ...unread, userSecret, listing, pvc: { ...pvc, status: { phase: 'Pending' } } };
      expect(reconcile(dataset(s3Spec), pending, DEFAULT_CONFIG).needs).to.deep.equal([{ kind: 'pvcEvents', pvcUid: 'uid-PersistentVolumeClaim' }]);
      expect(reconcile(dataset(s3Spec), { ...pending, pvcEvents: [] }, DEFAULT_CONFIG).needs).to.deep.equal([]);
      expect(reconcile(dataset(s3Spec), { ...pending, pvc: { ...pvc, status: { phase: 'Bound' } } }, DEFAULT_CONFIG).needs).to.deep.equal([]);
      const nfs = { local: { type: 'NFS', server: 'nfs', share: '/exports/x', 'secret-name': 'unused' } };
      expect(reconcile(dataset(nfs), unread, DEFAULT_CONFIG).needs).to.deep.equal([]);
    });
  });

  describe('deletion', () => {
    it('deletes what it owns (PV included), leaves the rest, then drops its finalizer', () => {
      const ownedCm: KubeObject = { kind: 'ConfigMap', metadata: { name: 'books', namespace: 'ml', uid: 'c1', ownerReferences: owner } };
      const foreignSecret: KubeObject = { kind: 'Secret', metadata: { name: 'books-credentials', namespace: 'ml', uid: 's1' } };
      const pv: KubeObject = { kind: 'PersistentVolume', metadata: { name: 'locus.ml.books', uid: 'p1', labels: { [OWNER_UID_LABEL]: UID } } };
      const terminatingPvc: KubeObject = {
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'books', namespace: 'ml', uid: 'v1', ownerReferences: owner, deletionTimestamp: T0 },
      };
      const r = reconcile(
        dataset(s3Spec, { deleting: true }),
        { ...nothing, configMap: ownedCm, ownedSecret: foreignSecret, pv, pvc: terminatingPvc },
        DEFAULT_CONFIG,
      );
      expect(r.actions).to.deep.equal([
        { kind: 'delete', target: { kind: 'ConfigMap', namespace: 'ml', name: 'books', uid: 'c1' } },
        { kind: 'delete', target: { kind: 'PersistentVolume', namespace: undefined, name: 'locus.ml.books', uid: 'p1' } },
        { kind: 'removeFinalizer' },
      ]);
      expect(r.status).to.equal(undefined);
    });

    it('does nothing for a deleted Dataset without its finalizer', () => {
      expect(reconcile(dataset(s3Spec, { deleting: true, finalizers: ['other'] }), nothing, DEFAULT_CONFIG)).to.deep.equal({ needs: [], actions: [] });
    });
  });

  it('reports an invalid spec field by field', () => {
    const r = reconcile(dataset({ local: { type: 'S3', bucket: 'UPPER', endpoint: 'minio:9000' } }), nothing, DEFAULT_CONFIG);
    expect(r.status?.phase).to.equal('Failed');
    expect(cond(r, 'Ready')?.reason).to.equal('InvalidSpec');
    expect(cond(r, 'Ready')?.message).to.match(/spec\.local\.endpoint: must be a URL.*spec\.local\.bucket: must be an S3 bucket name/);
  });

  it('keeps at most podNameLimit names but counts every pod', () => {
    const pods = Array.from({ length: 30 }, (_, i) => `p-${String(i).padStart(2, '0')}`);
    const r = reconcile(dataset(s3Spec), { ...nothing, userSecret, pods }, DEFAULT_CONFIG);
    expect(r.status?.usage?.pods).to.equal(30);
    expect(r.status?.usage?.podNames).to.deep.equal(pods.slice(0, 20));
  });

  it('decides when the catalog is due', () => {
    const interval = 60_000;
    const listed = (at: string, generation = 1, conditionStatus: 'True' | 'False' = 'True'): KubeObject =>
      dataset(s3Spec, {
        status: {
          observedGeneration: generation,
          catalog: { objectCount: 0, totalBytes: 0, blockSize: 1 << 24, blockCount: 0, version: 'v', refreshedAt: at },
          conditions: [{ type: 'CatalogListed', status: conditionStatus, reason: 'x', message: 'x', lastTransitionTime: at }],
        },
      });
    const due = (o: KubeObject, now: string) => catalogDue(o as never, Date.parse(now), interval);
    expect(due(dataset(s3Spec), T0)).to.equal(true);
    expect(due(listed(T0), '2026-01-01T00:00:30Z')).to.equal(false);
    expect(due(listed(T0), '2026-01-01T00:01:00Z')).to.equal(true);
    expect(due(listed(T0, 0), '2026-01-01T00:00:30Z')).to.equal(true);
    expect(due(listed(T0, 1, 'False'), '2026-01-01T00:00:30Z')).to.equal(true);
  });

  it("strips keys from the spec and from kubectl's last-applied annotation", () => {
    const ds = dataset({ local: { type: 'S3', accessKeyID: 'AK', secretAccessKey: 'SK' } });
    ds.metadata.annotations = {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec: { local: { type: 'S3', accessKeyID: 'AK', secretAccessKey: 'SK' } } }),
    };
    const patch = stripKeysPatch(ds, 'local') as { metadata: { resourceVersion: string; annotations: Record<string, string> }; spec: object };
    expect(patch.spec).to.deep.equal({ local: { accessKeyID: null, secretAccessKey: null } });
    expect(patch.metadata.resourceVersion).to.equal('10');
    expect(JSON.parse(patch.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).to.deep.equal({ spec: { local: { type: 'S3' } } });
  });
});
