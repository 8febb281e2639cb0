// Two extender replicas watching the same API server hold the same index and give the same answers,
// before and after a stream of changes: any synced replica may answer the leading scheduler.
import { expect } from 'chai';
import fc from 'fast-check';
import { encodeBlockSet } from '../../src/core/blockset.js';
import { startExtender, type RunningExtender } from '../../src/extender/server.js';
import { KubeSource } from '../../src/inventory/kube-source.js';
import { createKubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { post, type Wire } from './harness.js';

const MiB = 1 << 20;
const NOW = Date.parse('2026-11-26T06:00:00Z');
const NODES = Array.from({ length: 24 }, (_, i) => `node-${i}`);
const DATASETS = ['d0', 'd1', 'd2', 'd3', 'd4'];
const BLOCKS = 64;

const nodeObject = (name: string, i: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'topology.kubernetes.io/zone': `z${i % 4}`, 'topology.kubernetes.io/region': `r${i % 2}` } },
});
const datasetObject = (name: string): KubeObject => ({
  apiVersion: 'locus.dev/v1alpha1',
  kind: 'Dataset',
  metadata: { name, namespace: 'default' },
  spec: { local: { type: 'S3', bucket: 'b' } },
  status: { catalog: { objectCount: 1, totalBytes: BLOCKS * MiB, blockSize: MiB, blockCount: BLOCKS, version: 'v1', refreshedAt: '2026-11-26T05:00:00Z' } },
});
/** A node's cache: for each Dataset a random set of blocks; written `ageMs` before NOW. */
const nodeCacheArb = (node: string) =>
  fc
    .record({
      epoch: fc.constantFrom('e1', 'e2'),
      seq: fc.nat(100),
      ageMs: fc.integer({ min: 0, max: 120_000 }),
      sets: fc.array(fc.uniqueArray(fc.nat(BLOCKS - 1), { maxLength: BLOCKS }), { minLength: DATASETS.length, maxLength: DATASETS.length }),
    })
    .map(({ epoch, seq, ageMs, sets }): KubeObject => ({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'NodeCache',
      metadata: { name: node },
      spec: { nodeName: node },
      status: {
        epoch,
        seq,
        updatedAt: new Date(NOW - ageMs).toISOString(),
        datasets: sets.flatMap((set, d) => {
          if (set.length === 0) return [];
          const blocks = [...set].sort((a, b) => a - b);
          return [
            {
              namespace: 'default',
              name: DATASETS[d],
              blockSize: MiB,
              catalogVersion: 'v1',
              bytes: blocks.length * MiB,
              blockCount: BLOCKS,
              blocks: encodeBlockSet(blocks, BLOCKS),
            },
          ];
        }),
      },
    }));
const podArb = fc
  .record({
    datasets: fc.uniqueArray(fc.constantFrom(...DATASETS, 'unknown'), { maxLength: 3 }),
    locality: fc.constantFrom(undefined, 'preferred', 'required'),
    fraction: fc.constantFrom(undefined, '0.1', '0.3', '0.6'),
    nodes: fc.subarray(NODES, { minLength: 1 }),
  })
  .map(({ datasets, locality, fraction, nodes }) => {
    const labels: Record<string, string> = {};
    datasets.forEach((d, i) => {
      labels[`dataset.${i}.id`] = d;
    });
    const annotations: Record<string, string> = {};
    if (locality) annotations['locus.dev/locality'] = locality;
    if (fraction) annotations['locus.dev/min-local-fraction'] = fraction;
    return { Pod: { metadata: { name: 'p', namespace: 'default', labels, annotations } }, Nodes: null, NodeNames: nodes };
  });

describe('two extender replicas fed the same objects', function () {
  this.timeout(120_000);
  let api: FakeApiServer;
  let replicas: RunningExtender[];

  before(async () => {
    api = await FakeApiServer.start();
    NODES.forEach((n, i) => api.put(nodeObject(n, i)));
    DATASETS.forEach((d) => api.put(datasetObject(d)));
    for (const n of NODES) api.put(fc.sample(nodeCacheArb(n), { numRuns: 1, seed: n.length * 7 + Number(n.slice(5)) })[0]);
    replicas = await Promise.all(
      [0, 1].map(() => {
        const kc = api.kubeconfig();
        return startExtender({ port: 0, source: new KubeSource(kc, createKubeClient(kc)), ttlMs: 90_000, now: () => NOW });
      }),
    );
    await Promise.all(replicas.map((r) => r.synced));
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await api.close();
  });

  const sameAnswers = async (seed: number) => {
    const pods = fc.sample(podArb, { numRuns: 80, seed });
    let differing = 0;
    for (const args of pods) {
      for (const verb of ['filter', 'prioritize']) {
        const [a, b] = await Promise.all(replicas.map((r) => post(`${r.url}/scheduler/${verb}`, args)));
        expect(a.status).to.equal(200);
        expect(b.json, `${verb} ${JSON.stringify(args)}`).to.deep.equal(a.json);
      }
      const scores = (await post(`${replicas[0].url}/scheduler/prioritize`, args)).json.map((h: Wire) => h.Score);
      if (new Set(scores).size > 1) differing++;
    }
    // The comparison means something only if the scores do tell nodes apart.
    expect(differing).to.be.above(10);
  };

  it('answer every generated pod identically once synced', async () => {
    await sameAnswers(1);
  });

  it('still agree after new seqs, new epochs, stale writes and deletions', async () => {
    const changes = fc.sample(fc.tuple(fc.constantFrom(...NODES), fc.nat(9)), { numRuns: 60, seed: 2 });
    changes.forEach(([node], i) => api.put(fc.sample(nodeCacheArb(node), { numRuns: 1, seed: 100 + i })[0]));
    api.delete('nodes', 'node-3');
    api.delete('datasets.locus.dev', 'd4', 'default');
    const target = api.resourceVersion();
    // Both replicas have seen everything once their NodeCache positions equal the stored objects'
    // (a deleted node takes its inventory out of the index, whatever its NodeCache says).
    const settled = () =>
      replicas.every(
        (r) =>
          NODES.filter((n) => n !== 'node-3').every((n) => {
            const obj = api.object('nodecaches', n) as Wire;
            const pos = r.index.position(n);
            return obj ? pos !== undefined && pos.epoch === obj.status.epoch && (pos.seq === obj.status.seq || pos.seq > obj.status.seq) : pos === undefined;
          }) &&
          r.index.dataset('default/d4') === undefined &&
          r.index.topology('node-3') === undefined,
      );
    const end = Date.now() + 20_000;
    while (!settled()) {
      if (Date.now() > end) throw new Error(`replicas did not catch up with resourceVersion ${target}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(replicas[0].index.stats(NOW)).to.deep.equal(replicas[1].index.stats(NOW));
    await sameAnswers(3);
  });
});
