import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { parseDataset } from '../../src/api/dataset.js';
import { prune, violations, type Schema } from '../support/fake-apiserver/schema.js';

// What the generated Dataset CRD accepts and refuses, through the tests' one OpenAPI validator (the
// fake API server's, whose wording the fidelity test holds to a real API server's), side by side with zod.
const crd = parse(readFileSync('crds/dataset.yaml', 'utf8'));
const root: Schema = crd.spec.versions[0].schema.openAPIV3Schema;

const manifest = (spec: object) => ({ apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', metadata: { name: 'd', namespace: 'ml' }, spec });
const check = (spec: object) => violations(manifest(spec), root);

describe('Dataset CRD (crds/dataset.yaml)', () => {
  it('declares locus.dev/v1alpha1 datasets, namespaced, short name ds, with status subresource and printer columns', () => {
    const version = crd.spec.versions[0];
    expect(crd.apiVersion).to.equal('apiextensions.k8s.io/v1');
    expect(crd.metadata.name).to.equal('datasets.locus.dev');
    expect(crd.spec).to.deep.include({ group: 'locus.dev', scope: 'Namespaced' });
    expect(crd.spec.names).to.deep.include({ kind: 'Dataset', plural: 'datasets', shortNames: ['ds'] });
    expect(version).to.deep.include({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    const columns = version.additionalPrinterColumns.map((c: { name: string }) => c.name);
    expect(columns).to.include.members(['Type', 'Status', 'Age']);
  });

  for (const [what, spec, field] of [
    ['an unknown type', { local: { type: 'FTP', endpoint: 'http://s3:9000', bucket: 'data' } }, 'spec.local.type: Unsupported value: "FTP"'],
    ['an S3 Dataset without a bucket', { local: { type: 'S3', endpoint: 'http://s3:9000' } }, 'spec.local.bucket: Required value'],
    ['a COS Dataset without an endpoint', { local: { type: 'COS', bucket: 'data' } }, 'spec.local.endpoint: Required value'],
    ['a malformed endpoint', { local: { type: 'S3', endpoint: 's3:9000', bucket: 'data' } }, 'spec.local.endpoint: Invalid value: "s3:9000"'],
    ['an upper-case bucket', { local: { type: 'S3', endpoint: 'http://s3:9000', bucket: 'Data' } }, 'spec.local.bucket: Invalid value: "Data"'],
    ['an NFS Dataset without its share', { local: { type: 'NFS', server: 'nfs' } }, 'spec.local.share: Required value'],
    ['a HOST Dataset without its path', { local: { type: 'HOST' } }, 'spec.local.path: Required value'],
    ['an ARCHIVE without its url', { local: { type: 'ARCHIVE' } }, 'spec.local.url: Required value'],
    [
      'readonly as a boolean',
      { local: { type: 'S3', endpoint: 'http://s3:9000', bucket: 'data', readonly: true } },
      'spec.local.readonly: Invalid value: "boolean"',
    ],
    ['a table without its database', { remote: { type: 'CatalogEntry', table: 'books' } }, 'spec.remote.table: Invalid value: "books"'],
    ['neither local nor remote', { cache: { blockSize: 1 << 24 } }, 'spec.local: Required value'],
    ['a block size under 1 MiB', { local: { type: 'HOST', path: '/d' }, cache: { blockSize: 1000 } }, 'spec.cache.blockSize: Invalid value: 1000'],
  ] as const) {
    it(`rejects ${what}, naming the field (and zod agrees)`, () => {
      const errors = check(spec);
      expect(
        errors.some((e) => e.startsWith(field)),
        errors.join('\n'),
      ).to.equal(true);
      const parsed = parseDataset(manifest(spec));
      expect(parsed.ok, 'zod rejects it too').to.equal(false);
      if (!parsed.ok) expect(parsed.problems.map((p) => p.field).some((f) => field.startsWith(f + ':'))).to.equal(true);
    });
  }
});

describe("Datashim's empty optional strings", () => {
  for (const region of ['', null]) {
    it(`accepts region: ${JSON.stringify(region)} in the CRD and in zod (null reads as absent)`, () => {
      const spec = { local: { type: 'COS', endpoint: 'http://minio:9000', bucket: 'data', region } };
      expect(check(spec)).to.deep.equal([]);
      const parsed = parseDataset(manifest(spec));
      expect(parsed.ok && parsed.dataset.spec.local?.region).to.equal(region === null ? undefined : region);
    });
  }
});

describe('examples/datashim', () => {
  const files = readdirSync('examples/datashim').filter((f) => f.endsWith('.yaml'));
  const datasets = files.flatMap((f) =>
    parseAllDocuments(readFileSync(`examples/datashim/${f}`, 'utf8'))
      .map((d) => d.toJS() as { kind: string; spec: object })
      .filter((o) => o.kind === 'Dataset')
      .map((o) => [f, o] as const),
  );

  it('has an example of every Datashim type and of a catalog entry', () => {
    const kinds = datasets.map(([, o]) => (o.spec as { local?: { type: string } }).local?.type ?? 'CatalogEntry');
    expect(new Set(kinds)).to.deep.equal(new Set(['COS', 'S3', 'NFS', 'HOST', 'ARCHIVE', 'CatalogEntry']));
  });

  for (const [file, o] of datasets) {
    it(`${file}: valid for the CRD with nothing pruned, and for the zod schema`, () => {
      const errors = violations(o, root);
      expect(errors, errors.join('\n')).to.deep.equal([]);
      expect(prune(o, root), 'nothing pruned').to.deep.equal(o);
      expect(parseDataset(o).ok).to.equal(true);
    });
  }
});
