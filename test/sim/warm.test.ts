// The warm cache's options against hand-computed timelines on tiny clusters (hand-cluster.ts: a remote
// block takes 2 s on its one stream, a cached one 0.5 s): prefetch on bind, reads before prefetches,
// pinning, peer fill, warm-ahead for queued work; the report's warm table; determinism. `locus sim
// --warm`, and reports without it unchanged byte for byte, are in cli.test.ts.
import { expect } from 'chai';
import { buildCluster, parseCluster, type Cluster } from '../../sim/cluster.js';
import { runSimulation, type RunResult } from '../../sim/engine.js';
import { NodeCacheModel } from '../../sim/node-cache.js';
import { makePolicy, withWarm, type SimPolicyName } from '../../sim/policies/index.js';
import { compare } from '../../sim/run.js';
import { warmTables } from '../../sim/report/warm.js';
import { NO_WARM, parseWarmList, WarmCache, WarmSpec, warmVariants, type PrefetchFlow, type WarmOption } from '../../sim/warm.js';
import type { SimJob, StageSpec, Workload } from '../../sim/workloads/types.js';
import { B, handSpec } from './hand-cluster.js';

const handCluster = (extra: Record<string, unknown> = {}): Cluster => buildCluster(parseCluster({ ...handSpec(), ...extra }, 'test'));

/** A job of one one-task stage reading `blocks` blocks of dataset `dataset` before computing `compute` s. */
function job(id: string, arrival: number, dataset: number, blocks: number, compute: number, extra: Partial<StageSpec> = {}): SimJob {
  return {
    id,
    arrival,
    stages: [{ name: 's', tasks: 1, dataset, readBlocks: blocks, passes: 1, rotate: false, computeSeconds: compute, overlapIO: false, after: [], ...extra }],
  };
}

const workload = (datasets: number[], jobs: SimJob[], kind: Workload['kind'] = 'serving'): Workload => ({
  source: 'hand',
  kind,
  notes: [],
  datasets: datasets.map((blocks, i) => ({ name: `d${i}`, bytes: blocks * B })),
  jobs,
});

const on = (...options: WarmOption[]) => ({ ...NO_WARM, ...Object.fromEntries(options.map((o) => [o, true])) });

async function warmRun(cluster: Cluster, w: Workload, options: WarmOption[], policy: SimPolicyName = 'default'): Promise<RunResult> {
  const warm = on(...options);
  return runSimulation({
    cluster,
    workload: w,
    policy: withWarm(makePolicy(policy, cluster.spec), warm),
    seed: 1,
    warm: { options: warm, spec: WarmSpec.parse(cluster.spec.warm ?? {}) },
  });
}

describe('sim: warm cache, prefetch on bind', () => {
  // One replica loading a 4-block model; its container starts 4 s after binding.
  const cluster = handCluster({ warm: { podStartSeconds: 4, prefetchConcurrency: 2 } });
  const w = workload([4], [job('r', 0, 0, 4, 0)]);

  it('without prefetch the container reads everything from the store after start-up', async () => {
    // start 4 s; blocks at 6, 8, 10, 12: first block 2 s after start, weights loaded at 12
    const r = await warmRun(cluster, w, []);
    expect(r.ready[0]).to.be.closeTo(12, 1e-9);
    expect(r.warm!.firstBlockSeconds).to.be.closeTo(2, 1e-9);
    expect(r.warm!.egressBytes).to.equal(4 * B);
    expect(r.warm!.prefetchedBytes).to.equal(0);
  });

  it('with prefetch the node fetches the slice during start-up, two blocks at a time, and the reads hit', async () => {
    // blocks 0, 1 fetched 0–2 s, blocks 2, 3 2–4 s; from 4 s four hits of 0.5 s: loaded at 6
    const r = await warmRun(cluster, w, ['prefetch']);
    expect(r.ready[0]).to.be.closeTo(6, 1e-9);
    expect(r.warm!.firstBlockSeconds).to.be.closeTo(0.5, 1e-9);
    expect(r.localBytes).to.equal(4 * B);
    expect(r.warm!).to.include({ egressBytes: 4 * B, prefetchedBytes: 4 * B, wastedPrefetchBytes: 0 });
  });

  it("a read of a block still being fetched ahead joins that fetch, which becomes a read's: nothing more is fetched ahead", async () => {
    // start-up 1 s, one fetch at a time: block 0 fetched ahead 0–2 s, joined by the reader at 1 s; from then
    // on a read is always fetching (blocks 1–3 at 2–4, 4–6, 6–8), so no fetch ahead starts: loaded at 8
    const c = handCluster({ warm: { podStartSeconds: 1, prefetchConcurrency: 1 } });
    const r = await warmRun(c, w, ['prefetch']);
    expect(r.ready[0]).to.be.closeTo(8, 1e-9);
    expect(r.warm!.firstBlockSeconds).to.be.closeTo(1, 1e-9);
    expect(r.warm!).to.include({ egressBytes: 4 * B, prefetchedBytes: B });
    expect(r.remoteBytes).to.equal(4 * B);
  });

  it('the per-pod budget cuts what is fetched ahead; the rest is read on demand', async () => {
    // 2 blocks ahead (128 MiB budget) by 2 s; at 4 s two hits (to 5), then two store reads: loaded at 9
    const c = handCluster({ warm: { podStartSeconds: 4, prefetchConcurrency: 2, prefetchPodBudgetGiB: (2 * B) / 2 ** 30 } });
    const r = await warmRun(c, w, ['prefetch']);
    expect(r.ready[0]).to.be.closeTo(9, 1e-9);
    expect(r.warm!).to.include({ prefetchedBytes: 2 * B, egressBytes: 4 * B });
  });

  it('reads go first: while a read fetches from the store, no new fetch ahead starts', () => {
    const c = handCluster({ cacheGiBPerNode: 1 });
    const caches = [new NodeCacheModel(2 ** 30, true, { base: () => 0, datasetOf: () => 0 })];
    const started: Array<PrefetchFlow<unknown>> = [];
    const warm = new WarmCache<unknown>(
      { options: on('prefetch'), spec: WarmSpec.parse({ prefetchConcurrency: 1 }) },
      c,
      caches,
      1,
      () => 0,
      (_links, _ceiling, _bytes, f) => started.push(f),
      () => B,
    );
    warm.add({ node: 0, dataset: 0, base: 0, from: 0, to: 3, queued: false, readAt: () => 0 });
    expect(started.map((f) => f.block)).to.deep.equal([0]);
    warm.readStarted(0, 7); // a read misses and fetches block 7
    warm.prefetched(started[0]);
    expect(started).to.have.length(1); // the fetch slot is free, but a read is fetching
    warm.readEnded(0, 7);
    expect(started.map((f) => f.block)).to.deep.equal([0, 1]);
  });
});

describe('sim: warm cache, pinning', () => {
  // One node, two slots, a 4-block cache (pinned share 0.5: two blocks). Job a reads d0's 2 blocks, computes
  // 20 s, then reads them again (second pass); job b arrives at 1 s and reads d1's 4 blocks.
  const cluster = handCluster({ slotsPerNode: 2, cacheGiBPerNode: (4 * B) / 2 ** 30, warm: { podStartSeconds: 0, pinShare: 0.5 } });
  const w = workload([2, 4], [job('a', 0, 0, 2, 20, { passes: 2 }), job('b', 1, 1, 4, 0)], 'spark');

  it("LRU: b's reads evict a's blocks, so a's second pass reads them from the store again", async () => {
    // a reads 0–4, computes 20 to 24; b inserts at 1, 3, 5 (evicts d0/0), 7 (evicts d1/0). a's second
    // pass misses both (24–28) and computes 20: done at 48.
    const r = await warmRun(cluster, w, []);
    expect(r.finish[0]).to.be.closeTo(48, 1e-9);
    expect(r.warm!.egressBytes).to.equal(8 * B);
  });

  it('pinned: the blocks a bound pod will read stay, b evicts its own; a re-reads locally', async () => {
    // a was bound first, so its blocks are pinned (the 2-block share; b's own blocks are wanted too, but
    // come later). b's inserts at 5 and 7 pass over d0/0 and d0/1 and evict d1/0, d1/1. a's second pass
    // hits both (24–25): done at 45.
    const r = await warmRun(cluster, w, ['pin']);
    expect(r.finish[0]).to.be.closeTo(45, 1e-9);
    expect(r.finish[1]).to.be.closeTo(9, 1e-9);
    expect(r.warm!.egressBytes).to.equal(6 * B);
  });

  it('pins hold only up to the pinned share; beyond it eviction is LRU', () => {
    const cache = new NodeCacheModel(4 * B, true, { base: () => 0, datasetOf: () => 0 });
    cache.pinWithin(1 * B);
    cache.demand(0, 2, +1); // blocks 0 and 1 demanded, room to pin one
    for (let b = 0; b < 4; b++) cache.insert(0, b, B);
    cache.insert(0, 4, B); // passes over block 0 (pinned), evicts block 1
    expect([0, 1, 2, 3, 4].map((g) => cache.has(g))).to.deep.equal([true, false, true, true, true]);
    cache.demand(0, 2, -1); // the pod went: block 0 is ordinary again
    cache.insert(0, 5, B);
    expect(cache.has(0)).to.equal(false);
  });
});

describe('sim: warm cache, peer fill', () => {
  // Two one-slot nodes in one zone. Replica a loads a 4-block model and serves 100 s; replica b arrives at
  // 10 s, finds a's node busy and loads the model on the other node.
  const cluster = handCluster({ nodes: 2, warm: { podStartSeconds: 0 } });
  const w = workload([4], [job('a', 0, 0, 4, 100), job('b', 10, 0, 4, 100)]);

  it('without peers b reads the store: 8 s cold start', async () => {
    const r = await warmRun(cluster, w, []);
    expect(r.ready[1] - r.arrival[1]).to.be.closeTo(8, 1e-9);
    expect(r.warm!).to.include({ egressBytes: 8 * B, peerBytes: 0 });
  });

  it("with peers b reads a's node over the zone's network at its cache device's rate: 2 s, no egress", async () => {
    // peer path: the holder's cache device (2 blocks/s), its NIC and b's NIC (100 Gb/s): 0.5 s a block
    const r = await warmRun(cluster, w, ['peer']);
    expect(r.ready[1] - r.arrival[1]).to.be.closeTo(2, 1e-9);
    expect(r.warm!).to.include({ egressBytes: 4 * B, peerBytes: 4 * B });
  });

  it("a block the peer's own read is still fetching is not read from it", async () => {
    // b arrives at 1 s, each of its reads (1–3, 3–5, 5–7, 7–9) asks for a block a is fetching (0–2, 2–4, …)
    const r = await warmRun(cluster, workload([4], [job('a', 0, 0, 4, 100), job('b', 1, 0, 4, 100)]), ['peer']);
    expect(r.warm!).to.include({ egressBytes: 8 * B, peerBytes: 0 });
    expect(r.ready[1]).to.be.closeTo(9, 1e-9);
  });

  it("a block is found on a peer from its agent's next inventory write after it is on disk", async () => {
    // a's blocks are on disk at 2, 4, 6, 8 s and written (every 2 s) at 4, 6, 8, 10 s. b starts at 8.2 s:
    // blocks 0–2 from the peer (0.5 s each, to 9.7 s), block 3 not yet shown: from the store, to 11.7 s
    const r = await warmRun(cluster, workload([4], [job('a', 0, 0, 4, 100), job('b', 8.2, 0, 4, 100)]), ['peer']);
    expect(r.ready[1]).to.be.closeTo(11.7, 1e-9);
    expect(r.warm!).to.include({ egressBytes: 5 * B, peerBytes: 3 * B });
  });

  it('a peer in another zone is not asked', async () => {
    const r = await warmRun(handCluster({ nodes: 2, zones: 2, warm: { podStartSeconds: 0 } }), w, ['peer']);
    expect(r.warm!).to.include({ egressBytes: 8 * B, peerBytes: 0 });
  });

  it('a zone link, when set, is shared by peer reads', async () => {
    // zone link of one stream's rate (B/2 per s): 2 s a block, as slow as the store, still no egress
    const r = await warmRun(handCluster({ nodes: 2, warm: { podStartSeconds: 0, zoneLinkGbps: handSpec().objectStoreStreamGbps } }), w, ['peer']);
    expect(r.ready[1] - r.arrival[1]).to.be.closeTo(8, 1e-9);
    expect(r.warm!.peerBytes).to.equal(4 * B);
  });

  // Zone copies, by the core's rendezvous rule: rank('0#b', 'node-0') > rank('0#b', 'node-1') for blocks
  // 0–2 of d0 (2749965210 > 257694977 for block 0), so with one copy per zone node-0's copy is the one kept.
  function zone(extra: Record<string, unknown> = {}) {
    let now = 0;
    const caches = [0, 1].map(() => new NodeCacheModel(2 * B, true, { base: () => 0, datasetOf: () => 0 }));
    const warm = new WarmCache<unknown>(
      { options: on('peer'), spec: WarmSpec.parse(extra) },
      handCluster({ nodes: 2 }),
      caches,
      1,
      () => now,
      () => undefined,
      () => B,
    );
    /** Node n reads blocks of d0 in this order (on disk, in its inventory from its next write). */
    const hold = (n: number, ...blocks: number[]) => {
      for (const b of blocks) {
        caches[n].insert(0, b, B);
        warm.readStarted(n, b);
        warm.readEnded(n, b);
      }
    };
    const later = () => (now += 100);
    const held = (n: number) => [0, 1, 2, 3, 4, 5, 6, 7].filter((g) => caches[n].has(g));
    return { hold, later, held };
  }

  it('a copy the zone holds enough of elsewhere is evicted before older blocks; a copy ranked first is not', () => {
    const z = zone();
    z.hold(0, 2, 0);
    z.hold(1, 1, 0);
    z.later();
    z.hold(1, 3); // node-1's block 0 is surplus (node-0 ranks ahead): it goes, not the older block 1
    expect(z.held(1)).to.deep.equal([1, 3]);
    z.hold(0, 4); // node-0's block 0 is ranked first: plain LRU takes block 2
    expect(z.held(0)).to.deep.equal([0, 4]);
  });

  it('two nodes hold a block under pressure: exactly one keeps it, the first in the ranking, in either order', () => {
    for (const order of [
      [0, 1],
      [1, 0],
    ]) {
      const z = zone();
      z.hold(0, 4, 0);
      z.hold(1, 5, 0);
      z.later();
      for (const n of order) z.hold(n, 6 + n);
      expect([z.held(0), z.held(1)]).to.deep.equal([
        [0, 6],
        [5, 7],
      ]);
    }
  });

  it('with zoneCopies 2 both copies stay: plain LRU', () => {
    const z = zone({ zoneCopies: 2 });
    z.hold(0, 4, 0);
    z.hold(1, 5, 0);
    z.later();
    z.hold(0, 6);
    z.hold(1, 7);
    expect([z.held(0), z.held(1)]).to.deep.equal([
      [0, 6],
      [0, 7],
    ]);
  });
});

describe('sim: warm cache, warm-ahead for queued work', () => {
  // Two one-slot nodes, one zone, policy locality. a reads the first 2 of d0's 4 blocks and computes 100 s;
  // b reads d1 on the other node. c (the whole of d0) arrives at 10 s and waits for a slot until 104 s.
  const cluster = handCluster({ nodes: 2, warm: { podStartSeconds: 0 } });
  const w = workload([4, 2], [job('a', 0, 0, 2, 100), job('b', 0, 1, 2, 100), job('c', 10, 0, 4, 0)]);

  it("without it, c runs on a's node at 104 s: two hits and two store reads, loaded at 109", async () => {
    const r = await warmRun(cluster, w, [], 'locality');
    expect(r.ready[2]).to.be.closeTo(109, 1e-9);
    expect(r.warm!.warmAheadBytes).to.equal(0);
  });

  it("with it, a's node (ranked best: half of d0) fetches c's other two blocks while c waits: four hits, loaded at 106", async () => {
    const r = await warmRun(cluster, w, ['warm-ahead'], 'locality');
    expect(r.ready[2]).to.be.closeTo(106, 1e-9);
    expect(r.warm!).to.include({ warmAheadBytes: 2 * B, prefetchedBytes: 2 * B, wastedPrefetchBytes: 0, egressBytes: 6 * B });
  });

  it('no room in the cluster-wide budget: nothing is warmed', async () => {
    const r = await warmRun(handCluster({ nodes: 2, warm: { podStartSeconds: 0, warmAheadShare: 0 } }), w, ['warm-ahead'], 'locality');
    expect(r.ready[2]).to.be.closeTo(109, 1e-9);
  });
});

describe('sim: warm comparison report', function () {
  this.timeout(60_000);
  const cluster = handCluster({ nodes: 2, warm: { podStartSeconds: 0 } });
  const w = workload([4], [job('a', 0, 0, 4, 100), job('b', 10, 0, 4, 100)]);

  it('options parse by name, in a fixed order; unknown ones are named', () => {
    expect(parseWarmList('peer,prefetch')).to.deep.equal(['prefetch', 'peer']);
    expect(parseWarmList('all')).to.deep.equal(['prefetch', 'warm-ahead', 'pin', 'peer']);
    expect(() => parseWarmList('prefetch,magic')).to.throw(/unknown option "magic"; known: prefetch, warm-ahead, pin, peer/);
    expect(warmVariants(['prefetch', 'peer'])).to.have.length(4);
  });

  it('runs each policy as base, with each option and with all; the table gives what each saves against base', async () => {
    const { report } = await compare({ cluster, workload: w, policies: ['default', 'no-cache'], seed: 1, oracle: false, warm: ['prefetch', 'peer'] });
    expect(report.policies.map((p) => p.policy)).to.deep.equal(['default', 'default +prefetch', 'default +peer', 'default +prefetch+peer', 'no-cache']);
    const rows = report.warm!.comparisons[0].rows;
    expect(rows.map((r) => r.variant)).to.deep.equal(['base', '+prefetch', '+peer', '+prefetch+peer']);
    const peer = rows[2];
    expect(peer.saved.egressBytes).to.equal(4 * B);
    expect(peer.saved.egressShare).to.equal(0.5);
    // b's cold start: 8 s from the store, 2 s from the peer; a's is 8 s in both
    expect(rows[0].coldStartSeconds).to.deep.equal({ p50: 8, p99: 8 });
    expect(peer.coldStartSeconds!.p50).to.equal(5);
    expect(peer.saved.coldP50Seconds).to.equal(3);
    const [table] = warmTables(report);
    expect(table.title).to.equal('Warm cache, default: what each option adds (pod start-up 0 s in every run)');
    expect(table.rows[2].slice(0, 3)).to.deep.equal(['+peer', '1.25', '5.00 / 7.94']);
  });

  it('is deterministic: the same seed gives the same report', async () => {
    const serving = { cluster: buildCluster(parseCluster({ ...handSpec(), nodes: 4, zones: 2, slotsPerNode: 2 }, 'test')), seed: 3, oracle: false };
    const many = workload(
      [6, 3],
      Array.from({ length: 12 }, (_, i) => job(`r${i}`, i * 3, i % 2, i % 2 ? 3 : 6, 20)),
    );
    const a = await compare({ ...serving, workload: many, policies: ['locality'], warm: ['prefetch', 'warm-ahead', 'pin', 'peer'] });
    const b = await compare({ ...serving, workload: many, policies: ['locality'], warm: ['prefetch', 'warm-ahead', 'pin', 'peer'] });
    expect(JSON.stringify(b.report)).to.equal(JSON.stringify(a.report));
  });
});
