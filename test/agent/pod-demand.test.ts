// What a bound pod will read, in blocks: the extender's own reading of its Datasets and slices, located
// in the agent's listings.
import { expect } from 'chai';
import fc from 'fast-check';
import type { DatasetSource } from '../../src/agent/catalogs.js';
import { buildLayout, type Layout } from '../../src/agent/layout.js';
import { podDemand, type DemandLookup } from '../../src/agent/pod-demand.js';
import type { PodLike } from '../../src/core/pod.js';
import { shardStart } from '../../src/core/slice.js';

const KiB = 1024;
/** Dataset ml/train: 8 blocks of 1 KiB, objects under a/ (blocks 0-3) and b/ (blocks 4-7); ml/val: 3 blocks. */
const train = buildLayout(
  'data',
  'train/',
  [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ key: `train/${i < 4 ? 'a' : 'b'}/obj-${i}`, size: KiB, etag: `"t${i}"` })),
  KiB,
);
const val = buildLayout('data', 'val/', [{ key: 'val/all', size: 3 * KiB, etag: '"v"' }], KiB);
const sources: Record<string, DatasetSource> = {
  'ml/train': {
    namespace: 'ml',
    name: 'train',
    bucket: 'data',
    prefix: 'train/',
    catalog: {
      version: train.version,
      blockSize: KiB,
      prefixes: [
        { prefix: 'a/', first: 0, end: 4 },
        { prefix: 'b/', first: 4, end: 8 },
      ],
    },
  },
  'ml/val': { namespace: 'ml', name: 'val', bucket: 'data', prefix: 'val/' },
  'ml/unlisted': { namespace: 'ml', name: 'unlisted', bucket: 'data', prefix: 'u/' },
};
const layouts: Record<string, Layout> = { 'ml/train': train, 'ml/val': val };
const lookup: DemandLookup = { source: (k) => sources[k], layout: (k) => layouts[k] };

const pod = (labels: Record<string, string>, annotations: Record<string, string> = {}, claims: string[] = []): PodLike => ({
  metadata: { namespace: 'ml', name: 'p', labels, annotations },
  spec: { volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })) },
});
const ranges = (r: { ranges: Uint32Array }) => [...r.ranges];

describe('agent pod demand', () => {
  it('reads each Dataset the agent fronts: labels and PVCs, a slice per Dataset, the rest whole', () => {
    const d = podDemand(pod({ 'dataset.0.id': 'train', 'dataset.1.id': 'elsewhere' }, { 'locus.dev/slice.0': 'blocks 1-2,6' }, ['val']), lookup);
    expect(d.datasets.map((x) => [x.dataset, ranges(x)])).to.deep.equal([
      ['ml/train', [1, 3, 6, 7]],
      ['ml/val', [0, 3]],
    ]);
    expect(d.unlisted).to.deep.equal([]);
    expect(d.problems).to.deep.equal([]);
  });

  it('locates prefix slices through the catalog prefixes', () => {
    const d = podDemand(pod({ 'dataset.0.id': 'train' }, { 'locus.dev/slice': 'prefix b/' }), lookup);
    expect(d.datasets.map(ranges)).to.deep.equal([[4, 8]]);
  });

  it('counts a slice it cannot locate as the whole Dataset, with the problem, and names Datasets not listed yet', () => {
    const d = podDemand(pod({ 'dataset.0.id': 'train', 'dataset.1.id': 'unlisted' }, { 'locus.dev/slice.0': 'blocks 6-9' }), lookup);
    expect(d.datasets.map((x) => [x.dataset, ranges(x)])).to.deep.equal([['ml/train', [0, 8]]]);
    expect(d.problems.map((p) => p.field)).to.deep.equal(['locus.dev/slice.0']);
    expect(d.unlisted.map((s) => s.name)).to.deep.equal(['unlisted']);
  });

  it("reads an Indexed Job pod's shard, its count from the Job's completions", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.nat(), (count, i) => {
        const index = i % count;
        const p: PodLike = {
          metadata: {
            namespace: 'ml',
            name: `resize-${index}`,
            labels: { 'dataset.0.id': 'train' },
            annotations: { 'batch.kubernetes.io/job-completion-index': String(index) },
            ownerReferences: [{ kind: 'Job', name: 'resize', controller: true }],
          },
        };
        const d = podDemand(p, { ...lookup, jobCompletions: (ns, job) => (ns === 'ml' && job === 'resize' ? count : undefined) });
        const [a, b] = [shardStart(index, count, 8), shardStart(index + 1, count, 8)];
        expect(d.datasets.map(ranges)).to.deep.equal(a === b ? [[]] : [[a, b]]);
        // Unknown completions: the whole Dataset, as the extender scores it.
        expect(podDemand(p, lookup).datasets.map(ranges)).to.deep.equal([[0, 8]]);
      }),
    );
  });
});
