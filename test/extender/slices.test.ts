// Slices through the extender: Dataset objects with a catalog (prefixes included), NodeCache objects
// in which node-a holds the first half of the blocks and node-b the second, Jobs, and pods declaring
// their slices; answered over HTTP on 127.0.0.1.
import { expect } from 'chai';
import pino from 'pino';
import { Writable } from 'node:stream';
import { startExtender, type RunningExtender } from '../../src/extender/server.js';
import { MemorySource } from '../../src/inventory/memory-source.js';
import { snapshotToNodeCache } from '../../src/inventory/nodecache.js';
import { post, type Wire } from './harness.js';

const MiB = 1 << 20;
const range = (a: number, b: number) => Uint32Array.from({ length: b - a }, (_, i) => a + i);
const blockCounts = new Map([['ml/logs', 8]]);
const cache = (node: string, blocks: Uint32Array) =>
  snapshotToNodeCache(
    { node, epoch: `${node}-1`, seq: 1, datasets: [{ dataset: 'ml/logs', bytes: blocks.length * MiB, blockSize: MiB, catalogVersion: 'v1', blocks }] },
    { blockCounts, updatedAt: new Date() },
  );
const dataset = {
  apiVersion: 'locus.dev/v1alpha1',
  kind: 'Dataset',
  metadata: { name: 'logs', namespace: 'ml' },
  spec: { local: { type: 'S3', endpoint: 'http://minio:9000', bucket: 'logs' } },
  status: {
    catalog: {
      objectCount: 4,
      totalBytes: 8 * MiB,
      blockSize: MiB,
      blockCount: 8,
      version: 'v1',
      refreshedAt: '2026-12-04T09:00:00Z',
      prefixes: [
        { prefix: 'day=1/', firstBlock: 0, lastBlock: 3 },
        { prefix: 'day=2/', firstBlock: 4, lastBlock: 7 },
      ],
    },
  },
};
const node = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'topology.kubernetes.io/zone': name === 'node-c' ? 'z2' : 'z1' } },
});
const NODES = ['node-a', 'node-b', 'node-c'];

function args(annotations: Record<string, string>, extra: { name?: string; owners?: unknown[] } = {}): Wire {
  return {
    Pod: { metadata: { name: extra.name ?? 'reader', namespace: 'ml', labels: { 'dataset.0.id': 'logs' }, annotations, ownerReferences: extra.owners } },
    NodeNames: NODES,
  };
}

describe('extender: slices', () => {
  let ext: RunningExtender;
  let source: MemorySource;
  const logs: Array<Record<string, unknown>> = [];

  before(async () => {
    source = new MemorySource({
      nodes: NODES.map(node),
      datasets: [dataset],
      caches: [cache('node-a', range(0, 4)), cache('node-b', range(4, 8))],
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    ext = await startExtender({ port: 0, source, logger: pino({ level: 'warn' }, sink) });
    await ext.synced;
  });
  after(() => ext.close());

  const scores = async (a: Wire) => ((await post(`${ext.url}/scheduler/prioritize`, a)).json as Array<{ Host: string; Score: number }>).map((h) => h.Score);

  const cases: Array<[string, Record<string, string>, number[]]> = [
    ['the whole Dataset: each half-holder ties', {}, [7, 7, 0]],
    ['shard 0/2: node-a, which holds it', { 'locus.dev/slice': 'shard 0/2' }, [10, 5, 0]],
    ['shard 1/2: node-b, which holds it', { 'locus.dev/slice': 'shard 1/2' }, [5, 10, 0]],
    ['a prefix from the catalog', { 'locus.dev/slice.0': 'prefix day=2/' }, [5, 10, 0]],
    ['block ranges', { 'locus.dev/slice': 'blocks 0-1,6-7' }, [7, 7, 0]],
    ['a malformed slice: scored on the whole Dataset', { 'locus.dev/slice': 'shard one of two' }, [7, 7, 0]],
  ];
  for (const [name, annotations, expected] of cases) {
    it(`prioritize, ${name}`, async () => expect(await scores(args(annotations))).to.deep.equal(expected));
  }

  it('filter keeps the holder of the pod\'s shard for "required", with the reason for the others', async () => {
    const { json } = await post(`${ext.url}/scheduler/filter`, args({ 'locus.dev/slice': 'shard 1/2', 'locus.dev/locality': 'required' }));
    expect(json.NodeNames).to.deep.equal(['node-b']);
    expect(json.FailedNodes['node-a']).to.equal('holds 0 percent of ml/logs shard 1/2, pod requires 50 percent');
  });

  it("an Indexed Job's pod reads its index's shard of the Job's completions, once the Job is seen", async () => {
    const pod = args(
      { 'batch.kubernetes.io/job-completion-index': '1' },
      { name: 'resize-1', owners: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'resize', uid: 'u', controller: true }] },
    );
    expect(await scores(pod)).to.deep.equal([7, 7, 0]);
    source.apply('Job', 'upsert', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'resize', namespace: 'ml' }, spec: { completions: 2 } });
    expect(await scores(pod)).to.deep.equal([5, 10, 0]);
    source.apply('Job', 'delete', { metadata: { name: 'resize', namespace: 'ml' } });
    expect(await scores(pod)).to.deep.equal([7, 7, 0]);
  });

  it('logs a malformed slice once per pod, naming the annotation', async () => {
    logs.length = 0;
    for (let i = 0; i < 3; i++) await scores(args({ 'locus.dev/slice': 'blocks 0-99' }, { name: 'bad' }));
    const warned = logs.filter((l) => l.pod === 'ml/bad');
    expect(warned).to.have.length(1);
    expect(JSON.stringify(warned[0].problems)).to.match(/locus\.dev\/slice.*names block 99, but Dataset ml\/logs has 8 blocks/);
  });

  it('explain shows the slice, its bytes per node and the filter verdict per node', async () => {
    const pod = args({ 'locus.dev/slice': 'shard 0/2', 'locus.dev/locality': 'required' }).Pod;
    const { json } = await post(`${ext.url}/v1/explain`, { pod, nodes: NODES });
    const byNode = Object.fromEntries((json.nodes as Wire[]).map((n) => [n.node, n]));
    expect(byNode['node-a'].datasets[0]).to.deep.include({ slice: 'shard 0/2 (blocks 0-3)', sliceBytes: 4 * MiB, onNode: 4 * MiB, totalBytes: 8 * MiB });
    expect(byNode['node-a'].filter).to.deep.equal({ passed: true });
    expect(byNode['node-b'].datasets[0]).to.deep.include({ onNode: 0, inZone: 4 * MiB });
    expect(byNode['node-b'].filter).to.deep.equal({ passed: false, reason: 'holds 0 percent of ml/logs shard 0/2, pod requires 50 percent' });
  });
});
