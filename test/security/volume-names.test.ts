// Probe 8 (issue 14): PV names collided across namespaces (`tenant-a/b-c` and `tenant/a-b-c` both
// became `locus-tenant-a-b-c`, and the second Dataset was told the PV "exists in namespace tenant"),
// and a pod mounting a read-only Dataset's PVC itself kept a read-write mount.
import { expect } from 'chai';
import fc from 'fast-check';
import { FINALIZER, OWNER_UID_LABEL, DATASET_ANNOTATION, pvName } from '../../src/api/names.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DEFAULT_CONFIG } from '../../src/operator/config.js';
import { parsePolicy } from '../../src/operator/policy.js';
import { reconcile, type Observed } from '../../src/operator/reconcile.js';
import { mutatePod } from '../../src/webhook/mutate.js';
import { applied, dataset as found, found as foundMap, pod } from '../webhook/pods.js';

const config = {
  ...DEFAULT_CONFIG,
  policy: parsePolicy('namespaces: { "*": { types: [NFS, HOST], hostPaths: [/data], nfs: [{ server: nfs.example, exports: [/exports] }] } }', 'test'),
};
const nothing: Observed = { now: '2026-01-01T00:00:00Z', userSecret: null, ownedSecret: null, configMap: null, pvc: null, pv: null, pods: [] };
const ds = (namespace: string, name: string, local: object): KubeObject => ({
  apiVersion: 'locus.dev/v1alpha1',
  kind: 'Dataset',
  metadata: { name, namespace, uid: `uid-${namespace}-${name}`, generation: 1, finalizers: [FINALIZER] },
  spec: { local },
});
const createdPv = (o: KubeObject, observed = nothing) =>
  reconcile(o, observed, config).actions.flatMap((a) => (a.kind === 'create' && a.object.kind === 'PersistentVolume' ? [a.object] : []))[0];

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/);
const subdomain = fc.array(label, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));

describe('security probe 8: PV names cannot collide; read-only Datasets stay read-only', () => {
  it('gives tenant-a/b-c and tenant/a-b-c different PVs', () => {
    const a = createdPv(ds('tenant-a', 'b-c', { type: 'NFS', server: 'nfs.example', share: '/exports/a' }));
    const b = createdPv(ds('tenant', 'a-b-c', { type: 'NFS', server: 'nfs.example', share: '/exports/b' }));
    expect(a.metadata.name).to.equal('locus.tenant-a.b-c');
    expect(b.metadata.name).to.equal('locus.tenant.a-b-c');
  });

  it('names no two namespace/name pairs alike (property)', () => {
    fc.assert(
      fc.property(label, subdomain, label, subdomain, (ns1, n1, ns2, n2) => {
        fc.pre(ns1 !== ns2 || n1 !== n2);
        expect(pvName(ns1, n1, 'u1')).to.not.equal(pvName(ns2, n2, 'u2'));
      }),
      { numRuns: 2_000 },
    );
    // Past 253 characters: the uid form has no second ".", so it cannot meet a namespace/name form.
    expect(pvName('n', 'x'.repeat(250), 'c0ffee-1')).to.equal('locus.c0ffee-1');
  });

  it('tells a Dataset whose PV name is held by another Dataset that the PV is cluster-scoped, and whose it is', () => {
    const mine = ds('tenant', 'a-b-c', { type: 'HOST', path: '/data/x' });
    const other: KubeObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName('tenant', 'a-b-c', ''),
        uid: 'pv1',
        labels: { [OWNER_UID_LABEL]: 'someone-else' },
        annotations: { [DATASET_ANNOTATION]: 'other/thing' },
      },
    };
    const r = reconcile(mine, { ...nothing, pv: other }, config);
    const ready = r.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).to.include({ status: 'False', reason: 'NameTaken' });
    expect(ready?.message).to.equal(
      'PersistentVolume locus.tenant.a-b-c (cluster-scoped) exists and is not owned by Dataset tenant/a-b-c but by other/thing: the cluster administrator must delete it so the operator can create its own',
    );
    expect(ready?.message).to.not.match(/in namespace/);
  });

  it("makes a read-only NFS Dataset's PV read-only and its PVC ReadOnlyMany", () => {
    const r = reconcile(ds('ml', 'ro', { type: 'NFS', server: 'nfs.example', share: '/exports/ro', readonly: 'true' }), nothing, config);
    const pv = createdPv(ds('ml', 'ro', { type: 'NFS', server: 'nfs.example', share: '/exports/ro', readonly: 'true' }));
    expect((pv.spec as { csi: { readOnly: boolean } }).csi.readOnly).to.equal(true);
    const pvc = r.actions.flatMap((a) => (a.kind === 'create' && a.object.kind === 'PersistentVolumeClaim' ? [a.object] : []))[0];
    expect((pvc.spec as { accessModes: string[] }).accessModes).to.deep.equal(['ReadOnlyMany']);
  });

  it("makes a pod's own volume of a read-only Dataset's PVC read-only, whatever the pod says", () => {
    const p = pod({}, { volumes: [{ name: 'mine', persistentVolumeClaim: { claimName: 'ro', readOnly: false } }] });
    const m = mutatePod(p, 'ml', foundMap(found('ro', { readOnly: true })), { allowMissing: false });
    const out = applied(p, m.patch);
    expect(out.spec?.volumes?.find((v) => v.name === 'mine')?.persistentVolumeClaim).to.deep.equal({ claimName: 'ro', readOnly: true });
  });
});
