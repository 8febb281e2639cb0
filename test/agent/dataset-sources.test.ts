// Which Datasets an agent maps keys to: from Dataset objects and from a file.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { datasetSource, datasetsFromFile } from '../../src/agent/dataset-sources.js';
import { tempDir } from './harness.js';

const UPSTREAM = 'http://minio.storage:9000';
const AGENT = 'http://locus-agent.locus-system.svc:9300';
const catalog = { objectCount: 2, totalBytes: 10, blockSize: 4, blockCount: 3, version: 'abc', refreshedAt: '2026-11-26T05:00:00Z' };

function dataset(local: Record<string, unknown>, status: Record<string, unknown> = {}) {
  return { apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', metadata: { namespace: 'ml', name: 'imagenet' }, spec: { local }, status };
}

describe('agent Dataset sources', () => {
  it('maps object-store Datasets of its upstream or of its own address, with the operator catalog', () => {
    expect(datasetSource(dataset({ type: 'S3', endpoint: UPSTREAM, bucket: 'images', prefix: 'train/' }, { catalog }), [UPSTREAM, AGENT])).to.deep.equal({
      namespace: 'ml',
      name: 'imagenet',
      bucket: 'images',
      prefix: 'train/',
      catalog: { version: 'abc', blockSize: 4 },
    });
    expect(datasetSource(dataset({ type: 'COS', endpoint: `${AGENT}/`, bucket: 'images' }), [UPSTREAM, AGENT])?.prefix).to.equal('');
    const fromCatalog = {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { namespace: 'ml', name: 'books' },
      spec: { remote: { type: 'CatalogEntry', table: 'default/books', endpoint: UPSTREAM } },
      status: { resolved: { bucket: 'warehouse', prefix: 'books/' } },
    };
    expect(datasetSource(fromCatalog, [UPSTREAM])).to.deep.equal({ namespace: 'ml', name: 'books', bucket: 'warehouse', prefix: 'books/' });
    // Datashim's ARCHIVE form: read from where the operator staged it, once it has.
    const archive = (status: Record<string, unknown>) => ({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { namespace: 'ml', name: 'weather' },
      spec: { type: 'ARCHIVE', url: 'https://cdn.example.com/noaa.tar.gz' },
      status,
    });
    expect(datasetSource(archive({ resolved: { bucket: 'archives', prefix: 'ml/weather/', endpoint: UPSTREAM } }), [UPSTREAM])).to.deep.equal({
      namespace: 'ml',
      name: 'weather',
      bucket: 'archives',
      prefix: 'ml/weather/',
    });
    expect(datasetSource(archive({}), [UPSTREAM]), 'not staged yet').to.equal(undefined);
  });

  it("carries the Dataset's cache settings: its block size and the copies its zone keeps", () => {
    const obj = {
      ...dataset({ type: 'S3', endpoint: UPSTREAM, bucket: 'images' }),
      spec: { local: { type: 'S3', endpoint: UPSTREAM, bucket: 'images' }, cache: { blockSize: 4 * 2 ** 20, zoneCopies: 2 } },
    };
    expect(datasetSource(obj, [UPSTREAM])).to.deep.include({ blockSize: 4 * 2 ** 20, zoneCopies: 2 });
  });

  it('ignores Datasets elsewhere, of other types or without a bucket', () => {
    expect(datasetSource(dataset({ type: 'S3', endpoint: 'http://other:9000', bucket: 'images' }), [UPSTREAM, AGENT])).to.equal(undefined);
    expect(datasetSource(dataset({ type: 'NFS', server: 'nfs', share: '/x' }), [UPSTREAM])).to.equal(undefined);
    expect(datasetSource(dataset({ type: 'S3', endpoint: UPSTREAM }), [UPSTREAM])).to.equal(undefined);
    expect(datasetSource({ metadata: { name: 'broken' } }, [UPSTREAM])).to.equal(undefined);
  });

  it('reads a file of Datasets and names the bad field', async () => {
    const dir = await tempDir();
    try {
      const good = join(dir, 'good.yaml');
      await writeFile(
        good,
        'datasets:\n  - {namespace: ml, name: train, bucket: data, prefix: train/, blockSize: 1048576, zoneCopies: 3}\n  - {namespace: ml, name: all, bucket: data}\n',
      );
      expect(await datasetsFromFile(good)).to.deep.equal([
        { namespace: 'ml', name: 'train', bucket: 'data', prefix: 'train/', blockSize: 1048576, zoneCopies: 3 },
        { namespace: 'ml', name: 'all', bucket: 'data', prefix: '' },
      ]);
      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, 'datasets:\n  - {namespace: ml, name: Train, bucket: data}\n');
      await datasetsFromFile(bad).then(
        () => expect.fail('accepted a bad name'),
        (err: Error) => expect(err.message).to.match(/datasets\.0\.name: must be a lower-case RFC 1123 name/),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
