// Peer fill on real parts: two agents in this process (two ports, two cache directories) in front of
// one s3rver, publishing their NodeCaches to the in-memory API server (with the generated CRDs) and
// watching each other's. Agent B is reached through a loopback proxy that can cut, corrupt or stall its
// answers. Each of the Dataset's objects is exactly one 1 MiB block, so block i is object i and the
// remote's log tells which blocks were read from the object store.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import type { Counter } from 'prom-client';
import type { Agent } from '../../src/agent/agent.js';
import { BlockStore, type BlockLoader } from '../../src/agent/block-store.js';
import type { DatasetSource } from '../../src/agent/catalogs.js';
import { blockIds } from '../../src/agent/inventory.js';
import { blockId, type BlockSpec } from '../../src/agent/layout.js';
import { PEER_BLOCK_PARAM } from '../../src/agent/peer-fill.js';
import { signSigV4 } from '../../src/agent/sigv4.js';
import { rank } from '../../src/core/zone-copies.js';
import { agentCredentials } from '../../src/api/agent-credentials.js';
import type { NodeCache } from '../../src/api/nodecache.js';
import { createKubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { agentMetrics } from '../../src/metrics/agent.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { agentFor, bytes, getBytes, MiB, silent, tempDir, spawnLocus } from './harness.js';
import { S3RVER_KEYS, startRemote, type Remote } from './remote.js';
import { freePort } from '../support/free-port.js';

const BUCKET = 'data';
const TRAIN: DatasetSource = { namespace: 'ml', name: 'train', bucket: BUCKET, prefix: 'ds/', blockSize: MiB };
/** Four 300,000-byte objects in 1 MiB blocks: block 0 is made of parts of all four, block 1 is the last one's tail. */
const SMALL: DatasetSource = { namespace: 'ml', name: 'small', bucket: BUCKET, prefix: 'small/', blockSize: MiB };
const smallKey = (i: number) => `small/obj-${i}`;
const smallBody = (i: number) => bytes(300_000, 500 + i);
const OTHER: DatasetSource = { namespace: 'other', name: 'secret', bucket: BUCKET, prefix: 'other/', blockSize: MiB };
const key = (i: number) => `ds/obj-${i}`;
const body = (i: number) => bytes(MiB, 300 + i);
const sum = async (m: Counter, labels: Record<string, string> = {}) =>
  (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);

type Mode = 'pass' | 'cut' | 'corrupt' | 'stall';

/** A loopback proxy in front of an agent: passes answers through, or cuts, corrupts or stalls them. */
async function peerProxy() {
  const state = { target: '', mode: 'pass' as Mode, requests: 0 };
  const held = new Set<{ destroy(): void }>();
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (state.mode === 'stall') {
      held.add(res);
      return;
    }
    const t = new URL(state.target);
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      let sent = 0;
      r.on('data', (chunk: Buffer) => {
        if (state.mode === 'cut' && sent + chunk.length > 200_000) {
          res.socket?.destroy();
          r.destroy();
          return;
        }
        if (state.mode === 'corrupt' && sent === 0) chunk[10] ^= 0xff;
        sent += chunk.length;
        res.write(chunk);
      });
      r.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('agent peer fill (two agents, s3rver, in-memory API server)', function () {
  this.timeout(30_000);
  /** An agent key as a key file holds it: the bytes of one line. */
  const keys = [Buffer.from(randomBytes(48).toString('base64'))];
  let remote: Remote;
  let api: FakeApiServer;
  let a: Agent;
  let b: Agent;
  let proxy: Awaited<ReturnType<typeof peerProxy>>;
  /** A's address for peers (passes answers through). */
  let proxyA: Awaited<ReturnType<typeof peerProxy>>;
  let dirs: string[];
  /** A `locus agent` process, in the test that starts one. */
  let child: ChildProcess | undefined;

  const clientOf = (agent: Agent, source = TRAIN) => {
    const c = agentCredentials(keys[0], source.namespace, source.name);
    return new S3Client({
      endpoint: agent.s3Url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: c.accessKeyID, secretAccessKey: c.secretAccessKey },
      maxAttempts: 1,
    });
  };

  /** Agents A (node-a, zone-a) and B (node-b, in `zoneB`); B is advertised through the proxy. */
  async function setup(zoneB = 'zone-a', opts: { refuseLabel?: boolean; capacityBytes?: number; sources?: DatasetSource[] } = {}): Promise<void> {
    remote = await startRemote([BUCKET]);
    for (const i of [0, 1, 2, 3]) await remote.direct.put(BUCKET, key(i), body(i));
    await remote.direct.put(BUCKET, 'other/x', bytes(1000, 9));
    for (const i of [0, 1, 2, 3]) await remote.direct.put(BUCKET, smallKey(i), smallBody(i));
    api = await FakeApiServer.start();
    api.loadCrds('crds');
    for (const n of ['node-a', 'node-b']) api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: n, uid: `uid-${n}` } });
    // B's NodeCache as an agent without peer fill left it (no zone label).
    api.put({ apiVersion: 'locus.dev/v1alpha1', kind: 'NodeCache', metadata: { name: 'node-b' }, spec: { nodeName: 'node-b' } });
    if (opts.refuseLabel) api.failNext(1, { code: 403, verb: 'patch', resource: 'nodecaches' });
    const kube = createKubeClient(api.kubeconfig());
    proxy = await peerProxy();
    proxyA = await peerProxy();
    dirs = [await tempDir(), await tempDir()];
    const start = (node: string, zone: string, dir: string, url?: string) =>
      agentFor(remote, dir, {
        auth: { keys },
        datasets: opts.sources ?? [TRAIN, SMALL, OTHER],
        publish: { client: kube, node, interval: () => 50 },
        ...(opts.capacityBytes ? { capacityBytes: opts.capacityBytes, readAhead: 0 } : {}),
        peers: { kc: api.kubeconfig(), client: kube, node, zone, ...(url ? { url } : {}), timeoutMs: 1000, ttlMs: 60_000 },
      });
    b = await start('node-b', zoneB, dirs[1], proxy.url);
    proxy.state.target = b.s3Url;
    a = await start('node-a', 'zone-a', dirs[0], proxyA.url);
    proxyA.state.target = a.s3Url;
  }

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    child = undefined;
    await a?.close();
    await b?.close();
    await proxy?.close();
    await proxyA?.close();
    await api?.close();
    await remote?.close();
    for (const d of dirs ?? []) await rm(d, { recursive: true, force: true });
  });

  /** B reads object i (so holds block i) and A's directory of peers shows it. */
  async function bHolds(i: number): Promise<void> {
    expect(await getBytes(clientOf(b), BUCKET, key(i))).to.deep.equal(body(i));
    const version = b.catalogs.current('ml/train')!.version;
    await eventually(() => expect(a.peerDirectory!.holders('ml/train', version, MiB, i)).to.have.length(1));
  }

  it('fills blocks from the peer of its zone both ways, byte-identical, and the object store sees no read of them', async () => {
    await setup();
    await bHolds(1);
    remote.requests.length = 0;
    expect(await getBytes(clientOf(a), BUCKET, key(1))).to.deep.equal(body(1));
    expect(remote.gets(BUCKET, key(1))).to.have.length(0);
    expect(await sum(a.metrics.filledBlocks, { source: 'peer' })).to.equal(1);
    expect(await sum(a.metrics.filledBytes, { source: 'peer' })).to.equal(MiB);
    expect(await sum(a.metrics.filledBytes, { source: 'upstream' })).to.equal(0);
    expect(await sum(b.metrics.requests, { operation: 'PeerBlock', code: '200' })).to.equal(1);
    // Served again from A's own disk, and reported in A's inventory for the next reader of the zone.
    expect(await getBytes(clientOf(a), BUCKET, key(1), [5, 99])).to.deep.equal(body(1).subarray(5, 100));
    expect(proxy.state.requests).to.equal(1);
    // The other way round: a block A read from the object store, B reads from A.
    expect(await getBytes(clientOf(a), BUCKET, key(0))).to.deep.equal(body(0));
    const version = a.catalogs.current('ml/train')!.version;
    await eventually(() => expect(b.peerDirectory!.holders('ml/train', version, MiB, 0)).to.have.length(1));
    remote.requests.length = 0;
    expect(await getBytes(clientOf(b), BUCKET, key(0))).to.deep.equal(body(0));
    expect(remote.gets(BUCKET, key(0))).to.have.length(0);
    expect(await sum(b.metrics.filledBlocks, { source: 'peer' })).to.equal(1);
    expect(proxyA.state.requests).to.equal(1);
    // B's NodeCache, left without a zone label, was labelled, so the agents of zone-a watch it.
    expect(api.object('nodecaches', 'node-b')!.metadata.labels).to.deep.equal({ 'topology.kubernetes.io/zone': 'zone-a' });
  });

  for (const zoneCopies of [undefined, 2]) {
    it(`when capacity is tight, ${zoneCopies ? "keeps both copies with the Dataset's zoneCopies 2 (plain LRU)" : 'keeps one copy per zone: of blocks both agents hold, the holder ranked behind evicts its copy first'}`, async () => {
      await setup('zone-a', { capacityBytes: 3.5 * MiB, sources: [{ ...TRAIN, ...(zoneCopies ? { zoneCopies } : {}) }] });
      for (const i of [0, 1, 2]) await bHolds(i);
      // A reads 0, 1, 2 (from B): full at three blocks, so block 3 needs the room of one.
      for (const i of [0, 1, 2, 3]) expect(await getBytes(clientOf(a), BUCKET, key(i))).to.deep.equal(body(i));
      await a.store.settle();
      const ids = blockIds(a.catalogs.current('ml/train')!).ids;
      const behind = [0, 1, 2].filter((i) => rank(ids[i], 'node-a') < rank(ids[i], 'node-b'));
      expect(behind.length, 'these blocks must rank A behind B for one of them, or the test shows nothing').to.be.greaterThan(0);
      const victim = zoneCopies ? 0 : behind[0];
      expect([0, 1, 2, 3].map((i) => a.store.has(ids[i]))).to.deep.equal([0, 1, 2, 3].map((i) => i !== victim));
      expect(await sum(a.metrics.surplusEvictions)).to.equal(zoneCopies ? 0 : 1);
      expect(await sum(a.metrics.evictions)).to.equal(1);
    });
  }

  for (const [mode, reason] of [
    ['cut', 'transfer'],
    ['corrupt', 'checksum'],
    ['stall', 'timeout'],
  ] as const) {
    it(`falls back to the object store when the peer's answer is ${mode === 'cut' ? 'cut mid-transfer' : mode === 'corrupt' ? 'corrupt' : 'late'}`, async () => {
      await setup();
      await bHolds(2);
      proxy.state.mode = mode;
      remote.requests.length = 0;
      expect(await getBytes(clientOf(a), BUCKET, key(2))).to.deep.equal(body(2));
      expect(proxy.state.requests).to.equal(1);
      expect(remote.gets(BUCKET, key(2))).to.have.length(1);
      expect(await sum(a.metrics.peerFailures, { reason })).to.equal(1);
      expect(await sum(a.metrics.filledBlocks, { source: 'upstream' })).to.equal(1);
      expect(await sum(a.metrics.filledBlocks, { source: 'peer' })).to.equal(0);
      expect(await a.store.read(blockIds(a.catalogs.current('ml/train')!).ids[2], 0, MiB)).to.deep.equal(body(2));
    });
  }

  it('`locus agent` reads its zone from its Node, advertises --peer-url and answers a peer in process', async () => {
    await setup();
    await b.close();
    api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b', uid: 'uid-node-b', labels: { 'topology.kubernetes.io/zone': 'zone-a' } } });
    const port = await freePort();
    const dir = dirs[1];
    await writeFile(join(dir, 'key'), keys[0]);
    await writeFile(join(dir, 'datasets.yaml'), `datasets:\n  - {namespace: ml, name: train, bucket: ${BUCKET}, prefix: ds/, blockSize: ${MiB}}\n`);
    child = spawnLocus(
      [
        'agent',
        `--upstream=${remote.endpoint}`,
        `--listen=127.0.0.1:${port}`,
        '--ops-listen=127.0.0.1:0',
        `--cache-dir=${join(dir, 'cache')}`,
        '--capacity=64Mi',
        `--datasets=${join(dir, 'datasets.yaml')}`,
        '--node=node-b',
        `--kubeconfig=${api.writeKubeconfig(join(dir, 'kubeconfig'))}`,
        '--report-interval=100ms',
        `--auth-key-file=${join(dir, 'key')}`,
        `--peer-url=http://127.0.0.1:${port}`,
        '--log-level=warn',
      ],
      {
        env: { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_KEYS.accessKeyID, AWS_SECRET_ACCESS_KEY: S3RVER_KEYS.secretAccessKey },
        stdio: 'ignore',
      },
    );
    const viaChild = clientOf({ s3Url: `http://127.0.0.1:${port}` } as Agent);
    await eventually(async () => expect(await getBytes(viaChild, BUCKET, key(2))).to.deep.equal(body(2)), { timeoutMs: 20_000, intervalMs: 200 });
    const version = a.catalogs.current('ml/train')?.version ?? (await a.catalogs.layout(TRAIN))!.version;
    await eventually(() => expect(a.peerDirectory!.holders('ml/train', version, MiB, 2)).to.deep.equal([{ node: 'node-b', url: `http://127.0.0.1:${port}` }]), {
      timeoutMs: 10_000,
    });
    remote.requests.length = 0;
    expect(await getBytes(clientOf(a), BUCKET, key(2))).to.deep.equal(body(2));
    expect(remote.gets(BUCKET, key(2))).to.have.length(0);
    expect(await sum(a.metrics.filledBlocks, { source: 'peer' })).to.equal(1);
  });

  it('fills a block made of parts of several objects from the peer', async () => {
    await setup();
    for (const i of [0, 1, 2, 3]) expect(await getBytes(clientOf(b, SMALL), BUCKET, smallKey(i))).to.deep.equal(smallBody(i));
    const version = b.catalogs.current('ml/small')!.version;
    await eventually(() => expect(a.peerDirectory!.holders('ml/small', version, MiB, 0)).to.have.length(1));
    remote.requests.length = 0;
    expect(await getBytes(clientOf(a, SMALL), BUCKET, smallKey(2), [1000, 299_999])).to.deep.equal(smallBody(2).subarray(1000));
    expect(remote.requests.filter((r) => r.method === 'GET' && r.url.startsWith(`/${BUCKET}/small/`))).to.have.length(0);
    const id = blockIds(a.catalogs.current('ml/small')!).ids[0];
    expect(a.store.spec(id)!.parts).to.have.length(4);
    expect(await a.store.read(id, 0, MiB)).to.deep.equal(Buffer.concat([0, 1, 2, 3].map(smallBody)).subarray(0, MiB));
  });

  it('publishes the inventory even when its NodeCache may not be labelled (no peer then reads from it)', async () => {
    await setup('zone-a', { refuseLabel: true });
    expect(await getBytes(clientOf(b), BUCKET, key(1))).to.deep.equal(body(1));
    const status = () => api.object<NodeCache & KubeObject>('nodecaches', 'node-b')?.status;
    await eventually(() => expect(status()?.datasets).to.have.length(1));
    expect(api.object('nodecaches', 'node-b')!.metadata.labels).to.equal(undefined);
    remote.requests.length = 0;
    expect(await getBytes(clientOf(a), BUCKET, key(1))).to.deep.equal(body(1));
    expect(remote.gets(BUCKET, key(1))).to.have.length(1);
    expect(proxy.state.requests).to.equal(0);
  });

  it('asks no peer of another zone', async () => {
    await setup('zone-b');
    expect(await getBytes(clientOf(b), BUCKET, key(3))).to.deep.equal(body(3));
    // B's NodeCache (zone-b) holds the block, but A watches only its zone's NodeCaches and keeps no peer of another.
    const status = () => api.object<NodeCache & KubeObject>('nodecaches', 'node-b')?.status;
    await eventually(() => expect(status()?.datasets).to.have.length(1));
    expect(status()?.peer).to.deep.equal({ url: proxy.url, zone: 'zone-b' });
    await new Promise((resolve) => setTimeout(resolve, 200)); // a watch would have delivered it by now
    remote.requests.length = 0;
    expect(await getBytes(clientOf(a), BUCKET, key(3))).to.deep.equal(body(3));
    expect(proxy.state.requests).to.equal(0);
    expect(remote.gets(BUCKET, key(3))).to.have.length(1);
  });

  it('answers a peer read only when signed for the Dataset, and only from its cache', async () => {
    await setup();
    await bHolds(0);
    const id = blockIds(b.catalogs.current('ml/train')!).ids[0];
    const path = (k: string, block: string) => `/${BUCKET}/${k}?${PEER_BLOCK_PARAM}=${block}`;
    const get = async (p: string, secret?: { accessKeyId: string; secretAccessKey: string }) => {
      const url = new URL(p, b.s3Url);
      const headers = secret ? signSigV4({ method: 'GET', url: p, host: url.host }, secret, 'us-east-1', Date.now()) : {};
      delete headers.host;
      const res = await fetch(url, { headers });
      const text = await res.text();
      return { status: res.status, code: /<Code>(\w+)<\/Code>/.exec(text)?.[1], digest: res.headers.get('x-locus-block-digest') };
    };
    const train = agentCredentials(keys[0], 'ml', 'train');
    const other = agentCredentials(keys[0], 'other', 'secret');
    const as = (c: { accessKeyID: string; secretAccessKey: string }) => ({ accessKeyId: c.accessKeyID, secretAccessKey: c.secretAccessKey });
    expect(await get(path(key(0), id))).to.include({ status: 403, code: 'AccessDenied' });
    expect(await get(path(key(0), id), { ...as(train), secretAccessKey: as(other).secretAccessKey })).to.include({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    // Signed for another Dataset: its prefix holds neither the key asked for nor the block's parts.
    expect(await get(path(key(0), id), as(other))).to.include({ status: 403, code: 'AccessDenied' });
    expect(await get(path('other/x', id), as(other))).to.include({ status: 403, code: 'AccessDenied' });
    const ok = await get(path(key(0), id), as(train));
    expect(ok.status).to.equal(200);
    expect(ok.digest).to.match(/^[0-9a-f]{64}$/);
    // A block B does not hold: 404, and B does not read the object store for the asker.
    remote.requests.length = 0;
    const missing = blockIds(b.catalogs.current('ml/train')!).ids[3];
    expect(await get(path(key(3), missing), as(train))).to.include({ status: 404, code: 'NoSuchKey' });
    expect(remote.requests).to.have.length(0);
  });
});

describe('agent block store: sources in turn, surplus copies evicted first', function () {
  this.timeout(20_000);
  const spec = (i: number): BlockSpec => ({ bucket: 'data', parts: [{ key: `ds/obj-${i}`, etag: '"e"', offset: 0, length: MiB }], length: MiB });
  const data = bytes(MiB, 5);
  const upstream: BlockLoader = (s, sink) => sink(0, data.subarray(0, s.length));
  const peer =
    (digest?: string): BlockLoader =>
    async (s, sink) => {
      await sink(0, data.subarray(0, s.length));
      return { source: 'peer', ...(digest ? { digest } : {}) };
    };
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a peer block only when its bytes match the digest it came with; else loads from the next source', async () => {
    const metrics = agentMetrics();
    const store = await BlockStore.open({ dir, capacityBytes: 64 * MiB, metrics, log: silent });
    const failovers: unknown[] = [];
    expect(await store.fetch(spec(1), [peer('0'.repeat(64)), upstream], { onFailover: (e) => failovers.push(e) })).to.equal(true);
    expect(failovers).to.have.length(1);
    const digest = await store.digest(blockId(spec(1)));
    expect(await store.fetch(spec(2), [peer(digest), upstream])).to.equal(true);
    expect(await store.read(blockId(spec(2)), 0, MiB)).to.deep.equal(data);
    expect(await sum(metrics.filledBlocks, { source: 'peer' })).to.equal(1);
    expect(await sum(metrics.filledBlocks, { source: 'upstream' })).to.equal(1);
  });

  it('evicts an unpinned surplus copy before older blocks of which the zone has no other copy, but keeps a pinned one', async () => {
    // Room for three blocks (a block file is a little larger than its data).
    const store = await BlockStore.open({ dir, capacityBytes: 3.5 * MiB, pinShare: 0.5, metrics: agentMetrics(), log: silent });
    const surplus = new Set([blockId(spec(2)), blockId(spec(5))]);
    store.setSurplus((id) => surplus.has(id));
    await store.fetch(spec(1), upstream);
    await store.fetch(spec(2), peer());
    await store.fetch(spec(3), upstream);
    await store.read(blockId(spec(2)), 0, 10); // the surplus copy is the most recently used
    await store.fetch(spec(4), upstream);
    await store.settle();
    expect([1, 2, 3, 4].map((i) => store.has(blockId(spec(i))))).to.deep.equal([true, false, true, true]);
    // Pinned (a pod of this node will read it), a surplus copy stays: the least recently used other block goes.
    await store.fetch(spec(5), peer());
    store.setDemand([blockId(spec(5))]);
    await store.fetch(spec(6), upstream);
    await store.settle();
    expect([1, 3, 4, 5, 6].map((i) => store.has(blockId(spec(i))))).to.deep.equal([false, false, true, true, true]);
  });
});
