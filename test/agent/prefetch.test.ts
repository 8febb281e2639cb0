// Prefetch on bind, end to end on real parts: pods created in the in-memory API server and bound to the
// agent's node make it fetch the blocks of their slices from s3rver in the background, within budgets,
// after real reads, and no longer once the pods go; what bound pods read stays pinned; the NodeCache
// shows what was fetched. Each of the Dataset's 12 objects is exactly one 1 MiB block, so block i is
// object i and the remote's log tells which blocks the agent fetched, in what order.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import type { Counter, Gauge } from 'prom-client';
import type { Agent } from '../../src/agent/agent.js';
import { ClusterDatasets } from '../../src/agent/dataset-sources.js';
import { blockIds } from '../../src/agent/inventory.js';
import { nodeCacheToSnapshot } from '../../src/inventory/nodecache.js';
import type { KubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { JOBS, PODS } from '../../src/kube/resources.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { bytes, clientFor, getBytes, MiB, spawnLocus } from './harness.js';
import { nodeAgent, nodeWorld, BUCKET, NODE, type NodeSetup, type NodeWorld } from './node-world.js';
import { S3RVER_KEYS, type Remote } from './remote.js';

const BLOCKS = 12;
/** Objects ds/p0/obj-00 … ds/p0/obj-05 and ds/p1/obj-06 … ds/p1/obj-11: top-level prefixes p0/ and p1/. */
const key = (i: number) => `ds/p${i < 6 ? 0 : 1}/obj-${String(i).padStart(2, '0')}`;
const body = (i: number) => bytes(MiB, 100 + i);
const all = [...Array(BLOCKS).keys()];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const value = async (m: Counter | Gauge) => (await m.get()).values.reduce((n, v) => n + v.value, 0);

describe('agent prefetch on bind and pins (s3rver, in-memory API server)', function () {
  this.timeout(60_000);
  let remote: Remote;
  let api: FakeApiServer;
  let kube: KubeClient;
  let agent: Agent;
  let datasets: ClusterDatasets;
  let world: NodeWorld;
  /** The agent and its Dataset watch run in this process (else `child` is a `locus agent` process). */
  let inProcess = false;
  let child: ChildProcess | undefined;
  let dir: string;

  /** s3rver holding the Dataset's objects, and the API server holding the node and the Dataset with its catalog. */
  async function cluster(s: NodeSetup): Promise<void> {
    world = await nodeWorld(
      all.map((i) => [key(i), body(i)]),
      s,
    );
    ({ remote, api, kube, dir } = world);
    expect(world.catalog.prefixes?.map((p) => [p.prefix, p.firstBlock, p.lastBlock])).to.deep.equal([
      ['p0/', 0, 5],
      ['p1/', 6, 11],
    ]);
  }

  /** The cluster, and an agent of node-a in this process. */
  async function setup(s: NodeSetup = {}): Promise<void> {
    await cluster(s);
    ({ agent, datasets } = await nodeAgent(world, s));
    inProcess = true;
  }

  afterEach(async () => {
    if (inProcess) {
      await datasets.stop();
      await agent.close();
    }
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    [inProcess, child] = [false, undefined];
    await api.close();
    await remote.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A pod of `ml` reading Dataset train, bound to `node`. */
  const bind = (name: string, annotations: Record<string, string> = {}, node = NODE) =>
    kube.create(PODS, {
      metadata: { namespace: 'ml', name, labels: { 'dataset.0.id': 'train' }, annotations },
      spec: { nodeName: node, containers: [{ name: 'main', image: 'registry.example/reader:1' }] },
    });
  /** An S3 client of the agent that has made its first request (set up its connection), so a timed read is only the read. */
  const warmClient = async () => {
    const s3 = clientFor(agent.s3Url);
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    return s3;
  };
  /** Dataset block indices on the agent's disk. */
  const held = () => [...(agent.holdings().find((h) => h.inventory.dataset === 'ml/train')?.inventory.blocks ?? [])];
  /** Block indices the agent fetched from the remote (ranged GETs), in the order it asked. */
  const fetched = () => remote.requests.filter((r) => r.method === 'GET' && r.headers.range).map((r) => Number(/obj-(\d+)/.exec(r.url)![1]));
  const published = () => [...(nodeCacheToSnapshot(api.object('nodecaches', NODE))?.datasets.find((d) => d.dataset === 'ml/train')?.blocks ?? [])];
  /** No prefetch queued or fetching. */
  const settled = () =>
    eventually(
      async () => {
        expect(await value(agent.metrics.prefetchQueued)).to.equal(0);
        const { ids } = blockIds(agent.catalogs.layouts().get('ml/train')!);
        expect(ids.some((id) => agent.store.isFetching(id))).to.equal(false);
      },
      { timeoutMs: 20_000 },
    );

  it("prefetches exactly a bound pod's slice, not pods of other nodes, and its NodeCache shows it", async () => {
    await setup();
    await bind('elsewhere', {}, 'node-b'); // the whole Dataset, on another node: not this agent's business
    await bind('reader', { 'locus.dev/slice': 'blocks 2-4' });
    await eventually(() => expect(held()).to.deep.equal([2, 3, 4]), { timeoutMs: 10_000 });
    await settled();
    expect(fetched().sort((a, b) => a - b)).to.deep.equal([2, 3, 4]);
    expect(held()).to.deep.equal([2, 3, 4]);
    expect(await value(agent.metrics.prefetchedBlocks)).to.equal(3);
    expect(await value(agent.metrics.prefetchedBytes)).to.equal(3 * MiB);
    expect(await value(agent.metrics.prefetchPods)).to.equal(1);
    expect(await value(agent.metrics.pinnedBlocks)).to.equal(3);
    await eventually(() => expect(published()).to.deep.equal([2, 3, 4]), { timeoutMs: 10_000 });
    // The prefetched blocks are served from disk.
    expect((await getBytes(clientFor(agent.s3Url), BUCKET, key(3))).equals(body(3))).to.equal(true);
    expect(fetched()).to.have.length(3);
  });

  it('prefetches a prefix slice through the catalog prefixes, and the whole Dataset for a pod without a slice', async () => {
    await setup();
    await bind('partition', { 'locus.dev/slice': 'prefix p1/' });
    await eventually(() => expect(held()).to.deep.equal([6, 7, 8, 9, 10, 11]), { timeoutMs: 10_000 });
    await settled();
    expect(held()).to.deep.equal([6, 7, 8, 9, 10, 11]);
    await bind('everything');
    await eventually(() => expect(held()).to.deep.equal(all), { timeoutMs: 10_000 });
    expect(fetched().sort((a, b) => a - b)).to.deep.equal(all);
  });

  it("prefetches an Indexed Job pod's shard, its count read from the Job", async () => {
    await setup();
    api.register(JOBS);
    const job = await kube.create<KubeObject>(JOBS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { namespace: 'ml', name: 'resize' },
      spec: { completions: 4, completionMode: 'Indexed', template: {} },
    });
    await kube.create(PODS, {
      metadata: {
        namespace: 'ml',
        name: 'resize-2',
        labels: { 'dataset.0.id': 'train' },
        annotations: { 'batch.kubernetes.io/job-completion-index': '2' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'resize', uid: job.metadata.uid!, controller: true }],
      },
      spec: { nodeName: NODE, containers: [{ name: 'main', image: 'registry.example/resize:1' }] },
    });
    await eventually(() => expect(held()).to.deep.equal([6, 7, 8]), { timeoutMs: 10_000 }); // shard 2/4 of 12 blocks
    await settled();
    expect(fetched().sort((a, b) => a - b)).to.deep.equal([6, 7, 8]);
  });

  it('serves a real read before the prefetches queued behind it, from a slow remote', async () => {
    await setup({ slowReadsMs: 150, prefetch: { concurrency: 1 } });
    const s3 = await warmClient();
    await bind('reader');
    await eventually(async () => expect(await value(agent.metrics.prefetchedBlocks)).to.be.at.least(2), { timeoutMs: 10_000 });
    const askedBefore = fetched().length;
    expect(askedBefore).to.be.below(BLOCKS - 2);
    const data = await getBytes(s3, BUCKET, key(11));
    const prefetchedByThen = await value(agent.metrics.prefetchedBlocks);
    expect(data.equals(body(11))).to.equal(true);
    // The remote answers in arrival order: the read's block was asked for right behind the prefetch
    // running when it came (one more may have started while the request reached the store), and was
    // served while most of the prefetch still waited.
    expect(fetched().indexOf(11)).to.be.at.most(askedBefore + 1);
    expect(prefetchedByThen).to.be.at.most(askedBefore + 1);
    await eventually(() => expect(held()).to.deep.equal(all), { timeoutMs: 20_000 });
    expect(
      fetched().filter((b) => b === 11),
      'block 11 fetched once',
    ).to.have.length(1);
    expect(fetched()).to.have.length(BLOCKS);
  });

  it('joins a prefetch already fetching the block a read wants: one remote read', async () => {
    await setup({ slowReadsMs: 1000, prefetch: { concurrency: 1 } });
    const s3 = await warmClient();
    await bind('reader');
    await eventually(() => expect(fetched()).to.include(0), { timeoutMs: 10_000 });
    const data = await getBytes(s3, BUCKET, key(0));
    expect(data.equals(body(0))).to.equal(true);
    expect(await value(agent.metrics.hits), 'not on disk yet when read').to.equal(0);
    expect(fetched().filter((b) => b === 0)).to.have.length(1);
    expect(await value(agent.metrics.fetches)).to.be.at.most(2);
  });

  for (const how of ['deleted', 'finished'] as const) {
    it(`stops prefetching for a pod ${how === 'deleted' ? 'that is deleted' : 'that succeeded'}, and unpins its blocks`, async () => {
      await setup({ slowReadsMs: 100, prefetch: { concurrency: 1 } });
      await bind('reader');
      await eventually(async () => expect(await value(agent.metrics.prefetchedBlocks)).to.be.at.least(2), { timeoutMs: 10_000 });
      if (how === 'deleted') await kube.delete(PODS, { namespace: 'ml', name: 'reader' });
      else await kube.mergePatchStatus(PODS, { namespace: 'ml', name: 'reader' }, { status: { phase: 'Succeeded' } });
      await eventually(async () => expect(await value(agent.metrics.prefetchCancelled)).to.be.above(0), { timeoutMs: 10_000 });
      await settled();
      const asked = fetched().length;
      await sleep(400); // four of the remote's delays: nothing more is asked for
      expect(fetched()).to.have.length(asked);
      expect(asked).to.be.below(BLOCKS);
      expect(held().length).to.equal(asked);
      expect(await value(agent.metrics.pinnedBlocks)).to.equal(0);
      expect(await value(agent.metrics.prefetchPods)).to.equal(0);
      expect(await value(agent.metrics.prefetchCancelled)).to.equal(BLOCKS - asked);
    });
  }

  it('keeps the blocks a bound pod reads when other reads fill the cache, until the pod goes', async () => {
    // Room for six blocks; half of it may be pinned.
    await setup({ capacityBytes: 6 * MiB + 64 * 1024, pinShare: 0.5 });
    await bind('reader', { 'locus.dev/slice': 'blocks 0-2' });
    await eventually(() => expect(held()).to.deep.equal([0, 1, 2]), { timeoutMs: 10_000 });
    await settled();
    expect(await value(agent.metrics.pinnedBlocks)).to.equal(3);
    expect(await value(agent.metrics.pinnedBytes)).to.equal(agent.store.pinnedBytes);
    const s3 = clientFor(agent.s3Url);
    for (let i = 3; i < BLOCKS; i++) expect((await getBytes(s3, BUCKET, key(i))).equals(body(i))).to.equal(true);
    await agent.store.settle();
    expect(held()).to.include.members([0, 1, 2]);
    expect(held()).to.have.length.at.most(6);
    expect((await agent.metrics.evictions.get()).values.find((v) => v.labels.reason === 'capacity')?.value).to.be.at.least(3);
    await kube.delete(PODS, { namespace: 'ml', name: 'reader' });
    await eventually(async () => expect(await value(agent.metrics.pinnedBlocks)).to.equal(0));
    for (let i = 3; i < 6; i++) await getBytes(s3, BUCKET, key(i));
    await agent.store.settle();
    expect(
      held().filter((b) => b <= 2),
      'unpinned, the least recently used go',
    ).to.deep.equal([]);
  });

  it('counts a prefetch the remote fails and goes on with the rest, without retrying it in a loop', async () => {
    await setup();
    await bind('first', { 'locus.dev/slice': 'blocks 0' }); // the Dataset's listing is loaded and agrees with its catalog
    await eventually(() => expect(held()).to.deep.equal([0]), { timeoutMs: 10_000 });
    await clientFor(remote.direct.endpoint).send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key(5) }));
    await bind('second', { 'locus.dev/slice': 'blocks 4-6' });
    await eventually(() => expect(held()).to.deep.equal([0, 4, 6]), { timeoutMs: 10_000 });
    await settled();
    expect(await value(agent.metrics.prefetchFailed)).to.equal(1);
    await sleep(300);
    expect(fetched().filter((b) => b === 5)).to.have.length(1);
  });

  it('`locus agent` with a node and a cluster watches its pods and prefetches within the budget its flags set', async () => {
    await cluster({});
    child = spawnLocus(
      [
        'agent',
        `--upstream=${remote.endpoint}`,
        '--listen=127.0.0.1:0',
        '--ops-listen=127.0.0.1:0',
        `--cache-dir=${join(dir, 'cache')}`,
        '--capacity=64Mi',
        `--node=${NODE}`,
        `--kubeconfig=${api.writeKubeconfig(join(dir, 'kubeconfig'))}`,
        '--report-interval=100ms',
        '--prefetch-pod-budget=2Mi',
        '--no-auth',
        '--log-level=warn',
      ],
      {
        env: { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_KEYS.accessKeyID, AWS_SECRET_ACCESS_KEY: S3RVER_KEYS.secretAccessKey },
        stdio: 'ignore',
      },
    );
    await bind('reader', { 'locus.dev/slice': 'prefix p1/' });
    await eventually(() => expect(published()).to.deep.equal([6, 7]), { timeoutMs: 30_000, intervalMs: 100 });
    await sleep(500);
    expect(fetched().sort((a, b) => a - b)).to.deep.equal([6, 7]);
  });

  it('holds the per-pod and per-node budgets (a block two pods read counted once)', async () => {
    await setup({ prefetch: { podBudgetBytes: 3 * MiB, nodeBudgetBytes: 5 * MiB } });
    await bind('first'); // the whole Dataset, cut at 3 MiB
    await eventually(() => expect(held()).to.deep.equal([0, 1, 2]), { timeoutMs: 10_000 });
    await settled();
    await bind('second', { 'locus.dev/slice': 'blocks 6-11' }); // 3 MiB of its own, but the node has 2 MiB left
    await eventually(() => expect(held()).to.deep.equal([0, 1, 2, 6, 7]), { timeoutMs: 10_000 });
    await settled();
    expect(fetched().sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 6, 7]);
    expect(await value(agent.metrics.prefetchedBytes)).to.equal(5 * MiB);
    // The first pod goes: the node's budget lets the second pod have its own 3 MiB.
    await kube.delete(PODS, { namespace: 'ml', name: 'first' });
    await eventually(() => expect(held()).to.include(8), { timeoutMs: 10_000 });
    await settled();
    expect(fetched().sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 6, 7, 8]);
    // A third pod shares 6 and 7 (2 MiB of its budget, nothing of the node's) and gets 9: 4 MiB on the node.
    await bind('third', { 'locus.dev/slice': 'blocks 6-7,9-11' });
    await eventually(() => expect(held()).to.include(9), { timeoutMs: 10_000 });
    await settled();
    expect(fetched().sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 6, 7, 8, 9]);
  });
});
