// The read pipeline against hand-computed timelines: a training worker reading ahead of its computing
// through a bounded buffer (I/O-bound and compute-bound), a map task reading before computing, a serving
// replica's cold start; and the report's cache, group and published figures.
import { expect } from 'chai';
import { buildCluster, parseCluster, PRESETS } from '../../sim/cluster.js';
import { runSimulation } from '../../sim/engine.js';
import { makePolicy } from '../../sim/policies/index.js';
import { compare } from '../../sim/run.js';
import { defaultCluster, loadWorkload } from '../../sim/workloads/index.js';
import { hoardWorkload } from '../../sim/workloads/published.js';
import { ServingParams, servingWorkload } from '../../sim/workloads/serving.js';
import type { StageSpec, Workload } from '../../sim/workloads/types.js';
import { B, handSpec } from './hand-cluster.js';

const spec = handSpec();
const cluster = buildCluster(parseCluster(spec, 'test'));

/** One job of one one-task stage reading all 4 blocks of a 4-block dataset each pass. */
function oneTask(stage: Partial<StageSpec>, kind: Workload['kind'] = 'training', blocks = 4): Workload {
  return {
    source: 'hand',
    kind,
    notes: [],
    datasets: [{ name: 'd', bytes: blocks * B }],
    jobs: [
      {
        id: 'j',
        arrival: 0,
        stages: [{ name: 's', tasks: 1, dataset: 0, readBlocks: 4, passes: 1, rotate: true, computeSeconds: 4, overlapIO: true, after: [], ...stage }],
      },
    ],
  };
}

const run = (workload: Workload, policy: 'default' | 'no-cache', c = cluster) =>
  runSimulation({ cluster: c, workload, policy: makePolicy(policy, c.spec), seed: 1 });

describe('sim: reads, prefetch and computing', () => {
  it('an I/O-bound worker computes each block as it arrives: reads back to back, the GPU idle in between', async () => {
    // Blocks arrive at 2, 4, 6, 8 s (one block of read-ahead keeps the stream busy); each computes 1 s: done at 9.
    const r = await run(oneTask({}), 'no-cache');
    expect(r.finish[0]).to.be.closeTo(9, 1e-9);
    expect(r.computeSeconds / r.slotSeconds).to.be.closeTo(4 / 9, 1e-9);
  });

  it('the second epoch reads the cache: compute-bound, read-ahead hides the reads after the first block', async () => {
    // Epoch 1 as above (9 s). Epoch 2: first block cached at 9.5, then computing 1 s per block while the
    // next block (0.5 s) is read ahead: done at 9.5 + 4 = 13.5. Without a cache: 18 s.
    const cached = await run(oneTask({ passes: 2, computeSeconds: 4 }), 'default');
    expect(cached.finish[0]).to.be.closeTo(13.5, 1e-9);
    expect(cached.localBytes).to.equal(4 * B);
    expect(cached.computeSeconds / cached.slotSeconds).to.be.closeTo(8 / 13.5, 1e-9);
    const remote = await run(oneTask({ passes: 2, computeSeconds: 4 }), 'no-cache');
    expect(remote.finish[0]).to.be.closeTo(18, 1e-9);
  });

  it('a deeper buffer lets a compute-bound worker read further ahead, but cannot beat its compute', async () => {
    // Compute 3 s per block, reads 2 s: with one block of read-ahead the worker never waits after the first
    // block: 2 + 4 × 3 = 14 s, whatever the depth.
    for (const prefetchMiB of [64, 256]) {
      const c = buildCluster(parseCluster({ ...spec, prefetchMiB }, 'test'));
      const r = await run(oneTask({ computeSeconds: 12 }), 'no-cache', c);
      expect(r.finish[0], `prefetch ${prefetchMiB} MiB`).to.be.closeTo(14, 1e-9);
    }
  });

  it('a map task reads all its blocks, then computes', async () => {
    const r = await run(oneTask({ overlapIO: false, rotate: false }, 'spark'), 'no-cache');
    expect(r.finish[0]).to.be.closeTo(4 * 2 + 4, 1e-9);
    expect(r.ready[0]).to.be.closeTo(8, 1e-9);
  });

  it('two remote readers on one node share its NIC', async () => {
    // NIC = one stream's rate: two workers get half each, so each block takes 4 s; 4 blocks → 16 + 1 s compute.
    const c = buildCluster(parseCluster({ ...spec, slotsPerNode: 2, nicGbps: spec.objectStoreStreamGbps }, 'test'));
    const r = await run(oneTask({ tasks: 2, readBlocks: 8, rotate: false }, 'training', 8), 'no-cache', c);
    expect(r.finish[0]).to.be.closeTo(17, 1e-9);
  });

  it("remote readers on two nodes of one zone share the zone's uplink", async () => {
    // Same timeline as above, the bottleneck being the zone's link to the store instead of a NIC.
    const c = buildCluster(parseCluster({ ...spec, nodes: 2, zoneUplinkGbps: spec.objectStoreStreamGbps }, 'test'));
    expect(c.remotePath[1]).to.deep.equal([3, 4, 5]);
    const r = await run(oneTask({ tasks: 2, readBlocks: 8, rotate: false }, 'training', 8), 'no-cache', c);
    expect(r.finish[0]).to.be.closeTo(17, 1e-9);
  });

  it("reports a serving replica's cold start: creation to weights loaded, queueing included", async () => {
    const replica = (id: string, arrival: number) => ({
      id,
      arrival,
      stages: [{ name: 'serve', tasks: 1, dataset: 0, readBlocks: 4, passes: 1, rotate: false, computeSeconds: 100, overlapIO: false, after: [] }],
    });
    const workload: Workload = {
      source: 'hand',
      kind: 'serving',
      notes: [],
      datasets: [{ name: 'm', bytes: 4 * B }],
      jobs: [replica('a', 0), replica('b', 10)],
    };
    const { report } = await compare({ cluster, workload, policies: ['default', 'no-cache'], seed: 1, oracle: false });
    const cold = Object.fromEntries(report.policies.map((p) => [p.policy, p.coldStartSeconds]));
    // a: 4 remote blocks = 8 s. b waits for a's slot (free at 108), then reads the cache: 4 × 0.5 s → 100 s cold.
    expect(cold.default).to.deep.equal({ mean: 54, p50: 54, p99: 99.08 });
    // Without a cache b reads remotely too: 98 + 8 = 106 s.
    expect(cold['no-cache']).to.deep.equal({ mean: 57, p50: 57, p99: 105.02 });
  });
});

describe('sim: generated serving trace', () => {
  it('keeps every model at or above its minimum, each replica a one-slot pod loading the whole model', () => {
    const params = ServingParams.parse({ models: 3, hours: 6, periodSeconds: 600, minReplicas: 2 });
    const w = servingWorkload(params, 4, cluster.blockSize);
    expect(w.kind).to.equal('serving');
    for (let d = 0; d < 3; d++) {
      const jobs = w.jobs.filter((j) => j.stages[0].dataset === d);
      for (let t = 0; t < 6 * 3600; t += 600) {
        const alive = jobs.filter((j) => j.arrival <= t && j.arrival + j.stages[0].computeSeconds > t).length;
        expect(alive, `model ${d} at ${t}`).to.be.at.least(2);
      }
      for (const j of jobs) {
        expect(j.stages[0].tasks).to.equal(1);
        expect(j.stages[0].readBlocks).to.equal(Math.ceil(w.datasets[d].bytes / cluster.blockSize));
        expect(j.arrival % 600).to.equal(0);
        expect(j.stages[0].computeSeconds).to.be.greaterThan(0);
      }
    }
    expect(w.datasets.every((d) => d.bytes >= 10e9)).to.equal(true);
  });

  it('is loaded by name with parameters, on the gpu preset unless told otherwise; bad parameters are named', () => {
    expect(loadWorkload('serving:models=2,hours=2', cluster, 1).datasets.map((d) => d.name)).to.deep.equal(['llm-7b', 'llm-8b']);
    expect(() => loadWorkload('serving:models=9', cluster, 1)).to.throw(/serving trace: models: .*\(parameters: models, hours/);
    expect([
      defaultCluster('serving:models=2'),
      defaultCluster('hoard'),
      defaultCluster('datashim'),
      defaultCluster('gavel'),
      defaultCluster('swim-fb2010'),
    ]).to.deep.equal(['gpu', 'hoard', 'datashim', 'gpu', 'spark']);
  });
});

describe('sim: report beside published figures', function () {
  this.timeout(60_000);
  it('states the cache beside the working set and each published speed-up beside the simulated one', async () => {
    const c = buildCluster(PRESETS.hoard);
    const { report } = await compare({ cluster: c, workload: hoardWorkload(c.blockSize), policies: ['locality', 'no-cache'], seed: 1, oracle: false });
    expect(report.cache.workingSetBytes).to.equal(report.bounds.distinctBytes);
    expect(report.cache.totalBytes).to.equal(4 * 1490 * 2 ** 30);
    const claim = report.published!.claims[0];
    expect(claim.published).to.equal(2.1);
    const locality = report.policies.find((p) => p.policy === 'locality')!;
    const remote = report.policies.find((p) => p.policy === 'no-cache')!;
    expect(claim.simulated.locality).to.be.closeTo(remote.jctSeconds.mean / locality.jctSeconds.mean, 1e-3);
    // Starved on the 10 Gb/s store without a cache, the GPUs are busy with one.
    expect(remote.computeShare).to.be.lessThan(0.5);
    expect(locality.computeShare).to.be.greaterThan(0.9);
  });
});
