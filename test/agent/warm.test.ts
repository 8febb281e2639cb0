// Warm-ahead on the agent, on real parts: the queued work the extender planned for this node (items of
// its NodeCache's spec.warm, in the in-memory API server) makes the agent fetch exactly those slices
// from s3rver, after every bound pod's blocks, pinned after theirs; an item that goes drops its queued
// blocks; a pod that becomes bound here keeps what was fetched for it. Each of the Dataset's 12 objects
// is one 1 MiB block, so the remote's log tells which blocks the agent fetched, in what order.
import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import type { Counter, Gauge } from 'prom-client';
import type { Agent } from '../../src/agent/agent.js';
import { ClusterDatasets } from '../../src/agent/dataset-sources.js';
import { blockIds } from '../../src/agent/inventory.js';
import { warmWork } from '../../src/agent/warm-items.js';
import type { KubeClient } from '../../src/kube/client.js';
import { NODE_CACHES, PODS } from '../../src/kube/resources.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { bytes, MiB } from './harness.js';
import { nodeAgent, nodeWorld, NODE, type NodeSetup } from './node-world.js';
import type { Remote } from './remote.js';

const BLOCKS = 12;
const key = (i: number) => `ds/obj-${String(i).padStart(2, '0')}`;
const body = (i: number) => bytes(MiB, 200 + i);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const value = async (m: Counter | Gauge, labels: Record<string, string> = {}) =>
  (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
/** A spec.warm item for pod ml/<name> reading Dataset train (a slice of it when given). */
const item = (name: string, slice?: string) => ({
  pod: { namespace: 'ml', name, uid: `uid-${name}` },
  datasets: [{ namespace: 'ml', name: 'train', ...(slice ? { slice } : {}) }],
  bytes: 0,
});

describe('agent warm-ahead: spec.warm items become prefetch after bound pods (s3rver, in-memory API server)', function () {
  this.timeout(60_000);
  let remote: Remote;
  let api: FakeApiServer;
  let kube: KubeClient;
  let agent: Agent | undefined;
  let datasets: ClusterDatasets | undefined;
  let dir: string;

  async function setup(s: NodeSetup & { before?: () => Promise<void> } = {}): Promise<void> {
    const world = await nodeWorld(
      [...Array(BLOCKS).keys()].map((i) => [key(i), body(i)]),
      s,
    );
    ({ remote, api, kube, dir } = world);
    await s.before?.();
    ({ agent, datasets } = await nodeAgent(world, s));
    await eventually(() => expect(api.object('nodecaches', NODE)).to.not.equal(undefined), { timeoutMs: 10_000 });
  }

  afterEach(async () => {
    await datasets?.stop();
    await agent?.close();
    [datasets, agent] = [undefined, undefined];
    await api.close();
    await remote.close();
    await rm(dir, { recursive: true, force: true });
  });

  const warm = (items: unknown[] | null) => kube.mergePatch(NODE_CACHES, { name: NODE }, { spec: { warm: items } });
  const bind = (name: string, slice?: string) =>
    kube.create(PODS, {
      metadata: { namespace: 'ml', name, labels: { 'dataset.0.id': 'train' }, annotations: slice ? { 'locus.dev/slice': slice } : {} },
      spec: { nodeName: NODE, containers: [{ name: 'main', image: 'registry.example/reader:1' }] },
    });
  const held = () => [...(agent!.holdings().find((h) => h.inventory.dataset === 'ml/train')?.inventory.blocks ?? [])];
  const fetched = () => remote.requests.filter((r) => r.method === 'GET' && r.headers.range).map((r) => Number(/obj-(\d+)/.exec(r.url)![1]));
  const settled = () => eventually(async () => expect(await value(agent!.metrics.prefetchQueued)).to.equal(0), { timeoutMs: 20_000 });

  it("prefetches exactly a warm item's slice, counts it as queued and pins it", async () => {
    await setup();
    await warm([item('waiting', 'blocks 2-4')]);
    await eventually(() => expect(held()).to.deep.equal([2, 3, 4]), { timeoutMs: 10_000 });
    await settled();
    expect(fetched().sort((a, b) => a - b)).to.deep.equal([2, 3, 4]);
    expect(await value(agent!.metrics.prefetchedBlocks, { for: 'queued' })).to.equal(3);
    expect(await value(agent!.metrics.prefetchedBlocks, { for: 'bound' })).to.equal(0);
    expect(await value(agent!.metrics.warmPods)).to.equal(1);
    expect(await value(agent!.metrics.prefetchPods)).to.equal(0);
    expect(await value(agent!.metrics.pinnedBlocks)).to.equal(3);
  });

  it("fetches bound pods' blocks before queued work's", async () => {
    await setup({
      slowReadsMs: 100,
      prefetch: { concurrency: 1 },
      // Both known when the agent starts: the NodeCache already names queued work, a pod is already bound.
      before: async () => {
        api.put({
          apiVersion: 'locus.dev/v1alpha1',
          kind: 'NodeCache',
          metadata: { name: NODE },
          spec: { nodeName: NODE, warm: [item('queued', 'blocks 6-11')] },
        });
        await bind('bound', 'blocks 0-2');
      },
    });
    await eventually(() => expect(held()).to.have.length(9), { timeoutMs: 20_000 });
    expect(fetched()).to.deep.equal([0, 1, 2, 6, 7, 8, 9, 10, 11]);
    expect(await value(agent!.metrics.prefetchedBlocks, { for: 'bound' })).to.equal(3);
    expect(await value(agent!.metrics.prefetchedBlocks, { for: 'queued' })).to.equal(6);
    expect(await value(agent!.metrics.pinnedBlocks)).to.equal(9);
  });

  it("pins bound pods' blocks before queued work's when the pinned share is short", async () => {
    // 16 MiB, a fifth of it pinnable: room for three pinned blocks.
    await setup({ capacityBytes: 16 * MiB, pinShare: 0.2 });
    await bind('bound', 'blocks 0-2');
    await warm([item('queued', 'blocks 6-8')]);
    await eventually(() => expect(held()).to.deep.equal([0, 1, 2, 6, 7, 8]), { timeoutMs: 10_000 });
    await settled();
    const { ids } = blockIds(agent!.catalogs.layouts().get('ml/train')!);
    const pinned = () => [0, 1, 2, 6, 7, 8].filter((i) => agent!.store.isPinned(ids[i]));
    expect(pinned()).to.deep.equal([0, 1, 2]);
    await kube.delete(PODS, { namespace: 'ml', name: 'bound' });
    await eventually(() => expect(pinned()).to.deep.equal([6, 7, 8]), { timeoutMs: 10_000 });
  });

  it('drops the queued blocks of an item that goes, and unpins what it fetched', async () => {
    await setup({ slowReadsMs: 100, prefetch: { concurrency: 1 } });
    await warm([item('waiting')]);
    await eventually(async () => expect(await value(agent!.metrics.prefetchedBlocks)).to.be.at.least(2), { timeoutMs: 10_000 });
    await warm(null);
    await eventually(async () => expect(await value(agent!.metrics.prefetchCancelled)).to.be.above(0), { timeoutMs: 10_000 });
    await settled();
    const asked = fetched().length;
    await sleep(400);
    expect(fetched()).to.have.length(asked);
    expect(asked).to.be.below(BLOCKS);
    expect(await value(agent!.metrics.prefetchCancelled)).to.equal(BLOCKS - asked);
    expect(await value(agent!.metrics.pinnedBlocks)).to.equal(0);
    expect(await value(agent!.metrics.warmPods)).to.equal(0);
  });

  it('moves a pod that becomes bound here to the bound path without fetching again', async () => {
    await setup();
    await warm([item('reader', 'blocks 3-5')]);
    await eventually(() => expect(held()).to.deep.equal([3, 4, 5]), { timeoutMs: 10_000 });
    await settled();
    await bind('reader', 'blocks 3-5');
    await eventually(async () => expect(await value(agent!.metrics.prefetchPods)).to.equal(1), { timeoutMs: 10_000 });
    expect(await value(agent!.metrics.warmPods)).to.equal(0); // its item is the bound pod now
    await warm(null); // the extender removes the item of a bound pod
    await sleep(200);
    expect(await value(agent!.metrics.pinnedBlocks)).to.equal(3);
    expect(await value(agent!.metrics.prefetchCancelled)).to.equal(0);
    expect(fetched().sort((a, b) => a - b)).to.deep.equal([3, 4, 5]);
  });
});

describe('agent warm-ahead: spec.warm items', () => {
  it('reads items as the schema says, and reports the ones it cannot use', () => {
    const { items, problems } = warmWork([
      item('a', 'shard 0/2'),
      { job: { namespace: 'ml', name: 'j', uid: 'u', index: 2 }, datasets: [{ namespace: 'ml', name: 'train' }], bytes: 5 },
      { datasets: [], bytes: 0 },
      { pod: { namespace: 'ml' }, datasets: [], bytes: 0 },
    ]);
    expect(items.map((i) => [i.key, i.pod])).to.deep.equal([
      ['Pod ml/a', 'ml/a'],
      ['Job ml/j#2', undefined],
    ]);
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/spec\.warm\[2\]: names neither a pod nor a job/);
    expect(problems[1]).to.match(/spec\.warm\[3\]: pod\.name/);
    expect(warmWork({}).problems).to.deep.equal(['spec.warm is not a list']);
  });
});
