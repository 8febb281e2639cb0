// Warm-ahead in the extender, against the in-memory API server: the replica holding the Lease writes
// the queued work each node should warm into that node's NodeCache spec.warm (pods its schedulers could
// not place, suspended Jobs), within the budgets, and takes items away when the work is bound, deleted
// or schedulable; the other replica writes nothing until it takes the Lease over.
import { expect } from 'chai';
import type { Counter, Gauge } from 'prom-client';
import type { NodeCacheWarmItem } from '../../src/api/nodecache.js';
import { encodeBlockSet } from '../../src/core/blockset.js';
import { createExtender, type Extender } from '../../src/extender/server.js';
import type { WarmAheadSettings } from '../../src/extender/warm-ahead.js';
import { KubeSource } from '../../src/inventory/kube-source.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { JOBS, PODS } from '../../src/kube/resources.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const MiB = 1 << 20;
const BLOCKS = 8;
const LONG_AGO = '2026-01-01T00:00:00Z';

/** node-a holds blocks 0-3 of ml/train, node-b 4-7, node-c (label disk=ssd) nothing. */
function seed(api: FakeApiServer): void {
  for (const [name, labels] of [
    ['node-a', {}],
    ['node-b', {}],
    ['node-c', { disk: 'ssd' }],
  ] as const) {
    api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } });
  }
  api.put({
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { namespace: 'ml', name: 'train' },
    spec: { local: { type: 'S3', bucket: 'b' } },
    status: { catalog: { objectCount: BLOCKS, totalBytes: BLOCKS * MiB, blockSize: MiB, blockCount: BLOCKS, version: 'v1', refreshedAt: LONG_AGO } },
  });
  const held: Record<string, number[]> = { 'node-a': [0, 1, 2, 3], 'node-b': [4, 5, 6, 7], 'node-c': [] };
  for (const [node, blocks] of Object.entries(held)) {
    api.put({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'NodeCache',
      metadata: { name: node },
      spec: { nodeName: node },
      status: {
        epoch: 'e1',
        seq: 1,
        updatedAt: new Date().toISOString(),
        datasets: blocks.length
          ? [
              {
                namespace: 'ml',
                name: 'train',
                blockSize: MiB,
                catalogVersion: 'v1',
                bytes: blocks.length * MiB,
                blockCount: BLOCKS,
                blocks: encodeBlockSet(blocks, BLOCKS),
              },
            ]
          : [],
      },
    });
  }
}

const settings = (identity: string, s: Partial<WarmAheadSettings> = {}): WarmAheadSettings => ({
  clusterBytes: 64 * MiB,
  nodeBytes: 64 * MiB,
  nodesPerPod: 1,
  afterMs: 0,
  schedulerNames: ['locus-scheduler'],
  intervalMs: 50,
  lease: { namespace: 'locus-system', name: 'warm', identity, durationMs: 3_000, retryMs: 100 },
  ...s,
});

describe('extender warm-ahead (in-memory API server)', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let kube: KubeClient;
  let replicas: Extender[] = [];

  async function replica(identity: string, s: Partial<WarmAheadSettings> = {}): Promise<Extender> {
    const kc = api.kubeconfig();
    const client = createKubeClient(kc);
    const ext = createExtender({ source: new KubeSource(kc, client), warm: { kc, client, settings: settings(identity, s) } });
    replicas.push(ext);
    await ext.start();
    return ext;
  }

  beforeEach(async () => {
    api = await FakeApiServer.start();
    kube = createKubeClient(api.kubeconfig());
    seed(api);
  });
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    replicas = [];
    await api.close();
  });

  /** A pod of ml reading train, created and then found unschedulable by the scheduler (`since`). */
  async function pending(name: string, opts: { slice?: string; scheduler?: string; since?: string; nodeSelector?: Record<string, string> } = {}) {
    await kube.create(PODS, {
      metadata: { namespace: 'ml', name, labels: { 'dataset.0.id': 'train' }, annotations: opts.slice ? { 'locus.dev/slice': opts.slice } : {} },
      spec: {
        schedulerName: opts.scheduler ?? 'locus-scheduler',
        containers: [{ name: 'main', image: 'registry.example/reader:1', resources: { requests: { cpu: '64' } } }],
        ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
      },
    });
    await unschedulable(name, opts.since ?? LONG_AGO);
  }
  const unschedulable = (name: string, since: string, status = 'False') =>
    kube.mergePatchStatus(
      PODS,
      { namespace: 'ml', name },
      {
        status: {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status, reason: status === 'False' ? 'Unschedulable' : undefined, lastTransitionTime: since }],
        },
      },
    );
  /** node → spec.warm as [kind ns/name, slices, bytes]. */
  const warmOf = (node: string) =>
    ((api.object('nodecaches', node) as KubeObject & { spec: { warm?: NodeCacheWarmItem[] } }).spec.warm ?? []).map((i) => [
      i.pod ? `pod ${i.pod.namespace}/${i.pod.name}` : `job ${i.job!.namespace}/${i.job!.name}${i.job!.index !== undefined ? `#${i.job!.index}` : ''}`,
      i.datasets.map((d) => d.slice ?? 'all').join(),
      i.bytes,
    ]);
  const allWarm = () => Object.fromEntries(['node-a', 'node-b', 'node-c'].map((n) => [n, warmOf(n)]).filter(([, w]) => w.length > 0));
  const gauge = async (g: Gauge) => (await g.get()).values[0]?.value ?? 0;
  const count = async (c: Counter) => (await c.get()).values.reduce((n, v) => n + v.value, 0);

  it("writes an unschedulable pod's missing bytes into its best node's NodeCache, and removes it once bound", async () => {
    const ext = await replica('r1');
    // blocks 0-5: node-a holds 4 of 6 (score 6), node-b 2 (score 3): node-a, missing blocks 4 and 5.
    await pending('reader', { slice: 'blocks 0-5' });
    await eventually(() => expect(allWarm()).to.deep.equal({ 'node-a': [['pod ml/reader', 'blocks 0-5', 2 * MiB]] }));
    const item = (api.object('nodecaches', 'node-a') as KubeObject & { spec: { warm: unknown[] } }).spec.warm[0];
    expect(item).to.deep.include({ pod: { namespace: 'ml', name: 'reader', uid: api.object('pods', 'reader', 'ml')!.metadata.uid } });
    expect(await gauge(ext.metrics.warmLeader)).to.equal(1);
    expect(await gauge(ext.metrics.warmPods)).to.equal(1);
    expect(await gauge(ext.metrics.warmPlannedBytes)).to.equal(2 * MiB);
    // Bound: it leaves the pending pods, and its item goes.
    const pod = api.object('pods', 'reader', 'ml')!;
    api.put({ ...pod, spec: { ...(pod.spec as object), nodeName: 'node-a' } });
    await eventually(() => expect(allWarm()).to.deep.equal({}));
    expect(await gauge(ext.metrics.warmPods)).to.equal(0);
  });

  it('removes the item of a pod deleted or no longer unschedulable, and writes only when items change', async () => {
    await replica('r1');
    await pending('one');
    await pending('two', { nodeSelector: { disk: 'ssd' }, since: '2026-01-02T00:00:00Z' });
    await eventually(() => expect(allWarm()).to.deep.equal({ 'node-a': [['pod ml/one', 'all', 4 * MiB]], 'node-c': [['pod ml/two', 'all', 8 * MiB]] }));
    const rv = api.object('nodecaches', 'node-a')!.metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 300)); // six plans
    expect(api.object('nodecaches', 'node-a')!.metadata.resourceVersion).to.equal(rv);
    await kube.delete(PODS, { namespace: 'ml', name: 'one' });
    await eventually(() => expect(allWarm()).to.deep.equal({ 'node-c': [['pod ml/two', 'all', 8 * MiB]] }));
    await unschedulable('two', LONG_AGO, 'True');
    await eventually(() => expect(allWarm()).to.deep.equal({}));
    expect(api.object('nodecaches', 'node-c')!.spec).to.deep.equal({ nodeName: 'node-c' });
  });

  it('plans oldest first within the cluster and node budgets, only for its schedulers, after --warm-after', async () => {
    await replica('r1', { clusterBytes: 10 * MiB, nodeBytes: 6 * MiB, afterMs: 60_000 });
    await pending('young', { since: '2026-01-03T00:00:00Z' }); // node-a (4 MiB) is full after old: node-b's 4 MiB
    await pending('old', { since: '2026-01-02T00:00:00Z' });
    await pending('third', { since: '2026-01-04T00:00:00Z' }); // 8 MiB more passes the cluster budget
    await pending('other', { scheduler: 'default-scheduler' });
    await pending('fresh', { since: new Date().toISOString() });
    await eventually(() => expect(allWarm()).to.deep.equal({ 'node-a': [['pod ml/old', 'all', 4 * MiB]], 'node-b': [['pod ml/young', 'all', 4 * MiB]] }));
  });

  it('warms the shards of a suspended Indexed Job, and stops when it is resumed', async () => {
    await replica('r1');
    await kube.create(JOBS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { namespace: 'ml', name: 'resize' },
      spec: {
        suspend: true,
        completions: 2,
        completionMode: 'Indexed',
        template: { metadata: { labels: { 'dataset.0.id': 'train' } }, spec: { containers: [{ name: 'main', image: 'registry.example/resize:1' }] } },
      },
    });
    // Shard 0/2 is blocks 0-3, all on node-a; shard 1/2 all on node-b: nothing to warm.
    await new Promise((r) => setTimeout(r, 300));
    expect(allWarm()).to.deep.equal({});
    await kube.mergePatch(JOBS, { namespace: 'ml', name: 'resize' }, { spec: { completions: 4, template: { spec: { nodeSelector: { disk: 'ssd' } } } } });
    await eventually(() =>
      expect(allWarm()).to.deep.equal({
        'node-c': [
          ['job ml/resize#0', 'shard 0/4', 2 * MiB],
          ['job ml/resize#1', 'shard 1/4', 2 * MiB],
          ['job ml/resize#2', 'shard 2/4', 2 * MiB],
          ['job ml/resize#3', 'shard 3/4', 2 * MiB],
        ],
      }),
    );
    await kube.mergePatch(JOBS, { namespace: 'ml', name: 'resize' }, { spec: { suspend: false } });
    await eventually(() => expect(allWarm()).to.deep.equal({}));
  });

  it('lets only the Lease holder write, and the other replica take over when it stops', async () => {
    const first = await replica('r1');
    await eventually(() => expect(first.warm!.isLeader).to.equal(true));
    const second = await replica('r2');
    await pending('reader', { slice: 'blocks 0-5' });
    await eventually(() => expect(allWarm()).to.deep.equal({ 'node-a': [['pod ml/reader', 'blocks 0-5', 2 * MiB]] }));
    expect(second.warm!.isLeader).to.equal(false);
    expect(await gauge(second.metrics.warmLeader)).to.equal(0);
    expect(await count(first.metrics.warmWrites)).to.equal(1);
    expect(await count(second.metrics.warmWrites)).to.equal(0);
    await first.close();
    replicas = replicas.filter((r) => r !== first);
    await eventually(() => expect(second.warm!.isLeader).to.equal(true), { timeoutMs: 10_000 });
    await pending('later', { nodeSelector: { disk: 'ssd' } });
    await eventually(() => expect(warmOf('node-c')).to.deep.equal([['pod ml/later', 'all', 8 * MiB]]));
    expect(warmOf('node-a')).to.deep.equal([['pod ml/reader', 'blocks 0-5', 2 * MiB]]);
  });
});
