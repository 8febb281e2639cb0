// The whole loop on real parts: S3 reads through the agent (s3rver remote) fill its disk; the agent
// publishes its NodeCache to the API server (in-memory, over loopback HTTP); an in-process extender
// watching that server then holds exactly what is on the agent's disk, and a restarted agent's new
// epoch replaces it.
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { ClusterDatasets } from '../../src/agent/dataset-sources.js';
import type { BlockSpec } from '../../src/agent/layout.js';
import { sortObjects, summarise } from '../../src/catalog/listing.js';
import { listObjects } from '../../src/catalog/s3.js';
import { startExtender, type RunningExtender } from '../../src/extender/server.js';
import { KubeSource } from '../../src/inventory/kube-source.js';
import { nodeCacheToSnapshot } from '../../src/inventory/nodecache.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { bytes, clientFor, getBytes, MiB, silent, tempDir } from './harness.js';
import { S3RVER_KEYS, startRemote, type Remote } from './remote.js';

const BUCKET = 'data';
const NODE = 'node-a';
const DATASET = 'ml/train';
const OBJECTS: Record<string, Buffer> = {
  'train/b-000': bytes(1500 * 1024, 31),
  'train/a-001': bytes(900 * 1024, 32),
  'train/c-002': bytes(2 * MiB + 3, 33),
  'train/c-003': bytes(400 * 1024, 34),
};

/** Dataset block indices of the block files on disk, read from the files alone. */
async function blocksOnDisk(dir: string, starts: Map<string, number>, blockSize: number): Promise<{ blocks: number[]; bytes: number }> {
  const blocks: number[] = [];
  let total = 0;
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.blk'))) {
    const fh = await open(join(dir, name), 'r');
    const prefix = Buffer.alloc(12);
    await fh.read(prefix, 0, 12, 0);
    const header = Buffer.alloc(prefix.readUInt32BE(8));
    await fh.read(header, 0, header.length, 12);
    await fh.close();
    const spec = JSON.parse(header.toString()) as BlockSpec;
    const offset = starts.get(spec.parts[0].key)! + spec.parts[0].offset;
    if (offset % blockSize === 0) {
      blocks.push(offset / blockSize);
      total += spec.length;
    }
  }
  return { blocks: blocks.sort((a, b) => a - b), bytes: total };
}

describe('agent → NodeCache → extender (s3rver, in-memory API server, in-process extender)', function () {
  this.timeout(30_000);
  let remote: Remote;
  let api: FakeApiServer;
  let kube: KubeClient;
  let ext: RunningExtender;
  let dir: string;
  let agent: Agent;
  let watcher: ClusterDatasets;
  let starts: Map<string, number>;
  let catalog: ReturnType<typeof summarise>;

  const runAgent = async () => {
    agent = await startAgent({
      s3: { host: '127.0.0.1', port: 0 },
      ops: { host: '127.0.0.1', port: 0 },
      cacheDir: dir,
      capacityBytes: 64 * MiB,
      blockSize: 4 * MiB,
      upstream: {
        endpoint: remote.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: S3RVER_KEYS.accessKeyID, secretAccessKey: S3RVER_KEYS.secretAccessKey },
      },
      relistMs: 60_000,
      publish: { client: kube, node: NODE, interval: () => 100 },
      log: silent,
    });
    watcher = new ClusterDatasets(api.kubeconfig(), kube, [remote.endpoint], (s) => agent.setDatasets(s), silent);
    await watcher.start();
  };
  const stopAgent = async () => {
    await watcher.stop();
    await agent.close();
  };

  before(async () => {
    remote = await startRemote([BUCKET]);
    for (const [key, body] of Object.entries(OBJECTS)) await remote.direct.put(BUCKET, key, body);
    // The Dataset's catalog as the operator records it, from the operator's own lister.
    const listing = await listObjects({ endpoint: remote.direct.endpoint, bucket: BUCKET, prefix: 'train/' }, S3RVER_KEYS);
    catalog = summarise(listing, MiB);
    let at = 0;
    starts = new Map(sortObjects(listing).map((o) => [o.key, (at += o.size) - o.size]));
  });
  after(async () => {
    await remote.close();
  });

  beforeEach(async () => {
    api = await FakeApiServer.start();
    api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, uid: 'uid-a', labels: { 'topology.kubernetes.io/zone': 'z1' } } });
    api.put({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { namespace: 'ml', name: 'train' },
      spec: { local: { type: 'S3', endpoint: remote.endpoint, bucket: BUCKET, prefix: 'train/' } },
      status: { catalog: { ...catalog, refreshedAt: new Date().toISOString() } },
    });
    kube = createKubeClient(api.kubeconfig());
    ext = await startExtender({ source: new KubeSource(api.kubeconfig(), kube), host: '127.0.0.1', port: 0 });
    await ext.synced;
    dir = await tempDir();
    await runAgent();
  });
  afterEach(async () => {
    await stopAgent();
    await ext.close();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The extender's view of the node equals what the agent's disk holds, block for block. */
  async function expectExtenderMatchesDisk(epoch: string): Promise<void> {
    const disk = await blocksOnDisk(dir, starts, catalog.blockSize);
    await eventually(
      () => {
        expect(ext.index.position(NODE)?.epoch).to.equal(epoch);
        expect(ext.index.cachedBytes(NODE, DATASET, Date.now())).to.equal(disk.bytes);
        expect(ext.index.stats(Date.now()).blocks).to.equal(disk.blocks.length);
        const snap = nodeCacheToSnapshot(api.object('nodecaches', NODE))!;
        expect([...snap.datasets[0].blocks!]).to.deep.equal(disk.blocks);
        expect(snap.datasets[0].catalogVersion).to.equal(catalog.version);
      },
      { timeoutMs: 5000 },
    );
  }

  it("publishes the Dataset blocks it holds, and a restart's new epoch reaches the extender with the same blocks", async () => {
    let s3: S3Client = clientFor(agent.s3Url);
    expect((await getBytes(s3, BUCKET, 'train/b-000', [0, 10])).equals(OBJECTS['train/b-000'].subarray(0, 11))).to.equal(true);
    expect((await getBytes(s3, BUCKET, 'train/c-002')).equals(OBJECTS['train/c-002'])).to.equal(true);
    s3.destroy();
    const disk = await blocksOnDisk(dir, starts, catalog.blockSize);
    expect(disk.blocks.length).to.be.within(3, catalog.blockCount - 1);
    const firstEpoch = agent.epoch;
    await expectExtenderMatchesDisk(firstEpoch);

    await stopAgent();
    await runAgent();
    expect(agent.epoch).to.not.equal(firstEpoch);
    await expectExtenderMatchesDisk(agent.epoch);

    s3 = clientFor(agent.s3Url);
    expect((await getBytes(s3, BUCKET, 'train/a-001')).equals(OBJECTS['train/a-001'])).to.equal(true);
    s3.destroy();
    await expectExtenderMatchesDisk(agent.epoch);
  });

  it('follows a new catalog version: blocks whose bytes did not move keep counting', async () => {
    const s3 = clientFor(agent.s3Url);
    for (const key of Object.keys(OBJECTS)) await getBytes(s3, BUCKET, key);
    s3.destroy();
    await expectExtenderMatchesDisk(agent.epoch);
    const before = (await blocksOnDisk(dir, starts, catalog.blockSize)).blocks;
    expect(before).to.deep.equal([...Array(catalog.blockCount).keys()]);

    // An object appended in key order: every block but the last, partial one keeps its bytes.
    await remote.direct.put(BUCKET, 'train/d-004', bytes(300_000, 35));
    const old = { catalog, starts };
    try {
      const listing = await listObjects({ endpoint: remote.direct.endpoint, bucket: BUCKET, prefix: 'train/' }, S3RVER_KEYS);
      catalog = summarise(listing, MiB);
      let at = 0;
      starts = new Map(sortObjects(listing).map((o) => [o.key, (at += o.size) - o.size]));
      const ds = api.object('datasets', 'train', 'ml')!;
      api.put({ ...ds, status: { catalog: { ...catalog, refreshedAt: new Date().toISOString() } } });
      await eventually(() => expect(nodeCacheToSnapshot(api.object('nodecaches', NODE))!.datasets[0].catalogVersion).to.equal(catalog.version), {
        timeoutMs: 5000,
      });
      expect(ext.index.position(NODE)?.epoch).to.equal(agent.epoch);
      const snap = nodeCacheToSnapshot(api.object('nodecaches', NODE))!;
      expect([...snap.datasets[0].blocks!]).to.deep.equal(before.slice(0, -1));
    } finally {
      catalog = old.catalog;
      starts = old.starts;
      const direct = clientFor(remote.direct.endpoint);
      await direct.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'train/d-004' }));
      direct.destroy();
    }
  });

  it('keeps serving reads while the API server is down', async () => {
    await api.goOffline();
    const s3 = clientFor(agent.s3Url);
    const t0 = Date.now();
    expect((await getBytes(s3, BUCKET, 'train/c-003')).equals(OBJECTS['train/c-003'])).to.equal(true);
    expect(Date.now() - t0).to.be.below(5000); // reads never wait for the NodeCache writes failing meanwhile
    s3.destroy();
    await api.goOnline();
  });
});
