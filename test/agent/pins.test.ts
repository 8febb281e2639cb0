// The block store's two demand-aware rules, on a real cache directory: reads take fetch slots before
// prefetches (and lift a prefetch they join), and blocks bound pods will read are pinned, up to the pin
// share, against eviction for room and after the disk filled.
import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import { BlockStore, type BlockLoader } from '../../src/agent/block-store.js';
import { blockId, type BlockSpec } from '../../src/agent/layout.js';
import { agentMetrics, type AgentMetrics } from '../../src/metrics/agent.js';
import { eventually } from '../support/eventually.js';
import { bytes, dirBytes, MiB, silent, smallDisk, tempDir } from './harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const spec = (i: number, length = MiB): BlockSpec => ({ bucket: 'data', parts: [{ key: `ds/obj-${i}`, etag: '"e"', offset: 0, length }], length });
const id = (i: number) => blockId(spec(i));
const body = bytes(MiB, 7);
const load: BlockLoader = (s, sink) => sink(0, body.subarray(0, s.length));
const evictions = async (m: AgentMetrics, reason: string) => (await m.evictions.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

/** Loaders that start when the store lets them and finish when the test says. */
function gatedLoads() {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const loader =
    (name: string): BlockLoader =>
    async (s, sink) => {
      started.push(name);
      await new Promise<void>((resolve) => finish.set(name, resolve));
      await sink(0, body.subarray(0, s.length));
    };
  /** The loads started so far, once they are `expected` (a fetch opens its file before it loads); a moment more shows nothing else started. */
  const startedNow = async (expected: string[]) => {
    await eventually(() => expect(started).to.have.length.at.least(expected.length));
    await sleep(50);
    return started;
  };
  return { loader, startedNow, finish: (name: string) => finish.get(name)!() };
}

describe('agent block store: reads first, pinned blocks kept', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts no prefetch while a read fetches, gives reads the free slots first, and lifts a prefetch a read joins', async () => {
    const store = await BlockStore.open({ dir, capacityBytes: 64 * MiB, maxFetches: 2, metrics: agentMetrics(), log: silent });
    const g = gatedLoads();
    const p1 = store.fetch(spec(1), g.loader('prefetch 1'), { prefetch: true });
    expect(await g.startedNow(['prefetch 1'])).to.deep.equal(['prefetch 1']);
    const r1 = store.fetch(spec(2), g.loader('read 2'));
    const p3 = store.fetch(spec(3), g.loader('prefetch 3'), { prefetch: true });
    const p4 = store.fetch(spec(4), g.loader('prefetch 4'), { prefetch: true });
    // A slot is free, but a read is fetching: the prefetches wait.
    expect(await g.startedNow(['prefetch 1', 'read 2'])).to.deep.equal(['prefetch 1', 'read 2']);
    // A read wants block 4, still waiting as a prefetch: it takes a read's turn, ahead of prefetch 3.
    const r4 = store.fetch(spec(4), g.loader('never called'));
    g.finish('prefetch 1');
    expect(await g.startedNow(['prefetch 1', 'read 2', 'prefetch 4'])).to.deep.equal(['prefetch 1', 'read 2', 'prefetch 4']);
    g.finish('read 2');
    // prefetch 4 is a read's fetch now: prefetch 3 still waits for it.
    await r1;
    expect(await g.startedNow(['prefetch 1', 'read 2', 'prefetch 4'])).to.deep.equal(['prefetch 1', 'read 2', 'prefetch 4']);
    g.finish('prefetch 4');
    expect(await g.startedNow(['prefetch 1', 'read 2', 'prefetch 4', 'prefetch 3'])).to.deep.equal(['prefetch 1', 'read 2', 'prefetch 4', 'prefetch 3']);
    g.finish('prefetch 3');
    expect(await Promise.all([p1, r1, p3, p4, r4])).to.deep.equal([true, true, true, true, true]);
    expect(store.isFetching(id(3))).to.equal(false);
  });

  it('keeps pinned blocks when it evicts for room, up to the pin share, and lets them go when no pod reads them', async () => {
    const metrics = agentMetrics();
    const store = await BlockStore.open({ dir, capacityBytes: 6 * MiB + 64 * 1024, pinShare: 0.5, metrics, log: silent });
    store.setDemand([0, 1, 2, 3].map(id)); // four wanted, three fit in half the capacity
    for (let i = 0; i < 4; i++) expect(await store.fetch(spec(i), load, { prefetch: true })).to.equal(true);
    expect([0, 1, 2, 3].map((i) => store.isPinned(id(i)))).to.deep.equal([true, true, true, false]);
    expect(store.pinnedBytes).to.be.within(3 * MiB, 3 * MiB + 32 * 1024);
    expect((await metrics.pinnedBytes.get()).values[0].value).to.equal(store.pinnedBytes);
    expect((await metrics.pinnedBlocks.get()).values[0].value).to.equal(3);
    for (let i = 10; i < 20; i++) {
      await store.fetch(spec(i), load);
      await store.settle();
      expect(await dirBytes(dir)).to.be.at.most(store.capacityBytes);
    }
    expect(
      [0, 1, 2].every((i) => store.has(id(i))),
      'pinned blocks kept',
    ).to.equal(true);
    expect(store.has(id(3)), 'the unpinned wanted block is evicted as any other').to.equal(false);
    expect(await evictions(metrics, 'capacity')).to.be.at.least(8);
    store.setDemand([]);
    expect(store.pinnedBytes).to.equal(0);
    for (let i = 20; i < 23; i++) await store.fetch(spec(i), load);
    expect(
      [0, 1, 2].some((i) => store.has(id(i))),
      'unpinned, the oldest blocks go first',
    ).to.equal(false);
  });

  it('keeps pinned blocks when the disk fills: the pins shrink with the capacity, the rest is evicted', async () => {
    const DISK = 5.5 * MiB;
    const metrics = agentMetrics();
    const store = await BlockStore.open({ dir, capacityBytes: 64 * MiB, pinShare: 0.5, metrics, log: silent, open: smallDisk(dir, DISK) });
    store.setDemand([id(0), id(1), id(2), id(3)]);
    for (let i = 0; i < 4; i++) expect(await store.fetch(spec(i), load)).to.equal(true);
    expect(store.pinnedBytes, 'all four pinned within half of 64 MiB').to.be.above(4 * MiB);
    for (let i = 10; i < 16; i++) {
      expect(await store.fetch(spec(i), load), `block ${i} stored`).to.equal(true);
      await store.settle();
      expect(await dirBytes(dir)).to.be.at.most(DISK);
    }
    expect(store.capacityBytes).to.be.below(DISK);
    expect(store.pinnedBytes).to.be.at.most(0.5 * store.capacityBytes);
    // Half of the lowered capacity holds two of the four: the first two wanted stay, the newest block too.
    expect([0, 1, 2, 3].map((i) => store.has(id(i)))).to.deep.equal([true, true, false, false]);
    expect(store.has(id(15))).to.equal(true);
    expect(await evictions(metrics, 'disk-full')).to.be.at.least(1);
  });
});
