// The read path end to end: an S3 client (AWS SDK) → the agent → a real s3rver on 127.0.0.1.
import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Agent } from '../../src/agent/agent.js';
import { BlockStore, CHECK_CHUNK } from '../../src/agent/block-store.js';
import { blockId } from '../../src/agent/layout.js';
import { agentMetrics } from '../../src/metrics/agent.js';
import { summarise } from '../../src/catalog/listing.js';
import { agentFor, bytes, clientFor, dirBytes, getBytes, MiB, silent, tempDir } from './harness.js';
import { startRemote, type Remote } from './remote.js';

const BUCKET = 'data';
const DATASET = { namespace: 'ml', name: 'train', bucket: BUCKET, prefix: 'train/', blockSize: MiB };
/** Sizes chosen so that blocks span objects, an object is empty and one is exactly a block. */
const OBJECTS: Record<string, Buffer> = {
  'train/part-000': bytes(700 * 1024, 1),
  'train/part-001': bytes(1300 * 1024 + 17, 2),
  'train/part-002': Buffer.alloc(0),
  'train/part-003': bytes(2200 * 1024, 3),
  'train/part-004': bytes(MiB, 4),
  'train/part-005': bytes(333, 5),
  'loose/blob.bin': bytes(3 * MiB + 5, 6),
};
const KEYS = Object.keys(OBJECTS).filter((k) => OBJECTS[k].length > 0);

describe('agent read path (AWS SDK → agent → s3rver)', function () {
  this.timeout(30_000);
  let remote: Remote;
  let dir: string;
  let agent: Agent;
  let client: S3Client;

  before(async () => {
    remote = await startRemote([BUCKET]);
    for (const [key, body] of Object.entries(OBJECTS)) await remote.direct.put(BUCKET, key, body);
  });
  after(async () => {
    await remote.close();
  });

  beforeEach(async () => {
    dir = await tempDir();
    agent = await agentFor(remote, dir, { datasets: [DATASET] });
    client = clientFor(agent.s3Url);
    remote.requests.length = 0;
  });
  afterEach(async () => {
    client.destroy();
    await agent.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns exactly the remote bytes for random ranges of Dataset and loose objects', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KEYS).chain((key) => fc.tuple(fc.constant(key), fc.nat(OBJECTS[key].length - 1), fc.nat(OBJECTS[key].length - 1))),
        async ([key, a, b]) => {
          const [start, end] = a <= b ? [a, b] : [b, a];
          const got = await getBytes(client, BUCKET, key, [start, end]);
          expect(got.equals(OBJECTS[key].subarray(start, end + 1)), `${key} bytes=${start}-${end}`).to.equal(true);
        },
      ),
      { numRuns: 40, seed: 7 },
    );
    for (const key of KEYS) expect((await getBytes(client, BUCKET, key)).equals(OBJECTS[key]), key).to.equal(true);
    expect(await getBytes(client, BUCKET, 'train/part-002')).to.have.length(0);
  });

  it('serves a second read from disk without asking the remote', async () => {
    const key = 'train/part-003';
    await getBytes(client, BUCKET, key, [100, 1_500_000]);
    const remoteGets = remote.gets(BUCKET, key).length;
    expect(remoteGets).to.be.greaterThan(0);
    const hits = (await agent.metrics.hits.get()).values[0]?.value ?? 0;
    const again = await getBytes(client, BUCKET, key, [100, 1_500_000]);
    expect(again.equals(OBJECTS[key].subarray(100, 1_500_001))).to.equal(true);
    expect(remote.gets(BUCKET, key).length, 'remote GETs after the second read').to.equal(remoteGets);
    expect((await agent.metrics.hits.get()).values[0].value).to.be.greaterThan(hits);
  });

  it('fetches a block once for many concurrent readers', async () => {
    const key = 'loose/blob.bin';
    const reads = await Promise.all(Array.from({ length: 12 }, (_, i) => getBytes(client, BUCKET, key, [i * 1000, i * 1000 + 50_000])));
    reads.forEach((r, i) => expect(r.equals(OBJECTS[key].subarray(i * 1000, i * 1000 + 50_001))).to.equal(true));
    expect(remote.gets(BUCKET, key).map((r) => r.headers.range)).to.deep.equal([`bytes=0-${MiB - 1}`]);
    expect((await agent.metrics.fetches.get()).values[0].value).to.equal(1);
  });

  it('lays Dataset blocks out as the operator catalogs them: the i-th block of the key-ordered concatenation', async () => {
    const datasetKeys = Object.keys(OBJECTS)
      .filter((k) => k.startsWith('train/'))
      .sort();
    const concatenation = Buffer.concat(datasetKeys.map((k) => OBJECTS[k]));
    for (const key of datasetKeys) if (OBJECTS[key].length > 0) await getBytes(client, BUCKET, key);
    const [held] = agent.holdings();
    const listing = datasetKeys.map((key) => ({ key, size: OBJECTS[key].length, etag: `"${'0'.repeat(32)}"` }));
    const catalog = summarise(listing, MiB);
    expect(held.inventory.dataset).to.equal('ml/train');
    expect(held.blockCount).to.equal(catalog.blockCount);
    expect([...held.inventory.blocks!]).to.deep.equal([...Array(catalog.blockCount).keys()]);
    expect(held.inventory.bytes).to.equal(concatenation.length);
    // Every block file holds exactly the bytes of the concatenation at its index.
    const layout = agent.catalogs.layouts().get('ml/train')!;
    expect(layout.version).to.match(/^[0-9a-f]{32}$/);
    const { blockId, datasetBlock } = await import('../../src/agent/layout.js');
    for (let i = 0; i < layout.blockCount; i++) {
      const spec = datasetBlock(layout, i);
      const data = await agent.store.read(blockId(spec), 0, spec.length);
      expect(data!.equals(concatenation.subarray(i * MiB, i * MiB + spec.length)), `block ${i}`).to.equal(true);
    }
  });

  it('never holds more than its capacity on disk, evicting least recently used blocks', async () => {
    await agent.close();
    await rm(dir, { recursive: true, force: true });
    const capacity = 2.5 * MiB;
    agent = await agentFor(remote, dir, { datasets: [DATASET], capacityBytes: capacity });
    client.destroy();
    client = clientFor(agent.s3Url);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KEYS), fc.nat(), async (key, at) => {
        const start = at % OBJECTS[key].length;
        const end = Math.min(OBJECTS[key].length - 1, start + 400_000);
        expect((await getBytes(client, BUCKET, key, [start, end])).equals(OBJECTS[key].subarray(start, end + 1))).to.equal(true);
        await agent.store.settle();
        expect(agent.store.usedBytes).to.be.at.most(capacity);
        expect(await dirBytes(dir)).to.be.at.most(capacity);
      }),
      { numRuns: 20, seed: 11 },
    );
    expect((await agent.metrics.evictions.get()).values[0].value).to.be.greaterThan(0);
  });

  it('answers 503 SlowDown when a Dataset object changed under its catalog, then serves the new bytes', async () => {
    const key = 'train/part-004';
    await getBytes(client, BUCKET, 'train/part-000', [0, 9]); // lays the Dataset out
    const version = agent.catalogs.layouts().get('ml/train')!.version;
    const replacement = bytes(OBJECTS[key].length, 77);
    await remote.direct.put(BUCKET, key, replacement);
    try {
      const err = await getBytes(client, BUCKET, key, [0, 99]).then(
        () => undefined,
        (e: { name: string; $metadata: { httpStatusCode: number } }) => e,
      );
      expect([err?.name, err?.$metadata.httpStatusCode]).to.deep.equal(['SlowDown', 503]);
      expect((await getBytes(client, BUCKET, key, [0, 99])).equals(replacement.subarray(0, 100))).to.equal(true);
      expect(agent.catalogs.layouts().get('ml/train')!.version).to.not.equal(version);
    } finally {
      await remote.direct.put(BUCKET, key, OBJECTS[key]);
    }
  });

  it('drops the blocks of a Dataset object whose new ETag a passed-through HeadObject shows', async () => {
    const key = 'train/part-005';
    await getBytes(client, BUCKET, key);
    const replacement = bytes(OBJECTS[key].length, 55);
    await remote.direct.put(BUCKET, key, replacement);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(head.ETag).to.equal(`"${createHash('md5').update(replacement).digest('hex')}"`);
      expect((await agent.metrics.invalidations.get()).values[0].value).to.equal(1);
      expect((await getBytes(client, BUCKET, key)).equals(replacement)).to.equal(true);
    } finally {
      await remote.direct.put(BUCKET, key, OBJECTS[key]);
    }
  });

  it('drops blocks of an object whose ETag changed', async () => {
    const key = 'loose/blob.bin';
    await getBytes(client, BUCKET, key, [0, 99]);
    const replacement = bytes(OBJECTS[key].length, 99);
    await remote.direct.put(BUCKET, key, replacement);
    try {
      expect((await getBytes(client, BUCKET, key, [0, 99])).equals(replacement.subarray(0, 100))).to.equal(true);
      expect((await agent.metrics.invalidations.get()).values[0].value).to.equal(1);
    } finally {
      await remote.direct.put(BUCKET, key, OBJECTS[key]);
    }
  });
});

describe('agent block chunks', () => {
  it('reads any range of a stored block, across parts and check chunks, exactly as the block', async () => {
    const dir = await tempDir();
    const store = await BlockStore.open({ dir, capacityBytes: 64 * MiB, metrics: agentMetrics(), log: silent });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 2 * CHECK_CHUNK + 7 }), { minLength: 1, maxLength: 4 }),
          fc.nat(),
          fc.nat(),
          fc.nat(),
          async (sizes, seed, a, b) => {
            const whole = bytes(
              sizes.reduce((n, s) => n + s, 0),
              seed,
            );
            let at = 0;
            const parts = sizes.map((length, i) => ({ key: `k${seed}-${i}`, etag: '"e"', offset: 0, length, at: (at += length) - length }));
            const spec = { bucket: 'data', parts: parts.map(({ at: _, ...p }) => p), length: whole.length };
            // Parts arrive interleaved, in pieces, as parallel ranged GETs deliver them.
            expect(
              await store.fetch(spec, async (_s, sink) => {
                await Promise.all(
                  parts.map(async (p, i) => {
                    for (let o = 0; o < p.length; o += 100_003) await sink(i, whole.subarray(p.at + o, p.at + Math.min(p.length, o + 100_003)));
                  }),
                );
              }),
            ).to.equal(true);
            const from = a % whole.length;
            const length = 1 + (b % (whole.length - from));
            expect((await store.read(blockId(spec), from, length))!.equals(whole.subarray(from, from + length))).to.equal(true);
          },
        ),
        { numRuns: 25 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
