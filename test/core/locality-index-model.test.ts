// The index with dense ids and per-block reference counts answers exactly what the index before it
// answered (kept in test/core/reference as the model), on random sequences of catalog, topology and
// snapshot changes queried at random instants, times going backwards included.
import { expect } from 'chai';
import fc from 'fast-check';
import { LocalityIndex } from '../../src/core/locality-index.js';
import { resolveSlice, type Slice, type SliceSpec } from '../../src/core/slice.js';
import type { DatasetCatalog, DatasetInventory, InventorySnapshot } from '../../src/core/types.js';
import { LocalityIndex as ReferenceIndex } from './reference/locality-index-v1.js';

const NODES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
const KEYS = ['ml/a', 'ml/b', 'ml/c'];
const TTL = 100;

// Sparse, so that the zone and region unions rarely cover a whole catalog (which would hide a wrong count).
const blockSet = fc.uniqueArray(fc.integer({ min: 0, max: 70 }), { maxLength: 12 }).map((b) => Uint32Array.from(b.sort((x, y) => x - y)));

/** Mostly fields that agree, so that block sets count against the catalog; sometimes not. */
const often = <T>(usual: T, ...others: T[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom<T | undefined>(undefined, ...others) });

const catalog = fc.record({
  key: fc.constantFrom(...KEYS),
  totalBytes: often(635, 640, 700),
  blockSize: often(10, 20),
  blockCount: often(64, 70),
  catalogVersion: often('v1', 'v2'),
}) as fc.Arbitrary<DatasetCatalog>;

const entry = fc
  .record({
    dataset: fc.constantFrom(...KEYS),
    blockSize: often(10, 20),
    catalogVersion: often('v1', 'v2'),
    blocks: fc.oneof({ weight: 4, arbitrary: blockSet }, { weight: 1, arbitrary: fc.constant(undefined) }),
    extra: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 900 }) }),
  })
  .map(({ extra, ...e }) => ({ ...e, bytes: (e.blocks?.length ?? 0) * (e.blockSize ?? 10) + extra }));

/** Instants on a coarse grid, so that expiries fall exactly on queries, and one past them. */
const instant = fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 3 })).map(([t, off]) => t * 50 + (off === 3 ? 1 : 0));

const op = fc.oneof(
  { weight: 2, arbitrary: catalog.map((cat) => ({ kind: 'upsertDataset' as const, cat })) },
  { weight: 1, arbitrary: fc.constantFrom(...KEYS).map((key) => ({ kind: 'removeDataset' as const, key })) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        name: fc.constantFrom(...NODES),
        zone: fc.option(fc.constantFrom('z1', 'z2'), { nil: undefined }),
        region: fc.option(fc.constantFrom('r1', 'r2'), { nil: undefined }),
      })
      .map((topology) => ({ kind: 'upsertNode' as const, topology })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...NODES).map((name) => ({ kind: 'removeNode' as const, name })) },
  {
    weight: 8,
    arbitrary: fc
      .record({
        node: fc.constantFrom(...NODES),
        epoch: fc.constantFrom('e1', 'e2'),
        seq: fc.integer({ min: 0, max: 30 }),
        // Mostly one entry a Dataset (a valid snapshot); sometimes a Dataset twice (rejected).
        datasets: fc.oneof(
          { weight: 9, arbitrary: fc.uniqueArray(entry, { maxLength: 3, selector: (e) => e.dataset }) },
          { weight: 1, arbitrary: fc.array(entry, { maxLength: 4 }) },
        ),
        now: instant,
      })
      .map(({ now, ...snap }) => ({ kind: 'apply' as const, snap: snap as InventorySnapshot, now })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...NODES).map((name) => ({ kind: 'removeInventory' as const, name })) },
  { weight: 4, arbitrary: instant.map((now) => ({ kind: 'query' as const, now })) },
);

const specs: SliceSpec[] = [
  { kind: 'all' },
  { kind: 'shard', index: 1, count: 4 },
  {
    kind: 'blocks',
    ranges: [
      [0, 5],
      [30, 64],
    ],
  },
  { kind: 'blocks', ranges: [[59, 60]] },
];

function sameEntry(a: DatasetInventory, b: DatasetInventory): boolean {
  const blocks = (x: DatasetInventory) => (x.blocks ? [...x.blocks] : undefined);
  return (
    a.dataset === b.dataset &&
    a.bytes === b.bytes &&
    a.blockSize === b.blockSize &&
    a.catalogVersion === b.catalogVersion &&
    JSON.stringify(blocks(a)) === JSON.stringify(blocks(b))
  );
}

/** Every answer of both indexes at `now`; slices resolved once per query, as a request does. */
function compare(mine: LocalityIndex, ref: ReferenceIndex, now: number): void {
  const ids = mine.nodeIds([...NODES, 'unknown']);
  for (const key of KEYS) {
    const cat = ref.dataset(key);
    expect(mine.dataset(key)).to.deep.equal(cat);
    const slices: Array<Slice | undefined> = [undefined];
    for (const spec of specs) {
      const s = resolveSlice(spec, cat);
      if (!('error' in s)) slices.push(s);
    }
    for (const slice of slices) {
      const view = mine.view(key, slice, now);
      [...NODES, 'unknown'].forEach((node, i) => {
        const expected = slice ? ref.sliceLocality(node, key, slice, now) : ref.locality(node, key, now);
        const where = `${node} ${key} ${slice ? JSON.stringify(slice.spec) : 'whole'} at ${now}`;
        expect(view.fill(ids[i], { onNode: -1, inZone: -1, inRegion: -1 }), where).to.deep.equal(expected);
        expect(slice ? mine.sliceLocality(node, key, slice, now) : mine.locality(node, key, now), where).to.deep.equal(expected);
      });
    }
    for (const node of NODES) expect(mine.cachedBytes(node, key, now)).to.equal(ref.cachedBytes(node, key, now));
  }
  for (const node of NODES) {
    expect(mine.isLive(node, now)).to.equal(ref.isLive(node, now));
    expect(mine.position(node)).to.deep.equal(ref.position(node));
    expect(mine.topology(node)).to.deep.equal(ref.topology(node));
  }
  expect(mine.stats(now)).to.deep.equal(ref.stats(now));
}

describe('core/locality-index against the reference model', () => {
  it('answers exactly what the reference index answers (property)', function () {
    this.timeout(120_000); // 800 random operation sequences: ~5 s on a quiet machine, several times that under load
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const mine = new LocalityIndex({ ttlMs: TTL, sameObjectsUnchanged: true });
        const ref = new ReferenceIndex({ ttlMs: TTL });
        const listed = new Map<string, DatasetInventory[]>();
        // A populated cluster to start from, which the random operations then change.
        for (const [i, name] of NODES.entries()) {
          const topology = { name, zone: `z${i % 2}`, region: 'r1' };
          mine.upsertNode(topology);
          ref.upsertNode(topology);
        }
        for (const key of KEYS) {
          const cat = { key, totalBytes: 635, blockSize: 10, blockCount: 64, catalogVersion: 'v1' };
          mine.upsertDataset(cat);
          ref.upsertDataset(cat);
        }
        for (const o of ops) {
          switch (o.kind) {
            case 'upsertDataset':
              mine.upsertDataset(o.cat);
              ref.upsertDataset(o.cat);
              break;
            case 'removeDataset':
              mine.removeDataset(o.key);
              ref.removeDataset(o.key);
              break;
            case 'upsertNode':
              mine.upsertNode(o.topology);
              ref.upsertNode(o.topology);
              break;
            case 'removeNode':
              mine.removeNode(o.name);
              ref.removeNode(o.name);
              break;
            case 'removeInventory':
              expect(mine.removeInventory(o.name)).to.equal(ref.removeInventory(o.name));
              break;
            case 'apply': {
              // Entries equal to one the node listed before are passed as that very object, as a writer
              // that rebuilds only what changed does (with sameObjectsUnchanged the index does not read them again).
              const before = listed.get(o.snap.node) ?? [];
              const snap = { ...o.snap, datasets: o.snap.datasets.map((d) => before.find((b) => sameEntry(b, d)) ?? d) };
              listed.set(o.snap.node, snap.datasets);
              expect(mine.applyInventory(snap, o.now)).to.deep.equal(ref.applyInventory(snap, o.now));
              break;
            }
            case 'query':
              compare(mine, ref, o.now);
              expect(mine.expire(o.now)).to.deep.equal(ref.expire(o.now));
              break;
          }
        }
        compare(mine, ref, 50);
      }),
      { numRuns: 800 },
    );
  });
});

describe('core/locality-index zone counts across expiries', () => {
  it('a zone counts each member up to its TTL inclusive, whichever order queries come in', () => {
    const index = new LocalityIndex({ ttlMs: 100 });
    index.upsertDataset({ key: 'ml/a', totalBytes: 640, blockSize: 10, blockCount: 64, catalogVersion: 'v1' });
    for (const name of ['a', 'b', 'c']) index.upsertNode({ name, zone: 'z' });
    const blocks = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
    index.applyInventory(
      { node: 'a', epoch: 'e', seq: 1, datasets: [{ dataset: 'ml/a', bytes: 100, blockSize: 10, catalogVersion: 'v1', blocks: blocks(0, 10) }] },
      0,
    );
    index.applyInventory(
      { node: 'b', epoch: 'e', seq: 1, datasets: [{ dataset: 'ml/a', bytes: 100, blockSize: 10, catalogVersion: 'v1', blocks: blocks(5, 15) }] },
      50,
    );
    const inZone = (now: number) => index.locality('c', 'ml/a', now).inZone;
    expect([inZone(100), inZone(101), inZone(150), inZone(151), inZone(0), inZone(100), inZone(101)]).to.deep.equal([150, 100, 100, 0, 150, 150, 100]);
  });
});
