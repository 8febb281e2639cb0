// Issue 12 on the real control plane: pods that declare the slice of a Dataset they read land on the
// node holding that slice, explain says why, a malformed slice still schedules, an Indexed Job's pod
// reads its index's shard of the Job's completions (read from a real Job object); and with the
// shipped configuration kube-scheduler lets the extender score every node of a cluster of more than
// 100 nodes, so a holder far down the list is seen.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installCrds } from './support/crds.js';
import { cluster } from './support/env.js';
import { createListedDataset, datasetPath, deleteDataset } from './support/datasets.js';
import { extenderUrl, indexGauge, startExtender } from './support/extender.js';
import { deleteNodeCache, writeNodeCache, type Holding } from './support/nodecache.js';
import { api, create, mergePatch, remove } from './support/api.js';
import { boundNode, createPod, deleteAllPods, pod } from './support/pods.js';
import type { Tracked } from './support/process.js';
import { startLocusScheduler } from './support/scheduler.js';
import { until } from './support/wait.js';

const ns = 'e2e-placement';
const SCHEDULER_CONFIG = 'scheduler-config/locus-scheduler-v1beta1.yaml';
const BLOCK = 4 << 20;
const catalog = { blockSize: BLOCK, blockCount: 100, catalogVersion: 'v1' };
const holding = (name: string, from: number, to: number): Holding => ({ namespace: ns, name, from, to, ...catalog });
const run = promisify(execFile);

const reader = (name: string, annotations: Record<string, string>, dataset = 'halves') =>
  pod(ns, name, { schedulerName: 'locus-scheduler', labels: { 'dataset.0.id': dataset }, annotations });

interface ExplainNode {
  node: string;
  score: number;
  filter?: { passed: boolean; reason?: string };
  datasets: Array<{ slice?: string; sliceBytes?: number; onNode: number }>;
}

describe('issue 12: slices on the real control plane', () => {
  let scheduler: Tracked;
  let extender: Tracked;

  before(async () => {
    await installCrds();
    // A catalog of 100 blocks in two top-level prefixes, as the operator records it.
    await createListedDataset(ns, 'halves', catalog.blockCount, BLOCK, catalog.catalogVersion);
    await mergePatch(`${datasetPath(ns, 'halves')}/status`, {
      status: {
        catalog: {
          prefixes: [
            { prefix: 'part=0/', firstBlock: 0, lastBlock: 49 },
            { prefix: 'part=1/', firstBlock: 50, lastBlock: 99 },
          ],
        },
      },
    });
    await writeNodeCache('node-a', [holding('halves', 0, 50)]);
    await writeNodeCache('node-b', [holding('halves', 50, 100)]);
    extender = await startExtender(['--log-level', 'debug']);
    await until('the extender to index the two holders', async () => (await indexGauge('live_inventories')) >= 2);
    scheduler = (await startLocusScheduler(SCHEDULER_CONFIG)).proc;
  });

  after(async () => {
    await deleteAllPods(ns);
    await extender?.stop();
    await scheduler?.stop();
    for (const node of ['node-a', 'node-b']) await deleteNodeCache(node);
    await remove(`/apis/batch/v1/namespaces/${ns}/jobs/resize`);
    await deleteDataset(ns, 'halves');
  });

  it('binds shard 0/2 readers to node-a and shard 1/2 readers to node-b, each holding its half', async () => {
    for (let i = 0; i < 2; i++) {
      await createPod(reader(`first-${i}`, { 'locus.dev/slice': 'shard 0/2' }));
      await createPod(reader(`second-${i}`, { 'locus.dev/slice': 'shard 1/2' }));
    }
    for (let i = 0; i < 2; i++) {
      expect(await boundNode(ns, `first-${i}`)).to.equal('node-a');
      expect(await boundNode(ns, `second-${i}`)).to.equal('node-b');
    }
  });

  it('binds a reader of a catalog prefix to its holder', async () => {
    await createPod(reader('prefix', { 'locus.dev/slice.0': 'prefix part=1/' }));
    expect(await boundNode(ns, 'prefix')).to.equal('node-b');
  });

  it('explains why: the slice, its bytes on each node, and the filter verdict of a pod that requires locality', async () => {
    await createPod(reader('required', { 'locus.dev/slice': 'shard 0/2', 'locus.dev/locality': 'required' }));
    expect(await boundNode(ns, 'required')).to.equal('node-a');
    const answer = (await (await fetch(extenderUrl(`/v1/explain?pod=${ns}/required`))).json()) as { nodes: ExplainNode[] };
    const byNode = Object.fromEntries(answer.nodes.map((n) => [n.node, n]));
    expect(byNode['node-a'].score).to.equal(10);
    expect(byNode['node-a'].datasets[0]).to.deep.include({ slice: 'shard 0/2 (blocks 0-49)', sliceBytes: 50 * BLOCK, onNode: 50 * BLOCK });
    expect(byNode['node-a'].filter).to.deep.equal({ passed: true });
    expect(byNode['node-b'].datasets[0]).to.deep.include({ onNode: 0 });
    expect(byNode['node-b'].filter).to.deep.equal({ passed: false, reason: `holds 0 percent of ${ns}/halves shard 0/2, pod requires 50 percent` });
    // The same through `locus explain`, as a user runs it.
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', join(cluster.root, 'src/cli/locus.ts'), 'explain', `${ns}/required`, '--server', extenderUrl('')],
      { cwd: cluster.root },
    );
    expect(stdout).to.match(/node-a\s+10\s.*halves shard 0\/2 \(blocks 0-49\).*filter: passed/);
    expect(stdout).to.match(/node-b\s+\d+\s.*filtered out: holds 0 percent/);
  });

  it('schedules a pod whose slice annotation is malformed, reading the whole Dataset, and says why in explain', async () => {
    await createPod(reader('malformed', { 'locus.dev/slice': 'the second half' }));
    expect(cluster.nodes).to.include(await boundNode(ns, 'malformed'));
    const answer = (await (await fetch(extenderUrl(`/v1/explain?pod=${ns}/malformed`))).json()) as { problems: Array<{ field: string; message: string }> };
    expect(answer.problems.map((p) => p.field)).to.deep.equal(['locus.dev/slice']);
    expect(answer.problems[0].message).to.match(/is no slice.*scored on the whole Dataset/);
  });

  it("an Indexed Job's pod reads its completion index's shard of the Job's spec.completions", async () => {
    // No controller manager runs here: the Job object is the one the extender reads, the pod is made by hand as the Job controller would.
    const job = await create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'resize', namespace: ns },
      spec: { completions: 2, parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] } } },
    });
    const indexed = (index: number) => {
      const p = reader(`resize-${index}`, { 'batch.kubernetes.io/job-completion-index': String(index) });
      p.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'resize', uid: job.metadata.uid!, controller: true } as never];
      return p;
    };
    await until('the extender to see the Job', async () => {
      const res = await fetch(extenderUrl('/v1/explain'), { method: 'POST', body: JSON.stringify({ pod: indexed(1), nodes: ['node-b'] }) });
      const body = (await res.json()) as { nodes: ExplainNode[] };
      return body.nodes[0]?.datasets[0]?.slice === 'shard 1/2 (blocks 50-99)';
    });
    await createPod(indexed(1));
    await createPod(indexed(0));
    expect(await boundNode(ns, 'resize-1')).to.equal('node-b');
    expect(await boundNode(ns, 'resize-0')).to.equal('node-a');
  });
});

describe('issue 12: the holder is scored in a cluster of more than 100 nodes', () => {
  const FAKE = 120;
  const fakeNodes = Array.from({ length: FAKE }, (_, i) => `fake-${String(i).padStart(3, '0')}`);
  /** Created last, in a zone of its own: far down the scheduler's node list. */
  const holder = fakeNodes[FAKE - 1];
  let scheduler: Tracked;
  let extender: Tracked;

  before(async function () {
    this.timeout(300_000);
    await installCrds();
    await createListedDataset(ns, 'far', catalog.blockCount, BLOCK, catalog.catalogVersion);
    for (const [i, name] of fakeNodes.entries()) await createReadyNode(name, i === FAKE - 1 ? 'far-zone' : `fake-zone-${i % 4}`);
    await writeNodeCache(holder, [holding('far', 0, 100)]);
    extender = await startExtender();
    await until('the extender to index the holder', async () => (await indexGauge('live_inventories')) >= 1, { timeoutMs: 60_000 });
    scheduler = (await startLocusScheduler(SCHEDULER_CONFIG)).proc;
  });

  after(async function () {
    this.timeout(300_000);
    await deleteAllPods(ns);
    await extender?.stop();
    await scheduler?.stop();
    await deleteNodeCache(holder);
    for (const name of fakeNodes) await remove(`/api/v1/nodes/${name}`);
    await deleteDataset(ns, 'far');
  });

  it(`evaluates all ${FAKE + 3} nodes for each pod (percentageOfNodesToScore: 100) and binds the readers to the holder`, async () => {
    const total = FAKE + cluster.nodes.length;
    for (let i = 0; i < 5; i++) await createPod(reader(`far-${i}`, {}, 'far'));
    for (let i = 0; i < 5; i++) expect(await boundNode(ns, `far-${i}`, 60_000)).to.equal(holder);
    // kube-scheduler logs, for each bind at -v=2, how many nodes it evaluated and found feasible.
    const binds = await bindLines(scheduler, 'far-', 5);
    expect(binds).to.have.length(5);
    for (const line of binds) expect(line).to.include(`evaluatedNodes=${total} feasibleNodes=${total}`);
  });

  it('without percentageOfNodesToScore the same scheduler stops after 100 feasible nodes (why the shipped files set it)', async () => {
    await scheduler.stop();
    const shipped = readFileSync(join(cluster.root, SCHEDULER_CONFIG), 'utf8');
    const variant = join(cluster.state, 'locus-scheduler-default-percentage.yaml');
    writeFileSync(variant, shipped.replace(/^percentageOfNodesToScore: 100\n/m, ''));
    expect(readFileSync(variant, 'utf8')).to.not.include('percentageOfNodesToScore');
    scheduler = (await startLocusScheduler(variant)).proc;
    for (let i = 0; i < 3; i++) await createPod(reader(`control-${i}`, {}, 'far'));
    for (let i = 0; i < 3; i++) await boundNode(ns, `control-${i}`, 60_000);
    const binds = await bindLines(scheduler, 'control-', 3);
    expect(binds).to.have.length(3);
    for (const line of binds) expect(line).to.include('evaluatedNodes=100 feasibleNodes=100');
  });
});

/**
 * kube-scheduler's "Successfully bound" log lines for the pods named `prefix…`, once there are `count`: the
 * line is written after the binding is visible through the API, so it is waited for, not read at once.
 */
function bindLines(scheduler: Tracked, prefix: string, count: number): Promise<string[]> {
  return until(`${count} bind lines for ${prefix}* in the scheduler's log`, () => {
    const lines = scheduler
      .log()
      .split('\n')
      .filter((l) => /Successfully bound pod to node/.test(l) && l.includes(`${ns}/${prefix}`));
    return lines.length >= count && lines;
  });
}

/** A Node object as seed.sh makes one: Ready, with capacity, and without the not-ready taint. */
async function createReadyNode(name: string, zone: string): Promise<void> {
  await create('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/region': 'region-1', 'topology.kubernetes.io/zone': zone },
    },
    spec: {},
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const capacity = { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  await api(
    'PATCH',
    `/api/v1/nodes/${name}/status`,
    {
      status: {
        capacity,
        allocatable: capacity,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node', lastHeartbeatTime: now, lastTransitionTime: now }],
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      },
    },
    'application/merge-patch+json',
  );
  await mergePatch(`/api/v1/nodes/${name}`, { spec: { taints: null } });
}
