import { expect } from 'chai';
import type { Dataset } from '../../src/api/dataset.js';
import { foundDataset } from '../../src/webhook/kube-lookup.js';

// The endpoint the webhook's AWS_* rule reads: the operator's resolution when there is one, else the
// spec's; unknown (undefined) for what only the operator resolves, so no pod is pointed at a guess.
const AGENT = 'http://locus-agent.locus-system.svc:9300';
const ds = (spec: object, status?: object): Dataset =>
  ({ apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', metadata: { name: 'books', namespace: 'ml' }, spec, status }) as Dataset;

describe('webhook foundDataset: the endpoint a Dataset is read at', () => {
  const cases: Array<[string, Dataset, string | undefined]> = [
    ['an S3 Dataset at the agents', ds({ local: { type: 'S3', endpoint: AGENT, bucket: 'books' } }), AGENT],
    ['an S3 Dataset without an endpoint', ds({ local: { type: 'S3', bucket: 'books' } }), ''],
    [
      'the resolved endpoint over the spec',
      ds({ local: { type: 'S3', endpoint: 'http://minio:9000', bucket: 'books' } }, { resolved: { bucket: 'books', endpoint: AGENT } }),
      AGENT,
    ],
    ['a catalog entry not resolved yet', ds({ remote: { type: 'CatalogEntry', table: 'default/books', endpoint: AGENT } }), undefined],
    [
      'a catalog entry once resolved',
      ds({ remote: { type: 'CatalogEntry', table: 'default/books', endpoint: AGENT } }, { resolved: { bucket: 'b', endpoint: AGENT } }),
      AGENT,
    ],
    ['an NFS Dataset (no object store)', ds({ local: { type: 'NFS', server: 'nfs.example', share: '/export' } }), undefined],
  ];
  for (const [name, d, endpoint] of cases) {
    it(name, () => expect(foundDataset(d).endpoint).to.equal(endpoint));
  }
});
