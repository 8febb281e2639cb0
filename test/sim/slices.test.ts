// Every simulated task's pod declares the blocks the task reads, the core resolves that declaration to
// exactly those blocks, and the block-aware oracle sees the live caches that placement cannot.
import { expect } from 'chai';
import fc from 'fast-check';
import { LocalityIndex } from '../../src/core/locality-index.js';
import { requestForPod } from '../../src/core/pod-request.js';
import { readFileSync } from 'node:fs';
import { buildCluster, parseCluster, PRESETS } from '../../sim/cluster.js';
import { runSimulation } from '../../sim/engine.js';
import { NodeCacheModel } from '../../sim/node-cache.js';
import { liveSliceBytes, oraclePolicy } from '../../sim/oracle.js';
import { makePolicy } from '../../sim/policies/index.js';
import { compare } from '../../sim/run.js';
import { taskSlice } from '../../sim/task-slice.js';
import { stageDag } from '../../sim/workloads/dag.js';
import { parseSwim, SWIM_DEFAULTS, swimWorkload } from '../../sim/workloads/swim.js';
import { taskBlocks, type StageSpec, type Workload } from '../../sim/workloads/types.js';

const MiB = 2 ** 20;

function stage(tasks: number, readBlocks: number, dataset = 0, training = false): StageSpec {
  return { name: 'map', tasks, dataset, readBlocks, passes: 1, rotate: false, computeSeconds: 1, overlapIO: training, after: [] };
}

describe("sim: the slice of each task's pod", () => {
  it('resolves, through the core, to exactly the blocks the task reads', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5000 })
          .chain((blocks) =>
            fc.record({
              blocks: fc.constant(blocks),
              readBlocks: fc.integer({ min: 1, max: blocks }),
              tasks: fc.integer({ min: 1, max: 300 }),
              training: fc.boolean(),
              lastBytes: fc.integer({ min: 1, max: MiB }),
            }),
          )
          .chain((p) => fc.record({ p: fc.constant(p), task: fc.integer({ min: 0, max: p.tasks - 1 }) })),
        ({ p, task }) => {
          const index = new LocalityIndex({ ttlMs: 60_000 });
          const totalBytes = (p.blocks - 1) * MiB + p.lastBytes;
          index.upsertDataset({ key: 'sim/d', totalBytes, blockSize: MiB, blockCount: p.blocks, catalogVersion: 'v1' });
          const s = stage(p.tasks, p.readBlocks, 0, p.training);
          const { labels, annotations } = taskSlice(s, p.blocks, task);
          const pod = { metadata: { name: 'p', namespace: 'sim', labels: { ...labels, 'dataset.0.id': 'd' }, annotations } };
          const req = requestForPod(pod, [], index, 0);
          expect(req.problems).to.deep.equal([]);
          const [from, to] = taskBlocks(s, task, 0);
          const slice = req.datasets[0].slice;
          if (from === 0 && to === p.blocks) {
            expect(slice === undefined || slice.whole).to.equal(true);
          } else {
            expect(Array.from(slice!.ranges)).to.deep.equal([from, to]);
            expect(slice!.bytes).to.equal(Math.min(to * MiB, totalBytes) - from * MiB);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("writes a map task's block range, and a worker's shard as a training job's replica index", () => {
    expect(taskSlice(stage(10, 10), 40, 3)).to.deep.equal({ labels: {}, annotations: { 'locus.dev/slice': 'blocks 3' } });
    expect(taskSlice(stage(2, 10), 40, 1)).to.deep.equal({ labels: {}, annotations: { 'locus.dev/slice': 'blocks 5-9' } });
    expect(taskSlice(stage(4, 40), 40, 2)).to.deep.equal({ labels: {}, annotations: { 'locus.dev/slice': 'blocks 20-29' } });
    expect(taskSlice(stage(4, 40, 0, true), 40, 2)).to.deep.equal({
      labels: { 'training.kubeflow.org/replica-index': '2' },
      annotations: { 'locus.dev/shards': '4' },
    });
    expect(taskSlice(stage(1, 40, 0, true), 40, 0)).to.deep.equal({ labels: {}, annotations: {} });
  });
});

describe('sim: block-aware oracle', () => {
  const cluster = buildCluster(
    parseCluster(
      {
        name: 't',
        nodes: 4,
        slotsPerNode: 2,
        zones: 2,
        cacheGiBPerNode: 1,
        blockMiB: 64,
        localReadGBps: 2,
        nicGbps: 10,
        objectStoreGbps: 20,
        objectStoreStreamGbps: 1,
        inventoryWriteSeconds: 60,
      },
      'test',
    ),
  );
  const bs = cluster.blockSize;

  it("counts the bytes of a task's blocks a live cache holds, the short last block at its size", () => {
    const datasets = [{ name: 'd', bytes: 5 * bs + 100 }];
    const cache = new NodeCacheModel(2 ** 30, true, { base: () => 0, datasetOf: () => 0 });
    for (const b of [1, 2, 5]) cache.read(0, b, b === 5 ? 100 : bs);
    const s = stage(2, 6);
    expect(liveSliceBytes(cache, s, 0, datasets, bs)).to.equal(2 * bs); // blocks 0-2
    expect(liveSliceBytes(cache, s, 1, datasets, bs)).to.equal(100); // blocks 3-5
    expect(liveSliceBytes(cache, stage(1, 6, -1), 0, datasets, bs)).to.equal(0);
  });

  it('places on the node that holds the blocks before any inventory shows it; the extender cannot', async () => {
    // Job a reads the 4 blocks of d (4 tasks, spread over the nodes); job b reads them again at 20 s,
    // before the agents' first write at 60 s. With perfect knowledge every block of b is a hit.
    const reads = (id: string, arrival: number) => ({ id, arrival, stages: stageDag(id, [{ ...stage(4, 4), needs: [] }]) });
    const workload: Workload = { source: 't', kind: 'synthetic', notes: [], datasets: [{ name: 'd', bytes: 4 * bs }], jobs: [reads('a', 0), reads('b', 20)] };
    const oracle = await runSimulation({ cluster, workload, policy: oraclePolicy, seed: 1 });
    expect(oracle.localBytes).to.equal(4 * bs);
    expect(oracle.remoteBytes).to.equal(4 * bs);
    // The extender sees no inventory until 60 s, so the same tasks spread as if nothing were cached.
    const locality = await runSimulation({ cluster, workload, policy: makePolicy('locality', cluster.spec), seed: 1 });
    expect(locality.localBytes).to.be.below(4 * bs);
  });
});

describe('sim: slice-aware placement on FB-2010 with input paths', function () {
  this.timeout(120_000);
  it('brings the data-aware policies within 10 % of the clairvoyant bound and of the oracle (hour 0, spark)', async () => {
    const cluster = buildCluster(PRESETS.spark);
    const file = new URL('../../sim/traces/swim-fb2010-inputpaths/FB-2010_withInputPaths_hours00-11.tsv', import.meta.url);
    const workload = swimWorkload(parseSwim(readFileSync(file, 'utf8'), 'fb2010'), 'fb2010', {
      ...SWIM_DEFAULTS,
      blockSize: cluster.blockSize,
      byteScale: cluster.spec.nodes / 3000,
      seed: 1,
      until: 3600,
    });
    const { report } = await compare({ cluster, workload, policies: ['default', 'locality', 'dataset-affinity'], seed: 1 });
    const [spread, locality, affinity] = report.policies;
    for (const p of [locality, affinity]) {
      expect(p.clairvoyantShare, p.policy).to.be.at.least(0.9);
      expect(p.oracleShare, p.policy).to.be.at.least(0.9);
    }
    // The oracle is the reference the policies approach, and spreading is far from it. It reads what
    // every policy reads, and no placement beats the clairvoyant bound.
    expect(report.oracle!.label).to.match(/^reference: /);
    expect(report.oracle!.bytes.requested).to.equal(report.bounds.requestedBytes);
    expect(report.oracle!.clairvoyantShare).to.be.within(0.9, 1);
    expect(report.bounds.oracleHitRatio).to.equal(report.oracle!.hitRatio);
    expect(spread.oracleShare).to.be.below(0.5);
  });
});
