// The warm-ahead planner: hand-computed plans for small worlds, and properties over random ones
// (budgets hold, the plan does not depend on input order, nodeSelectors are honoured, no byte a node
// holds is planned).
import { expect } from 'chai';
import fc from 'fast-check';
import type { PodLike } from '../../src/core/pod.js';
import { localityOf, scoreNodes, sizedDatasets } from '../../src/core/policies/index.js';
import { requestForPod } from '../../src/core/pod-request.js';
import { planWarm, warmTargetKey, type QueuedWork, type WarmNode, type WarmPlan, type WarmSettings } from '../../src/core/warm-plan.js';
import { buildIndex } from './index-builder.js';

const BLOCK = 100;
const BLOCKS = 10;
const big: WarmSettings = { clusterBytes: 1e9, nodeBytes: 1e9, nodesPerPod: 1, afterMs: 0 };

/** Queued work reading Dataset ml/a (a slice of it when given), resolved against `index`. */
function work(name: string, since: number, opts: { slice?: string; nodeSelector?: Record<string, string>; index: ReturnType<typeof buildIndex> }): QueuedWork {
  const pod: PodLike = {
    metadata: { namespace: 'ml', name, labels: { 'dataset.0.id': 'a' }, annotations: opts.slice ? { 'locus.dev/slice': opts.slice } : {} },
  };
  const req = requestForPod(pod, [], opts.index, 0);
  return {
    target: { kind: 'Pod', namespace: 'ml', name, uid: `uid-${name}` },
    since,
    datasets: req.datasets,
    ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
  };
}

/** node → [pod name, bytes] per item, for comparing plans. */
const summary = (plan: WarmPlan) =>
  Object.fromEntries([...plan.byNode].sort(([a], [b]) => (a < b ? -1 : 1)).map(([node, items]) => [node, items.map((i) => [i.target.name, i.bytes])]));

describe('core: warm-ahead plan', () => {
  // ml/a: 10 blocks of 100 bytes. a holds blocks 0-4, b 5-9, c nothing (zone z2), off has no live inventory.
  const index = buildIndex({
    datasets: { 'ml/a': { totalBytes: BLOCK * BLOCKS, blockSize: BLOCK, blockCount: BLOCKS } },
    nodes: { a: { zone: 'z1' }, b: { zone: 'z1' }, c: { zone: 'z2' }, off: { zone: 'z2' } },
    caches: { a: { 'ml/a': [0, 1, 2, 3, 4] }, b: { 'ml/a': [5, 6, 7, 8, 9] }, c: {} },
  });
  const nodes: WarmNode[] = [
    { name: 'a', labels: { zone: 'z1' } },
    { name: 'b', labels: { zone: 'z1' } },
    { name: 'c', labels: { zone: 'z2' } },
    { name: 'off', labels: { zone: 'z2' } },
  ];
  const plan = (
    queue: QueuedWork[],
    settings: Partial<WarmSettings> = {},
    extra: { now?: number; previous?: Map<string, string[]>; nodes?: WarmNode[] } = {},
  ) =>
    planWarm({
      queue,
      nodes: extra.nodes ?? nodes,
      index,
      policy: 'locality',
      settings: { ...big, ...settings },
      now: extra.now ?? 1000,
      previous: extra.previous,
    });

  const table: Array<{ title: string; queue: () => QueuedWork[]; settings?: Partial<WarmSettings>; now?: number; want: ReturnType<typeof summary> }> = [
    // a and b score alike (500 of 1000 bytes each, the zone all of it); a node missing as much, a is first by name.
    { title: 'whole Dataset: the best node gets the 500 bytes it misses', queue: () => [work('p', 0, { index })], want: { a: [['p', 500]] } },
    { title: 'a node holding the whole slice needs nothing', queue: () => [work('p', 0, { index, slice: 'shard 1/2' })], want: {} },
    // blocks 3-6: a holds 3,4 and b 5,6; both score 5: a misses 200 (5, 6), b 200 (3, 4): a by name.
    { title: 'a slice: only its missing blocks', queue: () => [work('p', 0, { index, slice: 'blocks 3-6' })], want: { a: [['p', 200]] } },
    { title: 'two nodes per pod', queue: () => [work('p', 0, { index })], settings: { nodesPerPod: 2 }, want: { a: [['p', 500]], b: [['p', 500]] } },
    // a and b miss 500 each, over 400 a node: c misses 1000: nothing fits.
    { title: 'the node budget leaves a pod unplanned', queue: () => [work('p', 0, { index })], settings: { nodeBytes: 400 }, want: {} },
    // The older pod takes a (500); the newer pod's 200 on a fits the node (700 ≤ 800) but not the cluster (700 > 600): b.
    {
      title: 'oldest first, within node and cluster budgets',
      queue: () => [work('young', 20, { index, slice: 'blocks 0-6' }), work('old', 10, { index })],
      settings: { nodeBytes: 800, clusterBytes: 600 },
      want: { a: [['old', 500]] },
    },
    {
      title: 'a newer pod fills in after an older one',
      queue: () => [work('young', 20, { index, slice: 'blocks 0-6' }), work('old', 10, { index })],
      settings: { nodeBytes: 800, clusterBytes: 700 },
      want: {
        a: [
          ['old', 500],
          ['young', 200],
        ],
      },
    },
    { title: 'a nodeSelector narrows the candidates', queue: () => [work('p', 0, { index, nodeSelector: { zone: 'z2' } })], want: { c: [['p', 1000]] } },
    { title: 'no node matches the nodeSelector', queue: () => [work('p', 0, { index, nodeSelector: { zone: 'z9' } })], want: {} },
    { title: 'work queued for less than afterMs waits', queue: () => [work('p', 900, { index })], settings: { afterMs: 200 }, want: {} },
  ];
  for (const c of table) it(c.title, () => expect(summary(plan(c.queue(), c.settings, { now: c.now }))).to.deep.equal(c.want));

  it('names the slice it plans as text, and a whole Dataset without one', () => {
    const p = plan([work('s', 0, { index, slice: 'blocks 3-6' }), work('w', 1, { index, nodeSelector: { zone: 'z2' } })]);
    expect(p.byNode.get('a')![0].datasets).to.deep.equal([{ namespace: 'ml', name: 'a', slice: 'blocks 3-6' }]);
    expect(p.byNode.get('c')![0].datasets).to.deep.equal([{ namespace: 'ml', name: 'a' }]);
    expect(p.bytes).to.equal(1200);
    expect([...p.assigned]).to.deep.equal([
      ['Pod ml/s', ['a']],
      ['Pod ml/w', ['c']],
    ]);
  });

  it('keeps the node the last plan chose while it qualifies, and skips cordoned nodes', () => {
    const previous = new Map([['Pod ml/p', ['c']]]);
    expect(summary(plan([work('p', 0, { index })], {}, { previous }))).to.deep.equal({ c: [['p', 1000]] });
    const cordoned = nodes.map((n) => (n.name === 'c' ? { ...n, unschedulable: true } : n));
    expect(summary(plan([work('p', 0, { index })], {}, { previous, nodes: cordoned }))).to.deep.equal({ a: [['p', 500]] });
    // A chosen node that has fetched everything keeps its item (0 bytes), so its agent keeps the blocks pinned.
    const held = new Map([['Pod ml/p', ['b']]]);
    expect(summary(plan([work('p', 0, { index, slice: 'shard 1/2' })], {}, { previous: held }))).to.deep.equal({ b: [['p', 0]] });
  });

  it('keys Jobs by index', () => {
    expect(warmTargetKey({ kind: 'Job', namespace: 'ml', name: 'j', uid: 'u', index: 3 })).to.equal('Job ml/j#3');
    expect(warmTargetKey({ kind: 'Job', namespace: 'ml', name: 'j', uid: 'u' })).to.equal('Job ml/j');
  });

  describe('properties', () => {
    const world = fc.record({
      holdings: fc.array(fc.subarray([...Array(BLOCKS).keys()]), { minLength: 1, maxLength: 6 }),
      labels: fc.array(fc.constantFrom('x', 'y'), { minLength: 6, maxLength: 6 }),
      pods: fc.array(
        fc.record({
          first: fc.nat(BLOCKS - 1),
          span: fc.integer({ min: 1, max: BLOCKS }),
          whole: fc.boolean(),
          selector: fc.constantFrom(undefined, 'x', 'y'),
          since: fc.nat(100),
        }),
        { maxLength: 8 },
      ),
      settings: fc.record({
        clusterBytes: fc.nat(3000),
        nodeBytes: fc.nat(1500),
        nodesPerPod: fc.integer({ min: 1, max: 3 }),
        afterMs: fc.nat(50),
      }),
      seed: fc.nat(),
    });

    type World = typeof world extends fc.Arbitrary<infer T> ? T : never;
    const build = (w: World) => {
      const names = w.holdings.map((_, i) => `n${i}`);
      const idx = buildIndex({
        datasets: { 'ml/a': { totalBytes: BLOCK * BLOCKS, blockSize: BLOCK, blockCount: BLOCKS } },
        nodes: Object.fromEntries(names.map((n, i) => [n, { zone: `z${i % 2}` }])),
        caches: Object.fromEntries(names.map((n, i) => [n, { 'ml/a': w.holdings[i] }])),
      });
      const warmNodes: WarmNode[] = names.map((name, i) => ({ name, labels: { kind: w.labels[i] } }));
      const queue = w.pods.map((p, i) => {
        const last = Math.min(BLOCKS - 1, p.first + p.span - 1);
        return work(`p${i}`, p.since, {
          index: idx,
          ...(p.whole ? {} : { slice: `blocks ${p.first}-${last}` }),
          ...(p.selector ? { nodeSelector: { kind: p.selector } } : {}),
        });
      });
      return { idx, warmNodes, queue };
    };
    const shuffle = <T>(xs: readonly T[], seed: number): T[] => {
      const out = [...xs];
      let s = seed + 1;
      for (let i = out.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        const j = s % (i + 1);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    };

    it('never exceeds the budgets, honours nodeSelectors, plans only missing bytes, and does not depend on input order', () => {
      fc.assert(
        fc.property(world, (w) => {
          const { idx, warmNodes, queue } = build(w);
          const input = { queue, nodes: warmNodes, index: idx, policy: 'locality' as const, settings: w.settings, now: 100 };
          const p = planWarm(input);
          let total = 0;
          for (const [node, items] of p.byNode) {
            const sum = items.reduce((n, i) => n + i.bytes, 0);
            expect(sum).to.be.at.most(w.settings.nodeBytes);
            total += sum;
            const labels = warmNodes.find((n) => n.name === node)!.labels;
            for (const item of items) {
              const q = queue.find((x) => x.target.name === item.target.name)!;
              if (q.nodeSelector) expect(labels.kind).to.equal(q.nodeSelector.kind);
              expect(100 - q.since).to.be.at.least(w.settings.afterMs);
              // Exactly the bytes of the slice the node does not hold, never zero without a previous plan.
              const slice = q.datasets[0].slice;
              const want = slice?.ranges ?? Uint32Array.of(0, BLOCKS);
              const held = new Set(w.holdings[Number(node.slice(1))]);
              let missing = 0;
              for (let r = 0; r < want.length; r += 2) for (let b = want[r]; b < want[r + 1]; b++) if (!held.has(b)) missing += BLOCK;
              expect(item.bytes).to.equal(missing);
              expect(item.bytes).to.be.above(0);
            }
          }
          expect(total).to.equal(p.bytes);
          expect(total).to.be.at.most(w.settings.clusterBytes);
          for (const nodesOf of p.assigned.values()) expect(nodesOf.length).to.be.at.most(w.settings.nodesPerPod);
          const again = planWarm({ ...input, queue: shuffle(queue, w.seed), nodes: shuffle(warmNodes, w.seed + 7) });
          expect(summary(again)).to.deep.equal(summary(p));
        }),
        { numRuns: 300 },
      );
    });

    it('gives each pod, oldest first, the best-ranked nodes that fit the budgets left (a full sort of every node as the reference)', () => {
      fc.assert(
        fc.property(world, (w) => {
          const { idx, warmNodes, queue } = build(w);
          const settings = w.settings;
          const plan = planWarm({ queue, nodes: warmNodes, index: idx, policy: 'locality', settings, now: 100 });
          const used = new Map<string, number>();
          let total = 0;
          const order = [...queue].sort((a, b) => a.since - b.since || warmTargetKey(a.target).localeCompare(warmTargetKey(b.target)));
          for (const q of order) {
            if (100 - q.since < settings.afterMs) continue;
            const nodes = warmNodes.filter((n) => !q.nodeSelector || n.labels.kind === q.nodeSelector.kind).map((n) => n.name);
            const req = { datasets: q.datasets, nodes, index: idx, now: 100 };
            const sized = sizedDatasets(req);
            if (sized.length === 0 || nodes.length === 0) continue;
            const scores = scoreNodes('locality', req);
            const need = nodes.map((node) => sized.reduce((n, d) => n + Math.max(0, d.totalBytes - localityOf(req, d, node).onNode), 0));
            const ranked = nodes.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || need[a] - need[b] || (nodes[a] < nodes[b] ? -1 : 1));
            const want: string[] = [];
            let satisfied = 0;
            for (const i of ranked) {
              if (satisfied >= settings.nodesPerPod) break;
              if (need[i] === 0) {
                satisfied++;
                continue;
              }
              if ((used.get(nodes[i]) ?? 0) + need[i] > settings.nodeBytes || total + need[i] > settings.clusterBytes) continue;
              used.set(nodes[i], (used.get(nodes[i]) ?? 0) + need[i]);
              total += need[i];
              satisfied++;
              want.push(nodes[i]);
            }
            expect(plan.assigned.get(warmTargetKey(q.target)) ?? [], q.target.name).to.deep.equal(want);
          }
          expect(plan.bytes).to.equal(total);
        }),
        { numRuns: 300 },
      );
    });

    it('a plan fed its own assignments stays the same', () => {
      fc.assert(
        fc.property(world, (w) => {
          const { idx, warmNodes, queue } = build(w);
          const input = { queue, nodes: warmNodes, index: idx, policy: 'locality' as const, settings: w.settings, now: 100 };
          const first = planWarm(input);
          expect(summary(planWarm({ ...input, previous: first.assigned }))).to.deep.equal(summary(first));
        }),
        { numRuns: 200 },
      );
    });
  });
});
