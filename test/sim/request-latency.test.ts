// Per-request first-byte latency: a data loader fetching one object per sample over a few streams is
// bound by streams × s / (ttfb + s / rate), which can starve a GPU on an object store that a node cache
// (sub-millisecond first byte) does not. Expectations are computed by hand in the comments.
import { expect } from 'chai';
import { buildCluster, parseCluster, PRESETS, requestBoundRate } from '../../sim/cluster.js';
import { runSimulation } from '../../sim/engine.js';
import { makePolicy } from '../../sim/policies/index.js';
import { TRAINING_DATASETS, trainingJobs } from '../../sim/workloads/training.js';
import type { Workload } from '../../sim/workloads/types.js';
import { B, handSpec } from './hand-cluster.js';

describe('sim: request-bound read rate', () => {
  const cases: Array<[string, number | undefined, number, number, number, number, number]> = [
    // name, sampleBytes, ttfb s, stream rate, streams, cap, expected bytes/s
    ['big objects: no per-request cost', undefined, 0.02, 250e6, 4, 250e6, 250e6],
    ['no first-byte latency: the cap', 110e3, 0, 250e6, 4, 250e6, 250e6],
    // 4 × 110e3 / (0.02 + 110e3 / 250e6) = 440e3 / 0.02044
    ['ImageNet-like JPEGs, 20 ms, 4 streams', 110e3, 0.02, 250e6, 4, 250e6, 440e3 / 0.02044],
    // 4 × 1e6 / (0.001 + 0.004) = 800 MB/s, above the 250 MB/s cap
    ['large samples, short latency: capped', 1e6, 0.001, 250e6, 4, 250e6, 250e6],
    // 1 × 100 / 0.01 (an unlimited device)
    ['tiny samples on an unlimited device', 100, 0.01, Infinity, 1, Infinity, 1e4],
  ];
  for (const [name, s, ttfb, rate, streams, cap, expected] of cases) {
    it(name, () => expect(requestBoundRate(s, ttfb, rate, streams, cap)).to.be.closeTo(expected, 1e-6));
  }

  it('training datasets stored as one object per sample get their mean size; ones shipped as big files none', () => {
    const { datasets } = trainingJobs(
      [
        { id: 'a', arrival: 0, gpus: 1, dataset: 'imagenet', computeSeconds: 1, epochs: 1 },
        { id: 'b', arrival: 0, gpus: 1, dataset: 'cifar10', computeSeconds: 1, epochs: 1 },
      ],
      2 ** 27,
    );
    expect(datasets[0].sampleBytes).to.be.closeTo(TRAINING_DATASETS.imagenet.bytes / TRAINING_DATASETS.imagenet.samples, 1e-9);
    expect(datasets[0].sampleBytes).to.be.within(110e3, 120e3);
    expect(datasets[1].sampleBytes).to.equal(undefined);
  });

  it('the gpu preset: ImageNet over 4 loader streams from the store is ~21 MB/s per GPU, from the node cache hundreds', () => {
    const c = buildCluster(PRESETS.gpu);
    const s = TRAINING_DATASETS.imagenet.bytes / TRAINING_DATASETS.imagenet.samples;
    const remote = requestBoundRate(s, c.remoteFirstByteSeconds, c.streamBytesPerSecond, 4, c.streamBytesPerSecond);
    const local = requestBoundRate(s, c.localFirstByteSeconds, c.linkCapacity[0], 4, Infinity);
    expect(remote / 1e6).to.be.within(21, 23);
    expect(local / 1e6).to.be.above(500);
  });
});

describe('sim: a training worker starved by request latency, and cached', () => {
  const s = B / 256;
  // One node, one slot, 64 MiB blocks of 256 samples each, 4 loader streams.
  // Remote: stream B/2 per s; ttfb 15/128 s → 4 s / (15/128 + 1/128) = B/8 per s: 8 s a block (2 s without latency).
  // Local: device 2B per s; ttfb 7/512 s → 4 s / (7/512 + 1/512) = B per s: 1 s a block.
  const spec = handSpec({ remoteFirstByteMs: (15 / 128) * 1000, localFirstByteMs: (7 / 512) * 1000 });
  const cluster = buildCluster(parseCluster(spec, 'test'));
  const workload = (passes: number, sampleBytes: number | undefined): Workload => ({
    source: 'hand',
    kind: 'training',
    notes: [],
    datasets: [{ name: 'd', bytes: 4 * B, ...(sampleBytes === undefined ? {} : { sampleBytes }) }],
    jobs: [
      {
        id: 'j',
        arrival: 0,
        stages: [{ name: 's', tasks: 1, dataset: 0, readBlocks: 4, passes, rotate: false, computeSeconds: 4, overlapIO: true, after: [] }],
      },
    ],
  });
  const run = (w: Workload, policy: 'default' | 'no-cache') => runSimulation({ cluster, workload: w, policy: makePolicy(policy, cluster.spec), seed: 1 });

  const cases: Array<[string, number, number | undefined, 'default' | 'no-cache', number, number]> = [
    // name, passes, sampleBytes, policy, JCT s, GPU util
    // blocks arrive at 8, 16, 24, 32 s; each computes 1 s: done at 33
    ['per-sample objects, no cache: I/O-bound', 1, s, 'no-cache', 33, 4 / 33],
    ['two epochs, no cache: twice as long', 2, s, 'no-cache', 66, 8 / 66],
    // epoch 2 from the cache: first block at 34, then compute-bound (1 s read hidden under 1 s compute): 38
    ['two epochs, cached: the second is compute-bound', 2, s, 'default', 38, 8 / 38],
    // big objects pay no per-request cost: blocks at 2, 4, 6, 8; done at 9
    ['big objects, no cache: only the stream cap', 1, undefined, 'no-cache', 9, 4 / 9],
  ];
  for (const [name, passes, sb, policy, jct, util] of cases) {
    it(name, async () => {
      const r = await run(workload(passes, sb), policy);
      expect(r.finish[0]).to.be.closeTo(jct, 1e-6);
      expect(r.computeSeconds / r.slotSeconds).to.be.closeTo(util, 1e-9);
    });
  }
});
