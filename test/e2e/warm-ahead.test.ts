// Issue 18, warm-ahead, on the real control plane: a pod that no node can run (it requests more CPU
// than any node has) is marked Unschedulable by the real kube-scheduler, which therefore never calls an
// extender for it. A `locus extender` with --warm-budget (acting as its ServiceAccount, with the RBAC of
// deploy/extender/rbac.yaml) takes the Lease, ranks the nodes for the pod by the data they hold (the
// agent's node holds a block of the pod's Dataset, so it ranks first), and writes the pod into that
// node's NodeCache spec.warm; the node's `locus agent` fetches the rest of the Dataset while the pod
// is still unbound, and lets go of it once the pod is deleted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { listObjects } from '../../src/catalog/s3.js';
import { summarise } from '../../src/catalog/listing.js';
import { nodeCacheToSnapshot } from '../../src/inventory/nodecache.js';
import { bytes, clientFor, getBytes, MiB } from '../agent/harness.js';
import { S3RVER_KEYS, startRemote, type Remote } from '../agent/remote.js';
import { create, ensureNamespace, find, get, mergePatch, remove, type Obj } from './support/api.js';
import { installCrds } from './support/crds.js';
import { kubeconfigAs } from './support/identity.js';
import { kubectlOk } from './support/kubectl.js';
import { datasetPath, s3Dataset } from './support/datasets.js';
import { cluster } from './support/env.js';
import { nodeCachePath } from './support/nodecache.js';
import { createPod, deleteAllPods, pod, podPath } from './support/pods.js';
import { startLocus, type Tracked } from './support/process.js';
import { until } from './support/wait.js';
import { freePort } from '../support/free-port.js';
import { startNodeAgent } from './support/node-agent.js';
import { untilReady } from './support/ready.js';

const ns = 'e2e-warm-ahead';
const BUCKET = 'e2e-warm-ahead';
const BLOCKS = 12;
const NODE = cluster.nodes[1]!;
const objectKey = (i: number) => `train/obj-${String(i).padStart(2, '0')}`;
const body = (i: number) => bytes(MiB, 500 + i);
/** The extender's and the agents' RBAC as deployed; the extender's Lease Role moved into this scenario's namespace. */
const rbac = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON() as Obj);
const extenderRbac = rbac('deploy/extender/rbac.yaml').map((o) =>
  o.kind === 'Role' || o.kind === 'RoleBinding' ? { ...o, metadata: { ...o.metadata, namespace: ns } } : o,
);
const agentRbac = rbac('deploy/agent/rbac.yaml').filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');

/** The value of `name` (optionally one labelled series) on a /metrics page, summed over its series. */
async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ' '}`) || (!labels && l.startsWith(`${name}{`)));
  if (lines.length === 0) throw new Error(`${url}/metrics has no ${name}${labels ? `{${labels}}` : ''}`);
  return lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('issue 18 on the real apiserver: warm-ahead for a pod kube-scheduler cannot place', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'locus-e2e-warm-'));
  let remote: Remote;
  let agent: Tracked;
  let extender: Tracked;
  let s3Url: string;
  let agentOps: string;
  let extenderUrl: string;

  const warmItems = async () => ((await find(nodeCachePath(NODE)))?.spec?.warm ?? []) as Array<{ pod?: { name: string; uid: string }; bytes: number }>;
  const published = async () => [...(nodeCacheToSnapshot(await find(nodeCachePath(NODE)))?.datasets.find((d) => d.dataset === `${ns}/train`)?.blocks ?? [])];
  const fetched = () => [...Array(BLOCKS).keys()].filter((i) => remote.gets(BUCKET, objectKey(i)).some((r) => r.headers.range !== undefined));

  before(async () => {
    await installCrds();
    await ensureNamespace(ns);
    if (!(await find(`/api/v1/namespaces/${ns}/serviceaccounts/default`))) {
      await create(`/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    }
    remote = await startRemote([BUCKET]);
    for (let i = 0; i < BLOCKS; i++) await remote.direct.put(BUCKET, objectKey(i), body(i));
    const obj = s3Dataset(ns, 'train');
    obj.spec.local = { ...obj.spec.local, endpoint: remote.endpoint, bucket: BUCKET, prefix: 'train/' };
    await create(datasetPath(ns), obj);
    const listing = await listObjects({ endpoint: remote.direct.endpoint, bucket: BUCKET, prefix: 'train/' }, S3RVER_KEYS);
    await mergePatch(`${datasetPath(ns, 'train')}/status`, {
      status: { phase: 'Ready', catalog: { ...summarise(listing, MiB, 'train/'), refreshedAt: new Date().toISOString() } },
    });
    await kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...agentRbac, ...extenderRbac] }));

    ({ proc: agent, s3Url, opsUrl: agentOps } = await startNodeAgent({ dir, node: NODE, upstream: remote.endpoint }));
    const ext = await freePort();
    extenderUrl = `http://127.0.0.1:${ext}`;
    // A read of block 0 through the agent: its node now holds part of the Dataset, so the data ranks it first.
    expect((await getBytes(clientFor(s3Url), BUCKET, objectKey(0))).equals(body(0))).to.equal(true);
    await until(`${NODE}'s NodeCache to list block 0`, async () => JSON.stringify(await published()) === '[0]', { timeoutMs: 30_000 });
    extender = startLocus('extender', [
      '--kubeconfig',
      kubeconfigAs('locus-system', 'locus-extender', join(dir, 'extender.kubeconfig')),
      `--listen=127.0.0.1:${ext}`,
      '--warm-budget=64Mi',
      '--warm-after=1s',
      '--warm-interval=500ms',
      '--warm-scheduler-name=default-scheduler',
      `--warm-lease-namespace=${ns}`,
    ]);
    await untilReady(extender, extenderUrl, 'locus extender');
  });

  after(async () => {
    await deleteAllPods(ns).catch(() => undefined);
    await extender?.stop();
    await agent?.stop();
    await remove(nodeCachePath(NODE)).catch(() => undefined);
    await remove(datasetPath(ns, 'train')).catch(() => undefined);
    await remove(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/locus-extender-warm-ahead`).catch(() => undefined);
    await kubectlOk(
      ['delete', '--ignore-not-found', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...agentRbac, ...extenderRbac] }),
    ).catch(() => undefined);
    await remote?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("warms an unschedulable pod's Dataset on the node the data ranks first, before the pod is bound", async () => {
    const p = pod(ns, 'too-big', { labels: { 'dataset.0.id': 'train' }, cpu: '1000' });
    p.spec.automountServiceAccountToken = false;
    await createPod(p);
    await until(
      'kube-scheduler to find the pod unschedulable',
      async () =>
        (await get(podPath(ns, 'too-big'))).status?.conditions?.some(
          (c: { type?: string; reason?: string }) => c.type === 'PodScheduled' && c.reason === 'Unschedulable',
        ),
      { timeoutMs: 60_000 },
    );
    const uid = (await get(podPath(ns, 'too-big'))).metadata.uid;
    const items = await until(`${NODE}'s NodeCache spec.warm to name the pod`, async () => ((await warmItems()).length > 0 ? warmItems() : undefined), {
      timeoutMs: 60_000,
    });
    expect(items.map((i) => [i.pod?.name, i.pod?.uid])).to.deep.equal([['too-big', uid]]);
    expect(items[0].bytes).to.equal((BLOCKS - 1) * MiB); // what the node missed: all but block 0
    for (const other of cluster.nodes.filter((n) => n !== NODE)) expect((await find(nodeCachePath(other)))?.spec?.warm ?? []).to.deep.equal([]);
    const blocks = await until(`${NODE}'s NodeCache to list the whole Dataset`, async () => ((await published()).length === BLOCKS ? published() : undefined), {
      timeoutMs: 60_000,
    });
    expect(blocks).to.deep.equal([...Array(BLOCKS).keys()]);
    // Still unbound: every block came before the pod could read.
    expect((await get(podPath(ns, 'too-big'))).spec.nodeName).to.equal(undefined);
    expect(fetched()).to.deep.equal([...Array(BLOCKS).keys()]);
    expect(await metric(agentOps, 'locus_agent_prefetched_blocks_total', 'for="queued"')).to.equal(BLOCKS - 1);
    expect(await metric(agentOps, 'locus_agent_warm_pods')).to.equal(1);
    expect(await metric(agentOps, 'locus_agent_pinned_blocks')).to.equal(BLOCKS);
    expect(await metric(extenderUrl, 'locus_extender_warm_leader')).to.equal(1);
    expect(await metric(extenderUrl, 'locus_extender_warm_pods')).to.equal(1);
    // Both ran with their deployed RBAC: nothing was refused.
    expect(extender.log()).not.to.match(/forbidden/i);
    expect(agent.log()).not.to.match(/forbidden/i);
  });

  it('takes the item away when the pod is deleted, and the agent lets go of its pins', async () => {
    expect(await warmItems()).to.have.length(1);
    expect(await metric(agentOps, 'locus_agent_pinned_blocks')).to.equal(BLOCKS);
    await remove(podPath(ns, 'too-big'));
    await until(`${NODE}'s NodeCache spec.warm to be empty`, async () => (await warmItems()).length === 0, { timeoutMs: 30_000 });
    await until('the agent to unpin the blocks', async () => (await metric(agentOps, 'locus_agent_pinned_blocks')) === 0, { timeoutMs: 30_000 });
    expect(await metric(agentOps, 'locus_agent_warm_pods')).to.equal(0);
    expect(await metric(extenderUrl, 'locus_extender_warm_pods')).to.equal(0);
  });
});
