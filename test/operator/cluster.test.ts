// The operator against a real API server: runs when LOCUS_REAL_KUBECONFIG names a disposable cluster
// (npm run test:e2e runs it against its control plane) and says why it skips otherwise. It checks what
// the in-memory fake cannot: the API server's own validation and defaulting of the PVs, PVCs and status
// the operator writes, merge patches with null, and the finalizer path next to the PVC/PV protection
// finalizers.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { Condition, DatasetStatus } from '../../src/api/dataset.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { CONFIG_MAPS, DATASETS, NAMESPACES, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, SECRETS, type ResourceType } from '../../src/kube/resources.js';
import { DEFAULT_CONFIG } from '../../src/operator/config.js';
import { parsePolicy } from '../../src/operator/policy.js';

// NFS and HOST allowed where these tests put them (the policy itself: test/security/dataset-policy.test.ts).
const OPEN_POLICY = parsePolicy(
  'namespaces: { "*": { types: [S3, COS, NFS, HOST], hostPaths: [/var/lib/locus-test], nfs: [{ server: nfs.example, exports: [/exports] }] } }',
  'test',
);
import { createOperator, type Operator } from '../../src/operator/server.js';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';
import { installCrds, realCluster } from '../support/real-cluster.js';

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('operator on a real cluster (LOCUS_REAL_KUBECONFIG)', function () {
  this.timeout(120_000);
  const ns = `locus-op-${randomBytes(3).toString('hex')}`;
  let client: KubeClient;
  let op: Operator;
  let s3: TestS3;

  const dataset = (name: string, spec: object): KubeObject => ({ apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', metadata: { name, namespace: ns }, spec });
  const get = (res: ResourceType, name: string) => client.get<KubeObject>(res, { namespace: ns, name });
  const status = async (name: string) => (await get(DATASETS, name))?.status as DatasetStatus | undefined;
  const condition = async (name: string, type: string): Promise<Condition | undefined> => (await status(name))?.conditions?.find((c) => c.type === type);

  before(async function () {
    const kc = realCluster(this);
    client = createKubeClient(kc);
    await installCrds(client);
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    s3 = await startS3(['books']);
    await s3.put('books', 'train/a', 'a'.repeat(100));
    await s3.put('books', 'train/b', 'b'.repeat(200));
    op = createOperator({
      kc,
      client,
      config: { ...DEFAULT_CONFIG, catalogIntervalMs: 60_000, policy: OPEN_POLICY },
      namespace: ns,
      backoff: { initialMs: 100, maxMs: 2000 },
      logger: pino({ level: 'silent' }),
    });
    await op.start();
  });

  after(async () => {
    await op?.close();
    await s3?.close();
    await client?.delete(NAMESPACES, { name: ns });
  });

  it("makes an NFS Dataset's PV and PVC, accepted and left alone by the API server's defaulting", async () => {
    await client.create(DATASETS, dataset('share', { local: { type: 'NFS', server: 'nfs.example', share: '/exports/share', readonly: 'true' } }));
    const pv = await until('the PV', () => client.get<KubeObject>(PERSISTENT_VOLUMES, { name: `locus.${ns}.share` }));
    expect(pv.spec).to.deep.include({ storageClassName: 'nfs', accessModes: ['ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain' });
    const pvc = await until('the PVC', () => get(PERSISTENT_VOLUME_CLAIMS, 'share'));
    expect(pvc.spec).to.deep.include({ volumeName: `locus.${ns}.share`, storageClassName: 'nfs' });
    await until('VolumeBound', async () => (await condition('share', 'VolumeBound'))?.reason);
    // A few more rounds must not replace the volume it made: the stored objects match what it wants.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await client.get<KubeObject>(PERSISTENT_VOLUMES, { name: `locus.${ns}.share` }))?.metadata.deletionTimestamp).to.equal(undefined);
    expect((await get(PERSISTENT_VOLUME_CLAIMS, 'share'))?.metadata.uid).to.equal(pvc.metadata.uid);
  });

  it("makes a HOST Dataset's hostPath PV (CreateNew read as DirectoryOrCreate)", async () => {
    await client.create(DATASETS, dataset('local', { local: { type: 'HOST', path: '/var/lib/locus-test', hostPathType: 'CreateNew' } }));
    const pv = await until('the PV', () => client.get<KubeObject>(PERSISTENT_VOLUMES, { name: `locus.${ns}.local` }));
    expect(pv.spec).to.deep.include({ hostPath: { path: '/var/lib/locus-test', type: 'DirectoryOrCreate' } });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await client.get<KubeObject>(PERSISTENT_VOLUMES, { name: `locus.${ns}.local` }))?.metadata.uid).to.equal(pv.metadata.uid);
  });

  it('lists an S3 Dataset and moves its raw keys out of the spec with a merge patch', async () => {
    await client.create(
      DATASETS,
      dataset('books', { local: { type: 'S3', endpoint: s3.endpoint, bucket: 'books', prefix: 'train/', region: '', ...S3RVER_KEYS } }),
    );
    const catalog = await until('the catalog', async () => (await status('books'))?.catalog);
    expect(catalog).to.include({ objectCount: 2, totalBytes: 300 });
    await until('the keys to leave the spec', async () => {
      const local = ((await get(DATASETS, 'books'))?.spec as { local: Record<string, unknown> }).local;
      return local.accessKeyID === undefined && local.secretAccessKey === undefined;
    });
    const secret = await get(SECRETS, 'books-credentials');
    expect(Object.keys(secret?.data as object).sort()).to.deep.equal(['accessKeyID', 'secretAccessKey']);
    expect((await get(CONFIG_MAPS, 'books'))?.data).to.deep.equal({ endpoint: s3.endpoint, bucket: 'books', region: '', prefix: 'train/' });
    expect(await condition('books', 'RawKeysInSpec')).to.include({ status: 'True' });
  });

  it('names the missing Secret and its namespace', async () => {
    await client.create(DATASETS, dataset('nokeys', { local: { type: 'S3', endpoint: s3.endpoint, bucket: 'books', 'secret-name': 's3-creds' } }));
    const c = await until('CredentialsResolved', () => condition('nokeys', 'CredentialsResolved'));
    expect(c.message).to.match(new RegExp(`^Secret s3-creds not found in namespace ${ns}`));
  });

  it('deletes what it made, then lets the Dataset go', async () => {
    await client.delete(DATASETS, { namespace: ns, name: 'share' });
    await until('the Dataset to go', async () => (await get(DATASETS, 'share')) === undefined);
    // Without a controller-manager the protection finalizers keep them, marked for deletion.
    const pv = await client.get<KubeObject>(PERSISTENT_VOLUMES, { name: `locus.${ns}.share` });
    expect(pv === undefined || pv.metadata.deletionTimestamp !== undefined).to.equal(true);
    expect(await get(CONFIG_MAPS, 'share')).to.equal(undefined);
  });
});
