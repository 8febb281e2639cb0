// Probe 7: cached blocks carried no checksum (a block edited on disk was served after a restart) and
// were renamed into place without an fsync. Now every check chunk of a block has a SHA-256 digest
// verified when read, the digest table is sealed and checked on start, the data is fsynced before the
// rename, and a corrupt block is dropped, fetched again and counted in
// locus_agent_corrupt_blocks_total.
import { existsSync } from 'node:fs';
import { open as openFile, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Agent } from '../../src/agent/agent.js';
import { BlockStore } from '../../src/agent/block-store.js';
import { blockId } from '../../src/agent/layout.js';
import { agentMetrics } from '../../src/metrics/agent.js';
import { agentFor, bytes, clientFor, getBytes, MiB, silent, tempDir } from '../agent/harness.js';
import { startRemote, type Remote } from '../agent/remote.js';

const BUCKET = 'data';
const KEY = 'ds/object';
const DATASET = { namespace: 'ml', name: 'integrity', bucket: BUCKET, prefix: 'ds/', blockSize: MiB };
const BODY = bytes(2 * MiB, 17);

/** Overwrites `length` bytes at `from` bytes before the end of a file (inside a block's data). */
async function scribble(file: string, fromEnd: number, data: Buffer): Promise<void> {
  const fh = await openFile(file, 'r+');
  const { size } = await fh.stat();
  await fh.write(data, 0, data.length, size - fromEnd);
  await fh.close();
}

/** Inverts the byte at `at` (negative: from the end) of a file. */
async function flipByte(file: string, at: number): Promise<void> {
  const fh = await openFile(file, 'r+');
  const { size } = await fh.stat();
  const pos = at < 0 ? size + at : at;
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, pos);
  b[0] ^= 0xff;
  await fh.write(b, 0, 1, pos);
  await fh.close();
}

async function blockFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.blk')).map((f) => join(dir, f));
}

const corrupt = async (agent: Agent) => (await agent.metrics.registry.getSingleMetric('locus_agent_corrupt_blocks_total')!.get()).values[0]?.value ?? 0;

describe('security probe 7: cached blocks are checksummed; a corrupt block is dropped and fetched again', function () {
  this.timeout(30_000);
  let remote: Remote;
  let dir: string;
  let agent: Agent | undefined;

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
    await agent?.close();
    agent = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const readAll = async (a: Agent) => {
    const c = clientFor(a.s3Url);
    try {
      return await getBytes(c, BUCKET, KEY);
    } finally {
      c.destroy();
    }
  };

  it('never serves a block edited on disk after a restart: it is fetched again, and counted', async () => {
    agent = await agentFor(remote, dir, { datasets: [DATASET] });
    expect((await readAll(agent)).equals(BODY)).to.equal(true);
    await agent.close();
    const files = await blockFiles(dir);
    expect(files).to.have.length(2);
    for (const f of files) await scribble(f, 1000, Buffer.from('EVIL'));

    remote.requests.length = 0;
    agent = await agentFor(remote, dir, { datasets: [DATASET] });
    const got = await readAll(agent);
    expect(got.equals(BODY), "the bytes served are the object's").to.equal(true);
    expect(got.includes(Buffer.from('EVIL'))).to.equal(false);
    expect(remote.gets(BUCKET, KEY)).to.have.length(2); // both blocks fetched again
    expect(await corrupt(agent)).to.equal(2);
    // The refetched blocks are whole again: a third read comes from disk.
    remote.requests.length = 0;
    expect((await readAll(agent)).equals(BODY)).to.equal(true);
    expect(remote.gets(BUCKET, KEY)).to.have.length(0);
  });

  it('detects a block edited while the agent runs, at the next read', async () => {
    agent = await agentFor(remote, dir, { datasets: [DATASET] });
    expect((await readAll(agent)).equals(BODY)).to.equal(true);
    const [first] = await blockFiles(dir);
    await flipByte(first, -10);
    remote.requests.length = 0;
    expect((await readAll(agent)).equals(BODY)).to.equal(true);
    expect(remote.gets(BUCKET, KEY)).to.have.length(1);
    expect(await corrupt(agent)).to.equal(1);
  });

  it('drops on start, cheaply, a block whose header or digest table was edited', async () => {
    agent = await agentFor(remote, dir, { datasets: [DATASET] });
    expect((await readAll(agent)).equals(BODY)).to.equal(true);
    await agent.close();
    agent = undefined;
    const [first] = await blockFiles(dir);
    await flipByte(first, 200); // in the JSON header or the digest table, before the data
    const metrics = agentMetrics();
    const store = await BlockStore.open({ dir, capacityBytes: 64 * MiB, metrics, log: silent });
    expect([...store.blocks()]).to.have.length(1);
    expect(existsSync(first)).to.equal(false);
    expect((await metrics.corruptBlocks.get()).values[0].value).to.equal(1);
  });

  it("fsyncs a block's data before renaming it into place", async () => {
    const events: string[] = [];
    const spec = { bucket: BUCKET, parts: [{ key: KEY, etag: '"e"', offset: 0, length: 1000 }], length: 1000 };
    const final = join(dir, `${blockId(spec)}.blk`);
    const open = async (path: string, flags: string): Promise<FileHandle> => {
      const fh = await openFile(path, flags);
      return new Proxy(fh, {
        get(target, prop, receiver) {
          if (prop === 'sync') {
            return async () => {
              await target.sync();
              events.push(`sync ${path === final ? 'final' : 'temporary'} (final exists: ${existsSync(final)})`);
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    };
    const store = await BlockStore.open({ dir, capacityBytes: 64 * MiB, metrics: agentMetrics(), log: silent, open });
    expect(await store.fetch(spec, (_s, sink) => sink(0, BODY.subarray(0, 1000)))).to.equal(true);
    expect(events).to.deep.equal(['sync temporary (final exists: false)']);
    expect(existsSync(final)).to.equal(true);
  });
});
