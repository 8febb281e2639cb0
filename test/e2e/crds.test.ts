// Scenario 3: the CRDs as a user applies them, on a real apiserver: accepted, established, usable with
// Datashim manifests after changing only apiVersion, and refusing bad specs with the field named.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ApiError, create, ensureNamespace, get, type Obj } from './support/api.js';
import { CRD_NAMES, established, installCrds } from './support/crds.js';
import { cluster } from './support/env.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const ns = 'e2e-crds';
const EXAMPLES = 'examples/datashim';
const DATASHIM_API_VERSIONS = ['com.ie.ibm.hpsys/v1alpha1', 'datashim.io/v1alpha1'];

/** The Dataset manifests a Datashim user is shown: examples/datashim/ and the README's yaml blocks, apiVersion made locus.dev's. */
function datashimExamples(): { source: string; text: string }[] {
  const files = readdirSync(join(cluster.root, EXAMPLES))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => ({ source: `${EXAMPLES}/${f}`, text: readFileSync(join(cluster.root, EXAMPLES, f), 'utf8') }));
  const readme = [...readFileSync(join(cluster.root, 'README.md'), 'utf8').matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m, i) => ({
    source: `README.md yaml block ${i + 1}`,
    text: m[1],
  }));
  const datasets = (text: string) => parseAllDocuments(text).some((d) => (d.toJS() as Obj | null)?.kind === 'Dataset');
  return [...files, ...readme]
    .filter((e) => datasets(e.text))
    .map((e) => ({
      source: e.source,
      text: DATASHIM_API_VERSIONS.reduce((t, v) => t.replaceAll(`apiVersion: ${v}`, 'apiVersion: locus.dev/v1alpha1'), e.text),
    }));
}

async function applyRejected(manifest: object): Promise<string> {
  const r = await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(manifest));
  expect(r.code, `kubectl apply should have failed: ${r.stdout}`).to.not.equal(0);
  return r.stderr;
}

const dataset = (name: string, local: Record<string, unknown>) => ({
  apiVersion: 'locus.dev/v1alpha1',
  kind: 'Dataset',
  metadata: { name, namespace: ns },
  spec: { local },
});

describe('scenario 3: CRDs on the real apiserver', () => {
  before(async () => {
    await ensureNamespace(ns);
    // the other cases need the CRDs whatever the first one finds
    await installCrds();
  });

  after(async () => {
    await kubectl(['delete', 'datasets', '--all', '--all-namespaces', '--wait=false']);
    await kubectl(['delete', 'pods', '--all', '-n', 'ml', '--grace-period=0', '--force']);
  });

  it('kubectl apply -f crds/ succeeds, and both CRDs are Established and served', async () => {
    const out = await kubectlOk(['apply', '-f', 'crds/']);
    expect(out).to.match(/datasets\.locus\.dev (created|configured|unchanged)/);
    expect(out).to.match(/nodecaches\.locus\.dev (created|configured|unchanged)/);
    for (const crd of CRD_NAMES) await established(crd);
    const names = (await kubectlOk(['api-resources', '--api-group=locus.dev', '-o', 'name'])).split('\n').filter(Boolean).sort();
    expect(names).to.deep.equal(CRD_NAMES);
  });

  it('applies the Datashim examples (examples/datashim/, README) with only apiVersion changed, keeping every field', async () => {
    const examples = datashimExamples();
    expect(
      examples.map((e) => e.source),
      'Dataset examples',
    ).to.include(`${EXAMPLES}/s3-with-secret.yaml`);
    for (const { source, text } of examples) {
      const r = await kubectl(['apply', '-f', '-'], text);
      expect(r.code, `kubectl apply of ${source}: ${r.stderr}`).to.equal(0);
      for (const doc of parseAllDocuments(text)
        .map((d) => d.toJS() as Obj)
        .filter((o) => o?.kind === 'Dataset')) {
        const stored = await get(`/apis/locus.dev/v1alpha1/namespaces/${doc.metadata.namespace ?? 'default'}/datasets/${doc.metadata.name}`);
        expect(stored.spec, `${source}: spec of ${doc.metadata.name} as stored (no field pruned)`).to.deep.equal(doc.spec);
      }
    }
  });

  it('rejects a Dataset with an unknown type, naming spec.local.type', async () => {
    const err = await applyRejected(dataset('bad-type', { type: 'FTP', endpoint: 'http://s3.local:9000', bucket: 'data' }));
    expect(err).to.include('spec.local.type').and.include('FTP');
  });

  it('rejects an S3 Dataset without a bucket, naming spec.local.bucket', async () => {
    const err = await applyRejected(dataset('no-bucket', { type: 'S3', endpoint: 'http://s3.local:9000' }));
    expect(err).to.include('spec.local.bucket');
  });

  it('rejects a malformed endpoint, naming spec.local.endpoint', async () => {
    const err = await applyRejected(dataset('bad-endpoint', { type: 'S3', endpoint: 's3.local:9000', bucket: 'data' }));
    expect(err).to.include('spec.local.endpoint');
  });

  it('rejects an NFS Dataset without its share, naming spec.local.share', async () => {
    const err = await applyRejected(dataset('no-share', { type: 'NFS', server: 'nfs.local' }));
    expect(err).to.include('spec.local.share');
  });

  it('rejects a NodeCache without spec.nodeName, naming it', async () => {
    const nodeCache = { apiVersion: 'locus.dev/v1alpha1', kind: 'NodeCache', metadata: { name: 'node-a' }, spec: {} };
    // kubectl validates against the CRD's published schema before sending
    expect(await applyRejected(nodeCache)).to.match(/missing required field "nodeName" in \S*NodeCache\.spec/);
    // the apiserver itself, for clients that do not
    const err = await create('/apis/locus.dev/v1alpha1/nodecaches', nodeCache).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ApiError);
    expect((err as ApiError).message).to.include('spec.nodeName: Required value');
  });
});
