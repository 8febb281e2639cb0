// Issue 18 on the real control plane: a pod that names a Dataset, placed on a node by the real
// kube-scheduler, makes that node's `locus agent` (a process with the RBAC of deploy/agent/rbac.yaml,
// watching only its own node's pods) fetch the blocks of the pod's slice from the object store ahead, and the
// node's NodeCache lists them. There is no kubelet, so the pod never starts and never reads: every
// block the NodeCache shows was fetched before the pod's first read. Each object is exactly one 1 MiB
// block, so the object store's request log tells which blocks the agent fetched.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
import { kubectlOk } from './support/kubectl.js';
import { datasetPath, s3Dataset } from './support/datasets.js';
import { cluster } from './support/env.js';
import { nodeCachePath } from './support/nodecache.js';
import { boundNode, createPod, deleteAllPods, pod, podPath } from './support/pods.js';
import type { Tracked } from './support/process.js';
import { until } from './support/wait.js';
import { startNodeAgent } from './support/node-agent.js';

const ns = 'e2e-prefetch';
const BUCKET = 'e2e-prefetch';
const BLOCKS = 12;
/** The agent's node, and another node whose pods are not its business. */
const [NODE, OTHER] = [cluster.nodes[1]!, cluster.nodes[2]!];
/** Dataset `train`: train/p0/obj-00 … obj-05 and train/p1/obj-06 … obj-11, top-level prefixes p0/ and p1/. */
const trainKey = (i: number) => `train/p${i < 6 ? 0 : 1}/obj-${String(i).padStart(2, '0')}`;
/** Dataset `logs`: logs/obj-00 … obj-11. */
const logsKey = (i: number) => `logs/obj-${String(i).padStart(2, '0')}`;
const body = (i: number) => bytes(MiB, 300 + i);
/** The ClusterRole and ClusterRoleBinding of the agents' ServiceAccount, as deployed. */
const clusterRbac = parseAllDocuments(readFileSync('deploy/agent/rbac.yaml', 'utf8'))
  .map((d) => d.toJSON() as Obj)
  .filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');

describe('issue 18 on the real apiserver: a bound pod makes its node agent prefetch', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'locus-e2e-prefetch-'));
  let remote: Remote;
  let agent: Tracked;
  let s3Url: string;
  let opsUrl: string;
  /** Where this scenario's agent output starts in the agents' log file. */
  let logFrom: number;

  /** A Dataset over `prefix` of the bucket, with the catalog the operator writes for its objects. */
  async function dataset(name: string, prefix: string): Promise<void> {
    const obj = s3Dataset(ns, name);
    obj.spec.local = { ...obj.spec.local, endpoint: remote.endpoint, bucket: BUCKET, prefix };
    await create(datasetPath(ns), obj);
    const listing = await listObjects({ endpoint: remote.direct.endpoint, bucket: BUCKET, prefix }, S3RVER_KEYS);
    const catalog = { ...summarise(listing, MiB, prefix), refreshedAt: new Date().toISOString() };
    await mergePatch(`${datasetPath(ns, name)}/status`, { status: { phase: 'Ready', catalog } });
  }

  /** A pod reading Dataset `dataset`, placed by kube-scheduler on `node` (a nodeSelector, not a nodeName). */
  async function placed(name: string, dataset: string, node: string, annotations: Record<string, string> = {}): Promise<void> {
    const p = pod(ns, name, { labels: { 'dataset.0.id': dataset }, annotations });
    p.spec.nodeSelector = { 'kubernetes.io/hostname': node };
    p.spec.automountServiceAccountToken = false;
    await createPod(p);
    expect(await boundNode(ns, name)).to.equal(node);
  }

  /** Block indices of `ns/<dataset>` that the node's NodeCache status lists. */
  async function published(dataset: string): Promise<number[]> {
    const nc = await find(nodeCachePath(NODE));
    return [...(nodeCacheToSnapshot(nc)?.datasets.find((d) => d.dataset === `${ns}/${dataset}`)?.blocks ?? [])];
  }

  /** Blocks of the Dataset whose objects `key` names that the agent fetched from the object store (ranged GETs). */
  const fetched = (key: (i: number) => string) =>
    [...Array(BLOCKS).keys()].filter((i) => remote.gets(BUCKET, key(i)).some((r) => r.headers.range !== undefined));

  /** The value of the unlabelled metric `name` of the agent, summed over its series. */
  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${opsUrl}/metrics`)).text();
    const lines = text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    if (lines.length === 0) throw new Error(`/metrics has no ${name}`);
    return lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }

  before(async () => {
    await installCrds();
    await ensureNamespace(ns);
    // Pods pass the ServiceAccount admission plugin only with the namespace's default ServiceAccount.
    if (!(await find(`/api/v1/namespaces/${ns}/serviceaccounts/default`))) {
      await create(`/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    }
    // A slow, narrow store (one ranged GET at a time, 300 ms each), so a prefetch takes long enough to be cut short.
    remote = await startRemote([BUCKET], { slowReads: { delayMs: 300 } });
    for (let i = 0; i < BLOCKS; i++) {
      await remote.direct.put(BUCKET, trainKey(i), body(i));
      await remote.direct.put(BUCKET, logsKey(i), body(i));
    }
    await dataset('train', 'train/');
    await dataset('logs', 'logs/');
    // The agent acts as its ServiceAccount, with the RBAC it is deployed with: the cluster-wide part (the
    // namespaced Role only reads the DaemonSet, which --report-interval makes unneeded, and locus-system
    // must not exist before the install scenario).
    await kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: clusterRbac }));
    const logFile = join(cluster.state, 'logs', 'agent.log'); // shared with other scenarios' agents
    logFrom = existsSync(logFile) ? statSync(logFile).size : 0;
    ({ proc: agent, s3Url, opsUrl } = await startNodeAgent({ dir, node: NODE, upstream: remote.endpoint, args: ['--prefetch-concurrency=1'] }));
  });

  after(async () => {
    await deleteAllPods(ns).catch(() => undefined);
    await agent?.stop();
    // The agent's NodeCache names Datasets that go with this scenario: later scenarios start without it.
    await remove(nodeCachePath(NODE)).catch(() => undefined);
    await remove(datasetPath(ns, 'train')).catch(() => undefined);
    await remove(datasetPath(ns, 'logs')).catch(() => undefined);
    await kubectlOk(['delete', '--ignore-not-found', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: clusterRbac })).catch(() => undefined);
    await remote?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists exactly the slice of a pod bound to its node in the node's NodeCache while the pod has not started", async () => {
    // The same Dataset, whole, for a pod on another node: the agent watches only its own node's pods.
    await placed('elsewhere', 'train', OTHER);
    await placed('reader', 'train', NODE, { 'locus.dev/slice': 'prefix p1/' });
    const blocks = await until(
      `${NODE}'s NodeCache to list the blocks of prefix p1/`,
      async () => {
        if (!agent.running()) throw new Error(`locus agent exited: ${agent.log().slice(-2000)}`);
        const b = await published('train');
        return b.length >= 6 && b;
      },
      { timeoutMs: 60_000 },
    );
    expect(blocks).to.deep.equal([6, 7, 8, 9, 10, 11]);
    // Nothing ran: no kubelet started the pod, so these blocks came before any read of it.
    expect((await get(podPath(ns, 'reader'))).status?.phase).to.equal('Pending');
    expect(fetched(trainKey)).to.deep.equal([6, 7, 8, 9, 10, 11]);
    expect(await metric('locus_agent_prefetched_blocks_total')).to.equal(6);
    expect(await metric('locus_agent_prefetch_pods')).to.equal(1);
    expect(await metric('locus_agent_pinned_blocks')).to.equal(6);
    // The read the pod would make is served from the node's disk: the object store is not asked again.
    const asked = remote.requests.length;
    expect((await getBytes(clientFor(s3Url), BUCKET, trainKey(8))).equals(body(8))).to.equal(true);
    expect(remote.requests.slice(asked).filter((r) => r.headers.range !== undefined)).to.deep.equal([]);
    // Its ServiceAccount's RBAC let it do all of it (node, Datasets, pods, NodeCaches): no request was refused.
    expect(agent.log().slice(logFrom)).not.to.match(/forbidden/i);
  });

  it('stops prefetching what a deleted pod would have read, and releases its pins', async () => {
    const metrics = ['locus_agent_prefetched_blocks_total', 'locus_agent_prefetch_cancelled_blocks_total', 'locus_agent_pinned_blocks'];
    const [prefetchedBefore, cancelledBefore, pinnedBefore] = await Promise.all(metrics.map(metric));
    await placed('logs-reader', 'logs', NODE); // the whole Dataset: 12 blocks, 3.6 s from the slow store
    await until('the first block of logs to be asked for', () => fetched(logsKey).length > 0, { timeoutMs: 60_000 });
    await remove(podPath(ns, 'logs-reader'));
    await until(
      'the queued prefetches of logs to be cancelled',
      async () => (await metric('locus_agent_prefetch_queued_blocks')) === 0 && (await metric('locus_agent_prefetch_cancelled_blocks_total')) > cancelledBefore,
      { timeoutMs: 30_000 },
    );
    const cancelled = (await metric('locus_agent_prefetch_cancelled_blocks_total')) - cancelledBefore;
    // What was in flight finishes; every other block is either fetched or cancelled, never both.
    const done = await until(
      'the prefetches in flight to finish',
      async () => {
        const n = (await metric('locus_agent_prefetched_blocks_total')) - prefetchedBefore;
        return n === fetched(logsKey).length && n;
      },
      { timeoutMs: 30_000 },
    );
    expect(done).to.be.below(BLOCKS);
    expect(done + cancelled).to.equal(BLOCKS);
    await until('the pins of logs to be released', async () => (await metric('locus_agent_pinned_blocks')) === pinnedBefore, { timeoutMs: 30_000 });
    expect(await metric('locus_agent_prefetch_pods')).to.equal(1); // the reader of train is still bound
    // The NodeCache shows what was fetched, and nothing more.
    const want = fetched(logsKey);
    await until(`${NODE}'s NodeCache to list the fetched blocks of logs`, async () => JSON.stringify(await published('logs')) === JSON.stringify(want), {
      timeoutMs: 30_000,
    });
  });
});
