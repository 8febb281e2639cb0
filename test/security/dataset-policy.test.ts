// Probe 1 and 6 (issue 14): a tenant who may create Datasets asks for a hostPath, another tenant's NFS
// export, or an endpoint on the node's metadata service. The operator refuses before it creates a PV
// or connects anywhere, with a Ready condition naming the policy rule.
import { expect } from 'chai';
import { FINALIZER } from '../../src/api/names.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DEFAULT_CONFIG, type OperatorConfig } from '../../src/operator/config.js';
import { hostDenial, parsePolicy, PolicyError } from '../../src/operator/policy.js';
import { reconcile, type Observed, type ReconcileResult } from '../../src/operator/reconcile.js';

const nothing: Observed = { now: '2026-01-01T00:00:00Z', userSecret: null, ownedSecret: null, configMap: null, pvc: null, pv: null, pods: [] };

function dataset(namespace: string, spec: object): KubeObject {
  return {
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'probe', namespace, uid: `uid-${namespace}`, generation: 1, finalizers: [FINALIZER] },
    spec,
  };
}

const created = (r: ReconcileResult): KubeObject[] => r.actions.flatMap((a) => (a.kind === 'create' ? [a.object] : []));
const ready = (r: ReconcileResult) => r.status?.conditions?.find((c) => c.type === 'Ready');
const refusal = (r: ReconcileResult) => {
  expect(created(r), 'nothing created').to.deep.equal([]);
  expect(r.needs, 'nothing looked up or fetched').to.deep.equal([]);
  expect(r.status?.phase).to.equal('Failed');
  expect(ready(r)).to.include({ status: 'False', reason: 'PolicyDenied' });
  return ready(r)!.message;
};

const policy = parsePolicy(
  `
namespaces:
  ml:
    types: [S3, COS, HOST, NFS]
    hostPaths: [/data/ml]
    nfs: [{ server: nfs.storage.svc, exports: [/exports/ml] }]
endpoints:
  deny: [10.96.0.0/12, .internal.example]
`,
  'test',
);
const withPolicy: OperatorConfig = { ...DEFAULT_CONFIG, policy };

describe("security probe 1: what a Dataset may reach is the administrator's policy", () => {
  for (const path of ['/', '/var/lib/kubelet/pods', '/data/../etc']) {
    it(`refuses HOST path ${path} with the default policy: no PV`, () => {
      const message = refusal(reconcile(dataset('tenant-a', { local: { type: 'HOST', path } }), nothing, DEFAULT_CONFIG));
      expect(message).to.match(/^policy rule namespaces\.\*\.types: type HOST is not allowed in namespace tenant-a/);
    });
  }

  it("refuses NFS by default, and another tenant's export where NFS is allowed", () => {
    const spec = { local: { type: 'NFS', server: 'nfs.storage.svc', share: '/exports/tenant-b' } };
    expect(refusal(reconcile(dataset('tenant-a', spec), nothing, DEFAULT_CONFIG))).to.match(/namespaces\.\*\.types: type NFS/);
    expect(refusal(reconcile(dataset('ml', spec), nothing, withPolicy))).to.match(
      /^policy rule namespaces\.ml\.nfs: NFS export nfs\.storage\.svc:\/exports\/tenant-b is not allowed/,
    );
    const otherServer = { local: { type: 'NFS', server: 'evil.example', share: '/exports/ml' } };
    expect(refusal(reconcile(dataset('ml', otherServer), nothing, withPolicy))).to.match(/namespaces\.ml\.nfs/);
    const dotted = { local: { type: 'NFS', server: 'nfs.storage.svc', share: '/exports/ml/../tenant-b' } };
    expect(refusal(reconcile(dataset('ml', dotted), nothing, withPolicy))).to.match(/not a normalised absolute path/);
  });

  it('allowed namespaces get HOST paths only under their prefixes, normalised, on a segment boundary', () => {
    for (const path of ['/data/../etc', '/data/ml/../../etc', '/data/ml2', '/data', '/data/ml/./x', '//data/ml']) {
      expect(refusal(reconcile(dataset('ml', { local: { type: 'HOST', path } }), nothing, withPolicy)), path).to.match(
        /^policy rule namespaces\.ml\.hostPaths: /,
      );
    }
    const ok = reconcile(dataset('ml', { local: { type: 'HOST', path: '/data/ml/books' } }), nothing, withPolicy);
    const pv = created(ok).find((o) => o.kind === 'PersistentVolume');
    expect(pv?.spec).to.deep.include({ hostPath: { path: '/data/ml/books' } });
    const nfs = reconcile(dataset('ml', { local: { type: 'NFS', server: 'nfs.storage.svc', share: '/exports/ml/books' } }), nothing, withPolicy);
    expect(created(nfs).map((o) => o.kind)).to.include('PersistentVolume');
  });

  const metadata = [
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/',
    'http://0xa9.0xfe.0xa9.0xfe/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://metadata.google.internal/',
    'http://169.254.170.2/',
    'http://[fe80::1]:9000/',
  ];
  for (const endpoint of metadata) {
    it(`never lets the operator reach ${endpoint}, whatever the policy`, () => {
      const spec = { local: { type: 'S3', endpoint, bucket: 'books', accessKeyID: 'a', secretAccessKey: 'b' } };
      const open: OperatorConfig = {
        ...DEFAULT_CONFIG,
        policy: parsePolicy('endpoints: { allow: [169.254.0.0/16, "::/0", metadata.google.internal] }', 'open'),
      };
      expect(refusal(reconcile(dataset('tenant-a', spec), nothing, open))).to.match(/^policy rule endpoints\.metadata: spec\.local\.endpoint /);
    });
  }

  it('applies the deny and allow lists to object stores, catalogs and archive URLs', () => {
    const s3 = (endpoint: string) => ({ local: { type: 'S3', endpoint, bucket: 'books', accessKeyID: 'a', secretAccessKey: 'b' } });
    expect(refusal(reconcile(dataset('ml', s3('http://10.96.0.10:9000')), nothing, withPolicy))).to.match(/^policy rule endpoints\.deny: /);
    expect(refusal(reconcile(dataset('ml', s3('https://s3.internal.example')), nothing, withPolicy))).to.match(/endpoints\.deny/);
    const hive = { remote: { type: 'CatalogEntry', table: 'default/books', catalogURI: 'thrift://169.254.169.254:9083', endpoint: 'http://minio:9000' } };
    expect(refusal(reconcile(dataset('ml', hive), nothing, DEFAULT_CONFIG))).to.match(/endpoints\.metadata: spec\.remote\.catalogURI/);
    const allowOnly: OperatorConfig = { ...DEFAULT_CONFIG, policy: parsePolicy('endpoints: { allow: [.storage.svc] }', 'allow') };
    expect(refusal(reconcile(dataset('ml', s3('http://minio.elsewhere:9000')), nothing, allowOnly))).to.match(/^policy rule endpoints\.allow: /);
    expect(created(reconcile(dataset('ml', s3('http://minio.storage.svc:9000')), nothing, allowOnly)).length).to.be.greaterThan(0);
  });

  it('checks resolved addresses too, and refuses policies that are not normalised', () => {
    expect(hostDenial('169.254.169.254', policy)?.rule).to.equal('endpoints.metadata');
    expect(hostDenial('10.100.0.1', policy)?.rule).to.equal('endpoints.deny');
    expect(hostDenial('minio.storage.svc', policy)).to.equal(undefined);
    expect(() => parsePolicy('namespaces: { a: { hostPaths: [/data/../etc] } }', 'p')).to.throw(PolicyError, /not normalised/);
    expect(() => parsePolicy('namespaces: { a: { types: [HOSTPATH] } }', 'p')).to.throw(PolicyError, /namespaces\.a\.types\.0/);
  });
});

describe('the policy deploy/ installs', () => {
  it('parses, and is the default: object stores and catalog entries, no HOST or NFS', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const configMap = parse(readFileSync('deploy/operator/policy.yaml', 'utf8')) as { data: { 'policy.yaml': string } };
    const installed = parsePolicy(configMap.data['policy.yaml'], 'deploy/operator/policy.yaml');
    expect(installed.namespaces['*'].types).to.deep.equal(['COS', 'S3', 'ARCHIVE', 'CatalogEntry']);
    const host = reconcile(dataset('tenant-a', { local: { type: 'HOST', path: '/' } }), nothing, { ...DEFAULT_CONFIG, policy: installed });
    expect(ready(host)).to.include({ reason: 'PolicyDenied' });
  });
});
