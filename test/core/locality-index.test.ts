import { expect } from 'chai';
import fc from 'fast-check';
import { LocalityIndex } from '../../src/core/locality-index.js';
import { resolveSlice, type Slice } from '../../src/core/slice.js';
import type { InventorySnapshot } from '../../src/core/types.js';
import { buildIndex } from './index-builder.js';

const snap = (seq: number, bytes: number, epoch = 'e1'): InventorySnapshot => ({
  node: 'n1',
  epoch,
  seq,
  datasets: [{ dataset: 'ml/a', bytes }],
});

describe('core/locality-index', () => {
  it('applies a first snapshot, then newer seqs; the same seq is seen, older seqs are stale', () => {
    const index = new LocalityIndex({ ttlMs: 1000 });
    expect(index.applyInventory(snap(5, 100), 0)).to.deep.equal({ kind: 'applied', reason: 'first' });
    expect(index.applyInventory(snap(5, 999), 0).kind).to.equal('seen');
    expect(index.applyInventory(snap(4, 999), 0).kind).to.equal('stale');
    expect(index.cachedBytes('n1', 'ml/a', 0)).to.equal(100);
    expect(index.applyInventory(snap(6, 200), 0)).to.deep.equal({ kind: 'applied', reason: 'newer-seq' });
    expect(index.cachedBytes('n1', 'ml/a', 0)).to.equal(200);
  });

  it('a new epoch replaces the inventory at once, whatever its seq', () => {
    const index = new LocalityIndex({ ttlMs: 1000 });
    index.applyInventory(
      {
        node: 'n1',
        epoch: 'e1',
        seq: 50,
        datasets: [
          { dataset: 'ml/a', bytes: 100 },
          { dataset: 'ml/b', bytes: 7 },
        ],
      },
      0,
    );
    expect(index.applyInventory(snap(0, 10, 'e2'), 1)).to.deep.equal({ kind: 'applied', reason: 'new-epoch' });
    expect(index.cachedBytes('n1', 'ml/a', 1)).to.equal(10);
    expect(index.cachedBytes('n1', 'ml/b', 1)).to.equal(0);
  });

  const rejected: Array<[string, InventorySnapshot]> = [
    ['empty epoch', { node: 'n1', epoch: '', seq: 1, datasets: [] }],
    ['negative seq', { node: 'n1', epoch: 'e', seq: -1, datasets: [] }],
    ['fractional seq', { node: 'n1', epoch: 'e', seq: 1.5, datasets: [] }],
    ['negative bytes', { node: 'n1', epoch: 'e', seq: 1, datasets: [{ dataset: 'ml/a', bytes: -1 }] }],
    [
      'duplicate dataset',
      {
        node: 'n1',
        epoch: 'e',
        seq: 1,
        datasets: [
          { dataset: 'ml/a', bytes: 1 },
          { dataset: 'ml/a', bytes: 2 },
        ],
      },
    ],
    ['unsorted blocks', { node: 'n1', epoch: 'e', seq: 1, datasets: [{ dataset: 'ml/a', bytes: 1, blocks: Uint32Array.from([2, 1]) }] }],
  ];
  for (const [name, s] of rejected) {
    it(`rejects a snapshot with ${name}, naming why, and keeps what it had`, () => {
      const index = new LocalityIndex({ ttlMs: 1000 });
      index.applyInventory({ node: 'n1', epoch: 'e0', seq: 1, datasets: [{ dataset: 'ml/a', bytes: 5 }] }, 0);
      const outcome = index.applyInventory(s, 0);
      expect(outcome.kind).to.equal('rejected');
      expect((outcome as { reason: string }).reason)
        .to.be.a('string')
        .with.length.greaterThan(0);
      expect(index.cachedBytes('n1', 'ml/a', 0)).to.equal(5);
    });
  }

  it('removing a node or its NodeCache removes what it held', () => {
    const index = buildIndex({
      nodes: { n1: { zone: 'z' }, n2: { zone: 'z' } },
      datasets: { 'ml/a': { totalBytes: 100 } },
      caches: { n1: { 'ml/a': 40 }, n2: { 'ml/a': 30 } },
    });
    expect(index.locality('n2', 'ml/a', 0).inZone).to.equal(40);
    index.removeInventory('n1');
    expect(index.cachedBytes('n1', 'ml/a', 0)).to.equal(0);
    expect(index.locality('n2', 'ml/a', 0).inZone).to.equal(30);
    index.removeNode('n2');
    expect(index.cachedBytes('n2', 'ml/a', 0)).to.equal(0);
    expect(index.stats(0).nodes).to.equal(1);
  });

  it("zone and region bytes are the union of the members' blocks, last block at its real size", () => {
    const index = buildIndex({
      datasets: { 'ml/a': { totalBytes: 950, blockSize: 100, blockCount: 10 } },
      nodes: { a: { zone: 'z1', region: 'r' }, b: { zone: 'z1', region: 'r' }, c: { zone: 'z2', region: 'r' } },
      caches: { a: { 'ml/a': [0, 1, 2] }, b: { 'ml/a': [2, 3, 9] }, c: { 'ml/a': [4, 5, 6, 7, 8] } },
    });
    // a: 3 blocks; zone z1 holds 0,1,2,3,9 = 4×100 + 50; the region holds all 10 blocks = 950.
    expect(index.locality('a', 'ml/a', 0)).to.deep.equal({ onNode: 300, inZone: 450, inRegion: 950 });
    expect(index.locality('c', 'ml/a', 0)).to.deep.equal({ onNode: 500, inZone: 500, inRegion: 950 });
  });

  it('zone bytes fall back to the largest byte count when block sets were encoded against another catalog', () => {
    const index = buildIndex({
      datasets: { 'ml/a': { totalBytes: 1000, blockSize: 100, blockCount: 10, version: 'v2' } },
      nodes: { a: { zone: 'z' }, b: { zone: 'z' } },
      caches: { a: { 'ml/a': 300 }, b: { 'ml/a': 600 } },
    });
    expect(index.locality('a', 'ml/a', 0).inZone).to.equal(600);
  });

  it('an unchanged entry re-applied at an earlier time counts in its zone only until its new TTL', () => {
    const index = buildIndex({
      ttlMs: 100,
      at: 100,
      nodes: { a: { zone: 'z' }, b: { zone: 'z' } },
      datasets: { 'ml/a': { totalBytes: 1000 } },
      caches: { b: { 'ml/a': 600 } },
    });
    expect(index.locality('a', 'ml/a', 150).inZone).to.equal(600);
    index.applyInventory({ node: 'b', epoch: 'e1', seq: 2, datasets: [{ dataset: 'ml/a', bytes: 600 }] }, 80);
    expect(index.locality('a', 'ml/a', 180).inZone).to.equal(600);
    expect(index.locality('a', 'ml/a', 190).inZone).to.equal(0);
  });

  it('zone and region bytes, of the whole and of a slice, kept across snapshots equal those of an index built afresh (property)', () => {
    const shard = resolveSlice({ kind: 'shard', index: 1, count: 3 }, { key: 'k', totalBytes: 395, blockSize: 10, blockCount: 40 }) as Slice;
    const keys = ['ml/a', 'ml/b'];
    const nodes = ['a', 'b', 'c', 'd'];
    const blockSets = fc.uniqueArray(fc.nat(39), { maxLength: 12 }).map((b) => Uint32Array.from(b.sort((x, y) => x - y)));
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('apply' as const),
        node: fc.constantFrom(...nodes),
        sets: fc.array(fc.option(blockSets, { freq: 2 }), { minLength: 2, maxLength: 2 }),
        reuse: fc.boolean(),
        epoch: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('remove' as const), node: fc.constantFrom(...nodes) }),
      fc.record({ kind: fc.constant('move' as const), node: fc.constantFrom(...nodes), zone: fc.constantFrom('z0', 'z1', 'z2') }),
      fc.record({
        kind: fc.constant('query' as const),
        node: fc.constantFrom(...nodes),
        key: fc.constantFrom(...keys),
        step: fc.integer({ min: -40, max: 60 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const zones = new Map(nodes.map((name, i) => [name, `z${i % 2}`]));
        const world = (index: LocalityIndex) => {
          for (const key of keys) index.upsertDataset({ key, totalBytes: 395, blockSize: 10, blockCount: 40, catalogVersion: 'v1' });
          for (const [name, zone] of zones) index.upsertNode({ name, zone, region: 'r' });
        };
        const index = new LocalityIndex({ ttlMs: 100 });
        world(index);
        const last = new Map<string, { snap: InventorySnapshot; at: number }>();
        let now = 0;
        let seq = 0;
        for (const o of ops) {
          if (o.kind === 'apply') {
            const before = last.get(o.node)?.snap;
            // `reuse` hands the index the very arrays of the node's previous snapshot, unchanged.
            const datasets =
              o.reuse && before
                ? before.datasets
                : o.sets.flatMap((blocks, i) => (blocks ? [{ dataset: keys[i], bytes: blocks.length * 10, blockSize: 10, catalogVersion: 'v1', blocks }] : []));
            const snap = { node: o.node, epoch: o.epoch ? `e${seq}` : 'e', seq: ++seq, datasets };
            expect(index.applyInventory(snap, now).kind).to.equal('applied');
            last.set(o.node, { snap, at: now });
          } else if (o.kind === 'remove') {
            index.removeInventory(o.node);
            last.delete(o.node);
          } else if (o.kind === 'move') {
            zones.set(o.node, o.zone);
            index.upsertNode({ name: o.node, zone: o.zone, region: 'r' });
          } else {
            now += o.step;
            const fresh = new LocalityIndex({ ttlMs: 100 });
            world(fresh);
            for (const { snap, at } of last.values()) fresh.applyInventory(snap, at);
            expect(index.locality(o.node, o.key, now)).to.deep.equal(fresh.locality(o.node, o.key, now));
            // The same slice object every time: what the index keeps of it per area must follow every change.
            expect(index.sliceLocality(o.node, o.key, shard, now)).to.deep.equal(fresh.sliceLocality(o.node, o.key, shard, now));
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('within one epoch, any order of snapshots leaves the highest seq in force (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(1000), { minLength: 1, maxLength: 30 }), fc.nat(), (seqs, salt) => {
        const index = new LocalityIndex({ ttlMs: 1e9 });
        for (const s of seqs) index.applyInventory(snap(s, s * 10 + (salt % 7)), 0);
        const top = Math.max(...seqs);
        expect(index.position('n1')!.seq).to.equal(top);
        expect(index.cachedBytes('n1', 'ml/a', 0)).to.equal(top * 10 + (salt % 7));
      }),
    );
  });

  it('a duplicate or older seq never changes the index (property)', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(10_000), (seq, back, bytes) => {
        const index = new LocalityIndex({ ttlMs: 1e9 });
        index.applyInventory(snap(seq, 42), 0);
        const older = Math.max(0, seq - back);
        expect(index.applyInventory(snap(older, bytes), 5).kind).to.equal(older === seq ? 'seen' : 'stale');
        expect(index.cachedBytes('n1', 'ml/a', 5)).to.equal(42);
        expect(index.position('n1')!.appliedAt).to.equal(0);
      }),
    );
  });

  it('stats count nodes, inventories, blocks and bytes', () => {
    const index = buildIndex({
      ttlMs: 10,
      datasets: { 'ml/a': { totalBytes: 100, blockSize: 10, blockCount: 10 } },
      caches: { a: { 'ml/a': [1, 2] }, b: { 'ml/a': 5 } },
    });
    expect(index.stats(0)).to.deep.equal({ nodes: 2, datasets: 1, inventories: 2, liveInventories: 2, blocks: 2, bytes: 25 });
  });

  describe('expiry: an inventory counts until ttlMs after it was applied, inclusive, everywhere', () => {
    // Node b holds blocks 0-2 of ml/a (10 blocks of 100 bytes) since t=100; a is in its zone, TTL 50.
    const world = () =>
      buildIndex({
        ttlMs: 50,
        at: 100,
        nodes: { a: { zone: 'z', region: 'r' }, b: { zone: 'z', region: 'r' } },
        datasets: { 'ml/a': { totalBytes: 1000, blockSize: 100, blockCount: 10 } },
        caches: { b: { 'ml/a': [0, 1, 2] } },
      });
    const shard = resolveSlice({ kind: 'shard', index: 0, count: 2 }, { key: 'ml/a', totalBytes: 1000, blockSize: 100, blockCount: 10 }) as Slice;
    const observers: Array<[string, (index: LocalityIndex, now: number) => unknown, unknown, unknown]> = [
      // [what, read at `now`, value while live, value once expired]
      ['isLive', (i, now) => i.isLive('b', now), true, false],
      ['cachedBytes', (i, now) => i.cachedBytes('b', 'ml/a', now), 300, 0],
      ['locality on the node', (i, now) => i.locality('b', 'ml/a', now).onNode, 300, 0],
      ['locality in the zone of another node', (i, now) => i.locality('a', 'ml/a', now).inZone, 300, 0],
      ['locality in the region of another node', (i, now) => i.locality('a', 'ml/a', now).inRegion, 300, 0],
      ['sliceLocality on the node', (i, now) => i.sliceLocality('b', 'ml/a', shard, now).onNode, 300, 0],
      ['sliceLocality in the zone', (i, now) => i.sliceLocality('a', 'ml/a', shard, now).inZone, 300, 0],
      ['stats', (i, now) => i.stats(now).liveInventories, 1, 0],
      ['expire', (i, now) => i.expire(now), [], ['b']],
    ];
    for (const [what, read, live, expired] of observers) {
      it(what, () => {
        expect(read(world(), 100), 'when applied').to.deep.equal(live);
        expect(read(world(), 150), 'at the TTL').to.deep.equal(live);
        expect(read(world(), 151), 'past the TTL').to.deep.equal(expired);
        // An index asked past the TTL answers as before when asked at an earlier time again.
        const index = world();
        read(index, 151);
        if (what !== 'expire') expect(read(index, 120), 'asked earlier again').to.deep.equal(live);
      });
    }

    it('expire() reports a node once per snapshot, and again after the next snapshot passes its TTL', () => {
      const index = world();
      expect(index.expire(151)).to.deep.equal(['b']);
      expect(index.expire(500)).to.deep.equal([]);
      index.applyInventory({ node: 'b', epoch: 'e1', seq: 2, datasets: [] }, 600);
      expect(index.expire(651)).to.deep.equal(['b']);
    });
  });
});
