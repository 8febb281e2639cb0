// Scenario 6: the extender's Node, Dataset and NodeCache informers follow creations, updates and
// deletions on a real apiserver, and keep following them after the apiserver restarts (its watches end).
// What the extender holds is read back through POST /v1/explain, the view a user has of its index.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { create, ensureNamespace, mergePatch, remove } from './support/api.js';
import { createListedDataset, datasetPath, deleteDataset } from './support/datasets.js';
import { installCrds } from './support/crds.js';
import { cluster } from './support/env.js';
import { extenderUrl, startExtender } from './support/extender.js';
import { deleteNodeCache, writeNodeCache, type Holding } from './support/nodecache.js';
import type { Tracked } from './support/process.js';
import { until } from './support/wait.js';

const ns = 'e2e-informers';
const node = 'node-informer';
const blockSize = 1 << 20;
const holding = (to: number): Holding => ({ namespace: ns, name: 'd', from: 0, to, blockSize, blockCount: 64, catalogVersion: 'v1' });

interface Explained {
  node: string;
  zone?: string;
  datasets: { totalBytes?: number; onNode: number }[];
}

/** The extender's view of `node` for a pod reading dataset d. */
async function explained(): Promise<Explained> {
  const pod = { metadata: { name: 'probe', namespace: ns, labels: { 'dataset.0.id': 'd' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  const res = await fetch(extenderUrl('/v1/explain'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pod, nodes: [node] }),
  });
  if (!res.ok) throw new Error(`explain: HTTP ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { nodes: Explained[] }).nodes[0];
}

const sees = (what: string, check: (e: Explained) => boolean) =>
  until(`the extender to see ${what}`, async () => check(await explained()), { timeoutMs: 30_000 });

const nodeObject = (zone: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: node, labels: { 'kubernetes.io/hostname': node, 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': 'region-1' } },
});

async function restartApiserver(): Promise<void> {
  const run = promisify(execFile);
  await run(join(cluster.scripts, 'down.sh'), ['kube-apiserver'], { cwd: cluster.root });
  await run(join(cluster.scripts, 'up.sh'), ['noscheduler'], { cwd: cluster.root, timeout: 120_000 });
}

describe('scenario 6: extender informers', () => {
  let extender: Tracked;

  before(async () => {
    await installCrds();
    await ensureNamespace(ns);
    extender = await startExtender();
  });

  after(async () => {
    await extender?.stop();
    await deleteNodeCache(node);
    await remove(`/api/v1/nodes/${node}`);
    await deleteDataset(ns, 'd');
  });

  it('sees a Node created, relabelled and deleted', async () => {
    await create('/api/v1/nodes', nodeObject('zone-7'));
    await sees('the new node in zone-7', (e) => e.zone === 'zone-7');
    await mergePatch(`/api/v1/nodes/${node}`, { metadata: { labels: { 'topology.kubernetes.io/zone': 'zone-8' } } });
    await sees('the node moved to zone-8', (e) => e.zone === 'zone-8');
    await remove(`/api/v1/nodes/${node}`);
    await sees('the node gone', (e) => e.zone === undefined);
    await create('/api/v1/nodes', nodeObject('zone-7'));
    await sees('the node back', (e) => e.zone === 'zone-7');
  });

  it('sees a Dataset created, its catalog updated, and deleted', async () => {
    await createListedDataset(ns, 'd', 64, blockSize, 'v1');
    await sees('the Dataset with 64 MiB', (e) => e.datasets[0].totalBytes === 64 * blockSize);
    await mergePatch(`${datasetPath(ns, 'd')}/status`, { status: { catalog: { totalBytes: 32 * blockSize, blockCount: 32, objectCount: 32, version: 'v2' } } });
    await sees('the catalog shrunk to 32 MiB', (e) => e.datasets[0].totalBytes === 32 * blockSize);
    await deleteDataset(ns, 'd');
    await sees('the Dataset gone', (e) => e.datasets[0].totalBytes === undefined);
    await createListedDataset(ns, 'd', 64, blockSize, 'v1');
    await sees('the Dataset back', (e) => e.datasets[0].totalBytes === 64 * blockSize);
  });

  it('sees a NodeCache created, updated and deleted', async () => {
    await writeNodeCache(node, [holding(48)]);
    await sees('48 blocks on the node', (e) => e.datasets[0].onNode === 48 * blockSize);
    await writeNodeCache(node, [holding(16)]);
    await sees('16 blocks on the node', (e) => e.datasets[0].onNode === 16 * blockSize);
    await deleteNodeCache(node);
    await sees('nothing on the node', (e) => e.datasets[0].onNode === 0);
  });

  it('keeps watching all three after the apiserver restarts', async function () {
    this.timeout(180_000);
    await restartApiserver();
    expect(extender.running(), 'the extender survived the restart').to.equal(true);
    await writeNodeCache(node, [holding(40)]);
    await mergePatch(`/api/v1/nodes/${node}`, { metadata: { labels: { 'topology.kubernetes.io/zone': 'zone-9' } } });
    await mergePatch(`${datasetPath(ns, 'd')}/status`, { status: { catalog: { totalBytes: 48 * blockSize, blockCount: 48, objectCount: 48, version: 'v3' } } });
    await until(
      'the extender to see all three changes made after the restart',
      async () => {
        const e = await explained();
        return e.zone === 'zone-9' && e.datasets[0].totalBytes === 48 * blockSize && e.datasets[0].onNode === 40 * blockSize;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  });
});
