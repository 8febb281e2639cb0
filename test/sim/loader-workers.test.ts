// A job's own data-loader workers (a training command's `-j N`) set how many sample requests its worker
// keeps in flight, in place of the cluster's `loaderStreams`. Expectations are computed by hand below.
import { expect } from 'chai';
import { buildCluster, parseCluster, PRESETS, requestBoundRate } from '../../sim/cluster.js';
import { runSimulation } from '../../sim/engine.js';
import { makePolicy } from '../../sim/policies/index.js';
import { TRAINING_DATASETS } from '../../sim/workloads/training.js';
import type { Workload } from '../../sim/workloads/types.js';
import { B, handSpec } from './hand-cluster.js';

describe("sim: a job's loader workers bound its per-sample reads", () => {
  const s = B / 256;
  // One node, one slot, 64 MiB blocks of 256 samples, no cache, a one-block read-ahead, 4 loader streams by default.
  // One request: ttfb 15/128 s + s / (B/2 per s) = 1/128 s → 1/8 s. Per stream s / (1/8 s) = B/32 per s.
  const spec = handSpec({ remoteFirstByteMs: (15 / 128) * 1000, localFirstByteMs: 0 });
  const cluster = buildCluster(parseCluster(spec, 'test'));
  const workload = (loaderStreams: number | undefined): Workload => ({
    source: 'hand',
    kind: 'training',
    notes: [],
    datasets: [{ name: 'd', bytes: 4 * B, sampleBytes: s }],
    jobs: [
      {
        id: 'j',
        arrival: 0,
        stages: [
          {
            name: 's',
            tasks: 1,
            dataset: 0,
            readBlocks: 4,
            passes: 1,
            rotate: false,
            computeSeconds: 4,
            overlapIO: true,
            ...(loaderStreams === undefined ? {} : { loaderStreams }),
            after: [],
          },
        ],
      },
    ],
  });

  const cases: Array<[string, number | undefined, number]> = [
    // name, the job's loader workers, JCT s
    // 4 × B/32 = B/8 per s: 8 s a block; blocks at 8, 16, 24, 32, each computed in 1 s: 33
    ['not stated: the cluster default (4 streams)', undefined, 33],
    // 8 × B/32 = B/4 per s: 4 s a block; blocks at 4, 8, 12, 16: 17
    ['-j 8: twice the requests in flight, twice the rate', 8, 17],
    // 16 × B/32 = B/2 per s, the stream cap: 2 s a block; blocks at 2, 4, 6, 8: 9
    ['-j 16: bound by the stream cap instead', 16, 9],
    // 32 × B/32 = B per s, still capped at B/2: 9
    ['-j 32: no faster than the cap', 32, 9],
  ];
  for (const [name, streams, jct] of cases) {
    it(name, async () => {
      const r = await runSimulation({ cluster, workload: workload(streams), policy: makePolicy('no-cache', cluster.spec), seed: 1 });
      expect(r.finish[0]).to.be.closeTo(jct, 1e-6);
      expect(r.computeSeconds / r.slotSeconds).to.be.closeTo(4 / jct, 1e-9);
    });
  }

  it("the gpu preset's store feeds a ResNet-50 worker with Gavel's 8 loader workers faster than it computes", () => {
    // 8 × 115.4 KB / (20 ms + 115.4 KB / 250 MB/s) = 45.1 MB/s, above batch 128's 319.6 × 115.4 KB = 36.9 MB/s;
    // with 4 streams half of that, 22.6 MB/s, below it.
    const gpu = buildCluster(PRESETS.gpu);
    const sample = TRAINING_DATASETS.imagenet.bytes / TRAINING_DATASETS.imagenet.samples;
    const rate = (streams: number) => requestBoundRate(sample, gpu.remoteFirstByteSeconds, gpu.streamBytesPerSecond, streams, gpu.streamBytesPerSecond);
    const need = 319.6 * sample;
    expect(rate(8) / 1e6).to.be.closeTo(45.1, 0.1);
    expect(rate(4) / 1e6).to.be.closeTo(22.6, 0.1);
    expect(rate(8)).to.be.above(need);
    expect(rate(4)).to.be.below(need);
  });
});
