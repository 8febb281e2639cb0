// Scenario 5: `locus operator` against the real apiserver and a real S3 endpoint (s3rver on loopback):
// a Dataset becomes its Secret, ConfigMap and PVC, owned by it, with status conditions and a
// catalog; deleting the Dataset runs the operator's finalizer path.
//
// Which deletions are whose: this control plane has no kube-controller-manager, so no garbage
// collector and no PVC-protection controller. The operator itself deletes the Secret, ConfigMap and
// PVC it created before it releases its finalizer; on this cluster the Secret and ConfigMap are then
// gone, and the PVC is marked deleted (deletionTimestamp) but kept by its kubernetes.io/pvc-protection
// finalizer, which a real cluster's controller-manager removes once no pod uses the claim. On a real
// cluster the garbage collector would also collect the three through their ownerReferences if the
// operator were not running when the Dataset went.
import { expect } from 'chai';
import { ensureNamespace, find, get, remove, type Obj } from './support/api.js';
import { datasetPath } from './support/datasets.js';
import { installCrds } from './support/crds.js';
import { cluster } from './support/env.js';
import { kubectlOk } from './support/kubectl.js';
import { startLocus, type Tracked } from './support/process.js';
import { until } from './support/wait.js';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';

const ns = 'e2e-operator';
const bucket = 'training-data';
const objects: Record<string, string> = { 'train/a.parquet': 'a'.repeat(3000), 'train/b.parquet': 'b'.repeat(5000), 'train/c.parquet': 'c'.repeat(7000) };

const secretPath = (name: string) => `/api/v1/namespaces/${ns}/secrets/${name}`;
const configMapPath = (name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`;
const pvcPath = (name: string) => `/api/v1/namespaces/${ns}/persistentvolumeclaims/${name}`;

describe('scenario 5: the operator on the real apiserver', () => {
  let s3: TestS3;
  let operator: Tracked;
  let dataset: Obj;

  before(async () => {
    await installCrds();
    await ensureNamespace(ns);
    s3 = await startS3([bucket]);
    for (const [key, body] of Object.entries(objects)) await s3.put(bucket, key, body);
    operator = startLocus('operator', ['--kubeconfig', cluster.kubeconfig, '--listen', `127.0.0.1:${cluster.ports.metrics}`, '--namespace', ns]);
    await until(
      'the operator to be ready',
      async () => {
        if (!operator.running()) throw new Error(`locus operator exited: ${operator.log().slice(-2000)}`);
        return (await fetch(`http://127.0.0.1:${cluster.ports.metrics}/readyz`)).ok;
      },
      { timeoutMs: 60_000 },
    );
    await kubectlOk(
      ['apply', '-n', ns, '-f', '-'],
      JSON.stringify({
        apiVersion: 'locus.dev/v1alpha1',
        kind: 'Dataset',
        metadata: { name: 'train', namespace: ns },
        spec: { local: { type: 'S3', endpoint: s3.endpoint, bucket, region: 'us-east-1', prefix: 'train/', ...S3RVER_KEYS } },
      }),
    );
  });

  after(async () => {
    await operator?.stop();
    await s3?.close();
  });

  it('creates the Secret, ConfigMap and PVC, each owned by the Dataset', async () => {
    const [secret, configMap, pvc] = await until(
      'the operator to create Secret, ConfigMap and PVC',
      async () => {
        if (!operator.running()) throw new Error(`locus operator exited: ${operator.log().slice(-2000)}`);
        const found = await Promise.all([find(secretPath('train-credentials')), find(configMapPath('train')), find(pvcPath('train'))]);
        return found.every(Boolean) ? (found as Obj[]) : undefined;
      },
      { timeoutMs: 60_000 },
    );
    dataset = await get(datasetPath(ns, 'train'));
    for (const o of [secret, configMap, pvc]) {
      expect(o.metadata.ownerReferences, `${o.metadata.name} ownerReferences`).to.deep.include.members([
        { apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', name: 'train', uid: dataset.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    expect(Object.keys(secret.data).sort()).to.deep.equal(['accessKeyID', 'secretAccessKey']);
    expect(Buffer.from(secret.data.accessKeyID, 'base64').toString()).to.equal(S3RVER_KEYS.accessKeyID);
    expect(configMap.data).to.include({ endpoint: s3.endpoint, bucket, region: 'us-east-1', prefix: 'train/' });
    expect(Object.keys(configMap.data)).to.not.include.members(['accessKeyID', 'secretAccessKey']);
    expect(dataset.metadata.finalizers).to.include('locus.dev/cleanup');
  });

  it('writes status conditions and the catalog of the bucket', async () => {
    const ds = await until(
      'the catalog in the Dataset status',
      async () => {
        const d = await get(datasetPath(ns, 'train'));
        return d.status?.catalog ? d : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const conditions = ds.status.conditions as { type: string; status: string; reason: string; message: string }[];
    expect(conditions.map((c) => c.type)).to.include('Ready');
    for (const c of conditions) expect(c.reason, `condition ${c.type} reason`).to.be.a('string').and.not.equal('');
    expect(conditions.find((c) => c.type === 'CatalogListed')?.status).to.equal('True');
    const sizes = Object.values(objects).map((b) => b.length);
    expect(ds.status.catalog).to.include({ objectCount: sizes.length, totalBytes: sizes.reduce((a, b) => a + b, 0) });
  });

  it('removes what it created when the Dataset is deleted, then lets the Dataset go', async () => {
    await remove(datasetPath(ns, 'train'));
    await until('the Dataset to be gone (finalizer released)', async () => (await find(datasetPath(ns, 'train'))) === undefined, { timeoutMs: 60_000 });
    expect(await find(secretPath('train-credentials')), 'Secret deleted by the operator').to.equal(undefined);
    expect(await find(configMapPath('train')), 'ConfigMap deleted by the operator').to.equal(undefined);
    // deleted by the operator, kept only by the PVC-protection finalizer that kube-controller-manager
    // (absent here) releases once no pod uses the claim
    const pvc = await get(pvcPath('train'));
    expect(pvc.metadata.deletionTimestamp, 'PVC deleted by the operator').to.be.a('string');
    expect(pvc.metadata.finalizers).to.deep.equal(['kubernetes.io/pvc-protection']);
  });
});
