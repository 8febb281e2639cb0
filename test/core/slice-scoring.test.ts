import { expect } from 'chai';
import fc from 'fast-check';
import { Decisions } from '../../src/core/decisions.js';
import { filterNodes } from '../../src/core/filter.js';
import { LocalityIndex } from '../../src/core/locality-index.js';
import type { PodLike } from '../../src/core/pod.js';
import { policyNames, scoreNodes, type PolicyName } from '../../src/core/policies/index.js';
import { requestForPod } from '../../src/core/pod-request.js';
import { resolveSlice, type Slice } from '../../src/core/slice.js';
import { buildIndex } from './index-builder.js';

const ds = (slice?: string): PodLike => ({
  metadata: { namespace: 'ml', name: 'p', labels: { 'dataset.0.id': 'a' }, annotations: slice ? { 'locus.dev/slice': slice } : {} },
});

describe('core: scoring slices', () => {
  // 10 blocks of 100 bytes, the last 50: `first` holds blocks 0-4, `second` 5-9, both in zone z1;
  // `far` in zone z2 holds nothing; `counted` reports 475 bytes with no block set.
  const index = buildIndex({
    datasets: { 'ml/a': { totalBytes: 950, blockSize: 100, blockCount: 10 } },
    nodes: { first: { zone: 'z1', region: 'r' }, second: { zone: 'z1', region: 'r' }, far: { zone: 'z2', region: 'r' }, counted: { zone: 'z3', region: 'r2' } },
    caches: { first: { 'ml/a': [0, 1, 2, 3, 4] }, second: { 'ml/a': [5, 6, 7, 8, 9] }, counted: { 'ml/a': 475 } },
  });
  const nodes = ['first', 'second', 'far', 'counted'];
  const score = (policy: PolicyName, slice?: string) => scoreNodes(policy, requestForPod(ds(slice), nodes, index, 0));

  const table: Array<{ policy: PolicyName; slice?: string; scores: number[] }> = [
    // Whole Dataset: first holds 500/950, the zone all of it: 5 + 0.5×(950-500)/950×10 → 7; second 450 → 7.
    { policy: 'locality', scores: [7, 7, 2, 5] },
    { policy: 'locality', slice: 'shard 0/2', scores: [10, 5, 2, 5] },
    { policy: 'locality', slice: 'shard 1/2', scores: [5, 10, 2, 5] },
    { policy: 'locality', slice: 'blocks 3-6', scores: [7, 7, 2, 5] },
    { policy: 'locality', slice: 'blocks 0-1', scores: [10, 5, 2, 5] },
    { policy: 'locality', slice: 'all', scores: [7, 7, 2, 5] },
    { policy: 'dataset-affinity', scores: [10, 10, 2, 10] },
    { policy: 'dataset-affinity', slice: 'shard 0/2', scores: [10, 5, 2, 10] },
    { policy: 'dataset-affinity', slice: 'shard 1/2', scores: [5, 10, 2, 10] },
    // A malformed slice is scored on the whole Dataset.
    { policy: 'locality', slice: 'shard 2/2', scores: [7, 7, 2, 5] },
    { policy: 'locality', slice: 'blocks 0-10', scores: [7, 7, 2, 5] },
  ];
  for (const c of table) {
    it(`${c.policy} with ${c.slice ?? 'no slice'}: ${c.scores.join(', ')}`, () => expect(score(c.policy, c.slice)).to.deep.equal(c.scores));
  }

  it('a slice that cannot be located is a problem naming the annotation', () => {
    const req = requestForPod(ds('blocks 0-10'), nodes, index, 0);
    expect(req.problems.map((p) => p.field)).to.deep.equal(['locus.dev/slice']);
    expect(req.problems[0].message).to.match(/names block 10, but Dataset ml\/a has 10 blocks.*scored on the whole Dataset/);
  });

  it('filter: required 0.5 means half of what this pod reads', () => {
    const run = (slice?: string) => filterNodes({ ...requestForPod(ds(slice), nodes, index, 0), annotations: { 'locus.dev/locality': 'required' } });
    // The builder reports 500 bytes for blocks 5-9 (it counts whole blocks): half of the Dataset.
    expect(run().passed).to.deep.equal(['first', 'second', 'counted']);
    expect(run('shard 0/2').passed).to.deep.equal(['first', 'counted']);
    expect(run('shard 1/2').passed).to.deep.equal(['second', 'counted']);
    expect(run('shard 1/2').failed.first).to.equal('holds 0 percent of ml/a shard 1/2, pod requires 50 percent');
    expect(run('blocks 4-5').passed).to.deep.equal(['first', 'second', 'counted']);
  });

  it('explain shows the slice, its bytes per node, and the filter verdict per node', () => {
    const decisions = new Decisions({ index, policy: 'locality', now: () => 0, ready: () => true });
    const pod = ds('shard 1/2');
    pod.metadata!.annotations!['locus.dev/locality'] = 'required';
    const answer = decisions.explain(pod, ['first', 'second']);
    expect(answer.nodes[0].datasets[0]).to.deep.include({
      slice: 'shard 1/2 (blocks 5-9)',
      sliceBytes: 450,
      totalBytes: 950,
      onNode: 0,
      inZone: 450,
      inRegion: 450,
    });
    expect(answer.nodes[0].filter).to.deep.equal({ passed: false, reason: 'holds 0 percent of ml/a shard 1/2, pod requires 50 percent' });
    expect(answer.nodes[1].datasets[0]).to.deep.include({ onNode: 450, credited: 450 });
    expect(answer.nodes[1].filter).to.deep.equal({ passed: true });
    expect(decisions.explain(ds(), ['first']).nodes[0]).to.not.have.property('filter');
  });

  it("the Indexed Job's completions come from the lookup the Decisions are given", () => {
    const decisions = new Decisions({ index, policy: 'locality', now: () => 0, ready: () => true, jobCompletions: () => 2 });
    const pod = {
      metadata: {
        namespace: 'ml',
        labels: { 'dataset.0.id': 'a' },
        annotations: { 'batch.kubernetes.io/job-completion-index': '1' },
        ownerReferences: [{ kind: 'Job', name: 'j', controller: true }],
      },
    };
    expect(Array.from(decisions.prioritize({ pod, nodeNames: nodes }).answer.scores)).to.deep.equal([5, 10, 2, 5]);
  });

  describe('properties, on random worlds of block sets and byte counts', () => {
    const worlds = fc.record({
      blockCount: fc.integer({ min: 1, max: 150 }),
      padding: fc.nat(99),
      caches: fc.array(fc.oneof(fc.uniqueArray(fc.nat(149), { maxLength: 60 }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 6, maxLength: 6 }),
      version: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    });
    const nodeNames = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];

    function make(w: { blockCount: number; padding: number; caches: Array<number[] | number>; version: boolean[] }) {
      const total = w.blockCount * 100 - Math.min(w.padding, 99);
      const index = new LocalityIndex({ ttlMs: 1000 });
      const cat = { key: 'ml/a', totalBytes: total, blockSize: 100, blockCount: w.blockCount, catalogVersion: 'v1' };
      index.upsertDataset(cat);
      nodeNames.forEach((name, i) => index.upsertNode({ name, zone: `z${i % 2}`, region: i < 4 ? 'r' : undefined }));
      w.caches.forEach((held, i) => {
        const datasets =
          typeof held === 'number'
            ? [{ dataset: 'ml/a', bytes: Math.floor(held * total) }]
            : (() => {
                const blocks = held.filter((b) => b < w.blockCount).sort((a, b) => a - b);
                const bytes = blocks.length * 100 - (blocks.includes(w.blockCount - 1) ? (total % 100 === 0 ? 0 : 100 - (total % 100)) : 0);
                return [{ dataset: 'ml/a', bytes, blockSize: 100, catalogVersion: w.version[i] ? 'v1' : 'v0', blocks: Uint32Array.from(blocks) }];
              })();
        index.applyInventory({ node: nodeNames[i], epoch: 'e', seq: 1, datasets }, 0);
      });
      return { index, cat };
    }

    it('the whole-Dataset slice gives exactly the scores of a pod that declares none', () => {
      fc.assert(
        fc.property(worlds, fc.constantFrom('all', 'shard 0/1', 'blocks 0-149'), (w, text) => {
          const { index } = make(w);
          const declared = text === 'blocks 0-149' ? `blocks 0-${w.blockCount - 1}` : text;
          for (const policy of policyNames) {
            expect(scoreNodes(policy, requestForPod(ds(declared), nodeNames, index, 0))).to.deep.equal(
              scoreNodes(policy, requestForPod(ds(), nodeNames, index, 0)),
            );
          }
        }),
        { numRuns: 200 },
      );
    });

    it("a slice's bytes never exceed the node's (zone's, region's) bytes of the Dataset, nor the slice's size", () => {
      fc.assert(
        fc.property(worlds, fc.nat(149), fc.nat(149), (w, a, b) => {
          const { index, cat } = make(w);
          const [first, last] = [Math.min(a, b) % w.blockCount, Math.max(a, b) % w.blockCount].sort((x, y) => x - y);
          const slice = resolveSlice({ kind: 'blocks', ranges: [[first, last + 1]] }, cat) as Slice;
          for (const node of nodeNames) {
            const part = index.sliceLocality(node, 'ml/a', slice, 0);
            const whole = index.locality(node, 'ml/a', 0);
            for (const tier of ['onNode', 'inZone', 'inRegion'] as const) {
              expect(part[tier]).to.be.at.most(whole[tier]).and.at.most(slice.bytes).and.at.least(0);
            }
            expect(part.onNode).to.be.at.most(part.inZone);
            expect(part.inZone).to.be.at.most(part.inRegion);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('shards partition the Dataset: their sizes, and their bytes on a node holding block sets, add up to the whole', () => {
      fc.assert(
        fc.property(worlds, fc.integer({ min: 1, max: 20 }), (w, n) => {
          const { index, cat } = make({ ...w, version: w.version.map(() => true) });
          const shards = Array.from({ length: n }, (_, i) => resolveSlice({ kind: 'shard', index: i, count: n }, cat) as Slice);
          expect(shards.reduce((sum, s) => sum + s.blocks, 0)).to.equal(cat.blockCount);
          expect(shards.reduce((sum, s) => sum + s.bytes, 0)).to.equal(cat.totalBytes);
          w.caches.forEach((held, i) => {
            if (typeof held === 'number') return;
            const node = nodeNames[i];
            const sum = shards.reduce((acc, s) => acc + index.sliceLocality(node, 'ml/a', s, 0).onNode, 0);
            expect(sum).to.equal(index.locality(node, 'ml/a', 0).onNode);
          });
        }),
        { numRuns: 300 },
      );
    });
  });
});
