// The block store across a crash and restart: what a killed agent leaves on disk is either a whole
// block, which the next start serves, or something incomplete, which the next start deletes.
import { readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { BlockStore, type BlockLoader } from '../../src/agent/block-store.js';
import { blockId } from '../../src/agent/layout.js';
import { agentMetrics } from '../../src/metrics/agent.js';
import { agentFor, bytes, clientFor, getBytes, MiB, silent, tempDir } from './harness.js';
import { startRemote, type Remote } from './remote.js';

const BUCKET = 'data';
const KEY = 'ds/object';
const DATASET = { namespace: 'ml', name: 'restart', bucket: BUCKET, prefix: 'ds/', blockSize: MiB };
const BODY = bytes(4 * MiB + 100, 21);

describe('agent block store across restarts', function () {
  this.timeout(30_000);
  let remote: Remote;
  let dir: string;

  before(async () => {
    remote = await startRemote([BUCKET]);
    await remote.direct.put(BUCKET, KEY, BODY);
  });
  after(async () => {
    await remote.close();
  });
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rebuilds its inventory from disk, drops incomplete files and serves no partial block', async () => {
    const first = await agentFor(remote, dir, { datasets: [DATASET] });
    const c1 = clientFor(first.s3Url);
    expect((await getBytes(c1, BUCKET, KEY)).equals(BODY)).to.equal(true);
    c1.destroy();
    expect([...first.holdings()[0].inventory.blocks!]).to.deep.equal([0, 1, 2, 3, 4]);
    await first.close();

    // What a crash can leave: a block cut short, and a temporary file of a write in progress.
    const files = (await readdir(dir)).filter((f) => f.endsWith('.blk')).sort();
    expect(files).to.have.length(5);
    const cut = files[2];
    await truncate(join(dir, cut), 1000);
    await writeFile(join(dir, `${files[3].slice(0, -4)}.tmp-0badf00d`), BODY.subarray(0, 5000));
    await writeFile(join(dir, 'stray'), 'not a block');

    remote.requests.length = 0;
    const second = await agentFor(remote, dir, { datasets: [DATASET] });
    try {
      const remaining = (await readdir(dir)).sort();
      expect(remaining).to.deep.equal(files.filter((f) => f !== cut));
      await second.catalogs.layout(DATASET);
      const held = second.holdings()[0].inventory.blocks!;
      expect(held).to.have.length(4);
      expect(second.epoch).to.not.equal(first.epoch);

      const c2 = clientFor(second.s3Url);
      expect((await getBytes(c2, BUCKET, KEY)).equals(BODY)).to.equal(true);
      c2.destroy();
      // Only the dropped block came from the remote again.
      const missing = [0, 1, 2, 3, 4].find((i) => !held.includes(i))!;
      expect(remote.gets(BUCKET, KEY).map((r) => r.headers.range)).to.deep.equal([`bytes=${missing * MiB}-${(missing + 1) * MiB - 1}`]);
    } finally {
      await second.close();
    }
  });

  it('holds at most maxFetches remote fetches at once, and each block is fetched once', async () => {
    const store = await BlockStore.open({ dir, capacityBytes: 10 * MiB, maxFetches: 3, metrics: agentMetrics(), log: silent });
    let running = 0;
    let peak = 0;
    const loads: number[] = [];
    const load: BlockLoader = async (s, sink) => {
      peak = Math.max(peak, ++running);
      loads.push(s.parts[0].offset);
      await new Promise((r) => setTimeout(r, 10));
      await sink(0, Buffer.alloc(400, s.parts[0].offset % 251));
      await sink(0, Buffer.alloc(600, s.parts[0].offset % 251));
      running--;
    };
    const specs = Array.from({ length: 12 }, (_, i) => ({ bucket: BUCKET, parts: [{ key: KEY, etag: '"e"', offset: i * 1000, length: 1000 }], length: 1000 }));
    const got = await Promise.all([...specs, ...specs].map((s) => store.fetch(s, load)));
    expect(peak).to.equal(3);
    expect(loads.sort((a, b) => a - b)).to.deep.equal(specs.map((s) => s.parts[0].offset));
    expect(got.every((stored) => stored)).to.equal(true);
    for (const s of specs) expect(await store.read(blockId(s), 0, 1000)).to.deep.equal(Buffer.alloc(1000, s.parts[0].offset % 251));
    expect(await store.read([...store.blocks()].find(([, s]) => s.parts[0].offset === 5000)![0], 390, 20)).to.deep.equal(Buffer.alloc(20, 5000 % 251));
  });

  it('keeps the most recently used blocks when it restarts with a smaller capacity', async () => {
    const store = await BlockStore.open({ dir, capacityBytes: 10 * MiB, metrics: agentMetrics(), log: silent });
    const specs = [0, 1, 2].map((i) => ({ bucket: BUCKET, parts: [{ key: KEY, etag: '"e"', offset: i * MiB, length: MiB }], length: MiB }));
    for (const spec of specs) {
      await store.fetch(spec, (s, sink) => sink(0, BODY.subarray(s.parts[0].offset, s.parts[0].offset + MiB)));
      await new Promise((r) => setTimeout(r, 20)); // distinct modification times
    }
    const [id0, id1, id2] = [...store.blocks()].map(([id]) => id).reverse(); // oldest first
    expect(await store.read(id0, 0, 10)).to.have.length(10); // block 0 is now the most recently used
    const smaller = await BlockStore.open({ dir, capacityBytes: 2.5 * MiB, metrics: agentMetrics(), log: silent });
    expect([...smaller.blocks()].map(([id]) => id)).to.deep.equal([id0, id2]);
    expect(smaller.has(id1)).to.equal(false);
    expect((await readdir(dir)).length).to.equal(2);
  });
});
