// Invariants of every policy's run, the bounds, and determinism.
import { expect } from 'chai';
import { readPod } from '../../src/api/scheduler-extender.js';
import { LocalityIndex } from '../../src/core/locality-index.js';
import { scoreNodes } from '../../src/core/policies/index.js';
import { requestForPod } from '../../src/core/pod-request.js';
import { beladyBytes, workloadReads } from '../../sim/bounds.js';
import { buildCluster, parseCluster } from '../../sim/cluster.js';
import { runSimulation, type RunResult } from '../../sim/engine.js';
import { CATALOG_VERSION, SIM_NAMESPACE } from '../../sim/inventory.js';
import { makePolicy, POLICY_NAMES } from '../../sim/policies/index.js';
import { compare } from '../../sim/run.js';
import { loadWorkload } from '../../sim/workloads/index.js';
import { syntheticWorkload, SyntheticParams } from '../../sim/workloads/synthetic.js';
import type { Workload } from '../../sim/workloads/types.js';

const cluster = buildCluster(
  parseCluster(
    {
      name: 'small',
      nodes: 10,
      slotsPerNode: 4,
      zones: 2,
      cacheGiBPerNode: 4,
      localReadGBps: 2,
      nicGbps: 10,
      objectStoreGbps: 10,
      objectStoreStreamGbps: 1,
      blockMiB: 64,
    },
    'test',
  ),
);

describe('sim: engine invariants', function () {
  this.timeout(60_000);
  const workloads: Workload[] = [
    syntheticWorkload(SyntheticParams.parse({ jobs: 40, rate: 0.4, datasets: 8, datasetMedianBytes: 1.5e9, taskSeconds: 2 }), 5, cluster.blockSize),
    loadWorkload('gavel-small', cluster, 1),
  ];
  for (const workload of workloads) {
    describe(workload.source, () => {
      const runs = new Map<string, RunResult>();
      const reads = workloadReads(workload, cluster.blockSize);
      const compulsory = reads.requestedBytes - reads.distinctBytes;
      const capacity = cluster.spec.nodes * cluster.spec.cacheGiBPerNode * 2 ** 30;
      before(async () => {
        for (const name of POLICY_NAMES) {
          runs.set(name, await runSimulation({ cluster, workload, policy: makePolicy(name, cluster.spec), seed: 2, recordReads: true }));
        }
      });

      it('reads exactly the requested bytes, local + remote, under every policy', () => {
        for (const run of runs.values()) {
          expect(run.localBytes + run.remoteBytes, run.policy).to.equal(reads.requestedBytes);
          expect(run.blockReads, run.policy).to.equal(reads.blockReads);
        }
      });

      it('never exceeds the clairvoyant bound for its own reads, nor the compulsory-miss bound', () => {
        for (const run of runs.values()) {
          const clairvoyant = beladyBytes(run.reads!, workload, cluster.blockSize, capacity);
          expect(run.localBytes, run.policy).to.be.at.most(clairvoyant);
          expect(clairvoyant, run.policy).to.be.at.most(compulsory);
        }
      });

      it('has no hits without a cache', () => {
        const run = runs.get('no-cache')!;
        expect(run.blockHits).to.equal(0);
        expect(run.localBytes).to.equal(0);
        expect(runs.get('default')!.blockHits).to.be.greaterThan(0);
      });

      it('never over-commits a slot, and finishes every job after it arrives', () => {
        for (const run of runs.values()) {
          for (const busy of run.peakBusy) expect(busy, run.policy).to.be.at.most(cluster.spec.slotsPerNode);
          run.finish.forEach((f, j) => expect(f, `${run.policy} job ${j}`).to.be.at.least(run.arrival[j]));
        }
      });
    });
  }

  it('gives a byte-identical report for the same seed, and another for another seed', async () => {
    const workload = syntheticWorkload(SyntheticParams.parse({ jobs: 25, datasets: 5, datasetMedianBytes: 1e9 }), 9, cluster.blockSize);
    const once = async (seed: number) => JSON.stringify((await compare({ cluster, workload, policies: ['default', 'locality', 'random'], seed })).report);
    const a = await once(1);
    expect(await once(1)).to.equal(a);
    expect(await once(2)).to.not.equal(a);
  });

  it('models staleness: writing inventories less often changes locality placements', async () => {
    const workload = syntheticWorkload(SyntheticParams.parse({ jobs: 40, rate: 0.4, datasets: 8, datasetMedianBytes: 1.5e9 }), 5, cluster.blockSize);
    // One zone per node, so that zone credit does not level the scores.
    const fresh0 = buildCluster({ ...cluster.spec, zones: 10, inventoryWriteSeconds: 2 });
    const stale = buildCluster({ ...cluster.spec, zones: 10, inventoryWriteSeconds: 120 });
    const placed = async (c: typeof cluster) => {
      const nodes: string[] = [];
      const run = await runSimulation({ cluster: c, workload, policy: makePolicy('locality', c.spec), seed: 2, onPlace: (p) => nodes.push(p.node) });
      return { run, nodes };
    };
    const fresh = await placed(fresh0);
    const late = await placed(stale);
    expect(late.run.inventoryWrites).to.be.lessThan(fresh.run.inventoryWrites);
    expect(late.nodes).to.not.deep.equal(fresh.nodes);
  });
});

describe('sim: scores kept between snapshots', () => {
  it("equal the core's scores over the inventories written so far, at every placement, with inventories expiring", async () => {
    // Unchanged inventories are rewritten after their TTL, so nodes drop out and come back.
    const c = buildCluster({ ...cluster.spec, zones: 3, inventoryWriteSeconds: 2, inventoryRefreshSeconds: 40, inventoryTtlSeconds: 25 });
    const workload = syntheticWorkload(SyntheticParams.parse({ jobs: 80, rate: 0.08, datasets: 6, datasetMedianBytes: 1e9 }), 3, c.blockSize);
    const mirror = new LocalityIndex({ ttlMs: c.spec.inventoryTtlSeconds * 1000 });
    workload.datasets.forEach((d) =>
      mirror.upsertDataset({
        key: `${SIM_NAMESPACE}/${d.name}`,
        totalBytes: d.bytes,
        blockSize: c.blockSize,
        blockCount: Math.ceil(d.bytes / c.blockSize),
        catalogVersion: CATALOG_VERSION,
      }),
    );
    c.names.forEach((name, i) => mirror.upsertNode({ name, zone: c.zoneOf[i], region: c.region }));
    const locality = makePolicy('locality', c.spec);
    let compared = 0;
    let expired = 0;
    let steered = 0;
    await runSimulation({
      cluster: c,
      workload,
      seed: 1,
      sink: (snap, atMs) => mirror.applyInventory(snap, atMs),
      policy: {
        ...locality,
        place(ctx) {
          const now = Math.floor(ctx.now * 1000);
          // The task's pod, slice annotations included, as the core reads it.
          const fresh = scoreNodes('locality', requestForPod(readPod(ctx.pod(), 'Pod'), c.names, mirror, now));
          expect(Array.from(ctx.scores('locality')), `${ctx.now}`).to.deep.equal(fresh);
          compared++;
          if (c.names.some((n) => mirror.position(n) && !mirror.isLive(n, now))) expired++;
          if (fresh.some((x) => x > 0)) steered++;
          return locality.place(ctx);
        },
      },
    });
    expect(compared).to.be.greaterThan(300);
    expect(expired).to.be.greaterThan(0);
    expect(steered).to.be.greaterThan(0);
  });
});

describe('sim: clairvoyant bound', () => {
  const workload: Workload = { source: 't', kind: 'synthetic', notes: [], jobs: [], datasets: [{ name: 'd', bytes: 10 * 2 ** 26 }] };
  const bs = 2 ** 26;
  it('serves what Belady serves on a known sequence', () => {
    // Capacity 2 blocks, reads 0 1 2 0 1 2: MIN keeps 0 and 1 (evicting itself at 2), then hits 0 and 1.
    expect(beladyBytes(Int32Array.from([0, 1, 2, 0, 1, 2]), workload, bs, 2 * bs)).to.equal(2 * bs);
    expect(beladyBytes(Int32Array.from([0, 1, 2, 0, 1, 2]), workload, bs, 3 * bs)).to.equal(3 * bs);
    expect(beladyBytes(Int32Array.from([0, 0, 0]), workload, bs, 0)).to.equal(0);
  });
});
