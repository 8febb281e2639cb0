// The measurement of `npm run bench:scheduler` (started by bench/scheduler.sh, which brings up etcd and
// kube-apiserver): pods bound per second by kube-scheduler 1.20 run from the repo's locus-scheduler
// configuration, once without its extender and once with `locus extender`, same binary, same config
// otherwise (percentageOfNodesToScore 100), same pods, same fake nodes.
//
// LOCUS_BENCH_NODES fake Ready nodes in 10 zones, 3 listed Datasets of 1,000 blocks, a NodeCache
// on every fourth node; each pod reads the 3 Datasets. Per run the pods are created first, then the
// scheduler starts; the rate is taken between 10 % and 90 % of them bound (polled every 100 ms), so
// neither the scheduler's start nor the last stragglers count. Prints one JSON line per run and the
// ratio; target: with the extender ≥ 90 % of the scheduler's own rate.
//
// On a cluster the extender runs in pods of its own, not on the control plane's CPUs. Here, with two
// cores and taskset (LOCUS_BENCH_PIN=0 turns it off), etcd, kube-apiserver and kube-scheduler are
// pinned to core 1 in both runs and the extender (and this process) to core 0, so that the run with
// the extender measures what it adds to the scheduling cycle, not the CPU it takes from the
// apiserver and etcd; unpinned, all of them share both cores.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { api, create, get, mergePatch } from '../test/e2e/support/api.js';
import { installCrds } from '../test/e2e/support/crds.js';
import { createListedDataset } from '../test/e2e/support/datasets.js';
import { cluster } from '../test/e2e/support/env.js';
import { extenderUrl, startExtender } from '../test/e2e/support/extender.js';
import { writeNodeCache } from '../test/e2e/support/nodecache.js';
import { createPod, pod, podPath } from '../test/e2e/support/pods.js';
import { forTestCluster, readSchedulerConfig } from '../test/e2e/support/scheduler.js';
import { start } from '../test/e2e/support/process.js';
import { jsonLine } from './json-line.js';

const NODES = Number(process.env.LOCUS_BENCH_NODES ?? 1000);
const PODS = Number(process.env.LOCUS_BENCH_PODS ?? 500);
const RUN_TIMEOUT_MS = 240_000;
const CONFIG = 'scheduler-config/locus-scheduler-v1beta1.yaml';
const DATASET_NS = 'locus-bench-0';
const DATASETS = ['a', 'b', 'c'];
const BLOCKS = 1000;
const BLOCK = 1 << 24;
const nodeName = (i: number) => `bench-node-${String(i).padStart(5, '0')}`;
const PINNED = process.env.LOCUS_BENCH_PIN !== '0' && availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
const CONTROL_PLANE_CORE = 1;
const EXTENDER_CORE = 0;

/** Pins every thread of a process (by pid, or by its pid file's name) to one core. */
function pin(who: number | string, core: number): void {
  const pid = typeof who === 'number' ? String(who) : readFileSync(join(cluster.state, 'pids', `${who}.pid`), 'utf8').trim();
  const res = spawnSync('taskset', ['-a', '-cp', String(core), pid], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`taskset could not pin ${who} (pid ${pid}) to core ${core}: ${res.stderr}`);
}

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** A Ready node as seed.sh makes one (no kubelet): object, status, no not-ready taint. */
async function fakeNode(i: number): Promise<void> {
  const name = nodeName(i);
  await create('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/zone': `zone-${i % 10}`,
        'topology.kubernetes.io/region': `region-${i % 2}`,
      },
    },
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const resources = { cpu: '32', memory: '128Gi', pods: '110' };
  await api(
    'PATCH',
    `/api/v1/nodes/${name}/status`,
    {
      status: {
        capacity: resources,
        allocatable: resources,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node', lastHeartbeatTime: now, lastTransitionTime: now }],
        addresses: [
          { type: 'InternalIP', address: '127.0.0.1' },
          { type: 'Hostname', address: name },
        ],
      },
    },
    'application/merge-patch+json',
  );
  await mergePatch(`/api/v1/nodes/${name}`, { spec: { taints: null } });
}

async function boundCount(namespace: string): Promise<number> {
  const list = await get<{ items: Array<{ spec: { nodeName?: string } }> }>(`${podPath(namespace)}?fieldSelector=spec.nodeName!%3D`);
  return list.items.length;
}

/** Creates the pods, starts the scheduler, and times 10 % → 90 % of them bound. */
async function run(label: string, namespace: string, withExtender: boolean): Promise<number> {
  const base = forTestCluster(readSchedulerConfig(CONFIG), cluster.ports.extender, cluster.ports.locusScheduler);
  const config = withExtender ? base : { ...base, extenders: undefined };
  const file = `locus-scheduler-bench-${withExtender ? 'extender' : 'plain'}.yaml`;
  writeFileSync(join(cluster.state, file), stringify(config));
  const schedulerName = config.profiles?.[0]?.schedulerName ?? 'locus-scheduler';
  const labels = Object.fromEntries(
    DATASETS.flatMap((d, i) => [
      [`dataset.${i}.id`, d],
      [`dataset.${i}.useas`, 'mount'],
    ]),
  );
  // The same pods in both runs; a pod's Dataset labels name Datasets of its own namespace.
  await pool(
    Array.from({ length: PODS }, (_, i) => i),
    16,
    (i) => createPod(pod(namespace, `p-${i}`, { schedulerName, labels, cpu: '10m' })),
  );
  const scheduler = start('locus-scheduler', join(cluster.bin, 'kube-scheduler'), [`--config=${file}`, '--secure-port=0', '--v=1'], { cwd: cluster.state });
  try {
    if (PINNED) pin('locus-scheduler', CONTROL_PLANE_CORE);
    const started = Date.now();
    let t10 = 0;
    let t90 = 0;
    let bound = 0;
    while (bound < PODS) {
      if (Date.now() - started > RUN_TIMEOUT_MS) throw new Error(`${label}: ${bound} of ${PODS} pods bound after ${RUN_TIMEOUT_MS / 1000} s`);
      if (!scheduler.running()) throw new Error(`${label}: kube-scheduler exited: ${scheduler.log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
      bound = await boundCount(namespace);
      const now = performance.now();
      if (!t10 && bound >= PODS * 0.1) t10 = now;
      if (!t90 && bound >= PODS * 0.9) t90 = now;
    }
    const podsPerSec = (PODS * 0.8) / ((t90 - t10) / 1000);
    jsonLine({
      bench: 'scheduler',
      run: label,
      nodes: NODES,
      pods: PODS,
      pinned: PINNED,
      podsPerSec: Math.round(podsPerSec * 10) / 10,
      secondsToAllBound: (Date.now() - started) / 1000,
    });
    return podsPerSec;
  } finally {
    await scheduler.stop();
  }
}

/** The extender's answers so far by verb and outcome, from /metrics: an ignorable extender that fails is skipped silently. */
async function extenderAnswers(): Promise<Record<string, number>> {
  const text = await (await fetch(extenderUrl('/metrics'))).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^locus_extender_requests_total\{verb="(\w+)",outcome="([\w-]+)"\} (\d+)/gm)) out[`${m[1]} ${m[2]}`] = Number(m[3]);
  return out;
}

async function main() {
  await pool(
    Array.from({ length: NODES }, (_, i) => i),
    16,
    fakeNode,
  );
  await installCrds();
  for (const d of DATASETS) await createListedDataset(DATASET_NS, d, BLOCKS, BLOCK, 'v1');
  // Every fourth node caches a contiguous run of each Dataset: a real index for the extender to score.
  const holders = Array.from({ length: Math.floor(NODES / 4) }, (_, k) => 4 * k);
  await pool(holders, 16, (i) =>
    writeNodeCache(
      nodeName(i),
      DATASETS.map((name, d) => {
        const from = (i * 37 + d * 101) % BLOCKS;
        return { namespace: DATASET_NS, name, from, to: Math.min(BLOCKS, from + 200), blockSize: BLOCK, blockCount: BLOCKS, catalogVersion: 'v1' };
      }),
    ),
  );
  const extender = await startExtender();
  try {
    if (PINNED) {
      for (const name of ['etcd', 'kube-apiserver']) pin(name, CONTROL_PLANE_CORE);
      pin('extender', EXTENDER_CORE);
      pin(process.pid, EXTENDER_CORE);
    }
    // The plain scheduler first, then with the extender, each on pods of its own namespace.
    const plain = await run('kube-scheduler (no extender)', 'locus-bench-1', false);
    const withExtender = await run('locus-scheduler + extender', DATASET_NS, true);
    const answers = await extenderAnswers();
    jsonLine({ bench: 'scheduler', kind: 'extender answers', answers });
    if (!((answers['prioritize ok'] ?? 0) >= PODS))
      throw new Error(`the extender scored ${answers['prioritize ok'] ?? 0} of ${PODS} pods: the run measured kube-scheduler skipping it`);
    jsonLine({
      bench: 'scheduler',
      kind: 'targets',
      nodes: NODES,
      pinned: PINNED,
      extenderVsScheduler: Math.round((withExtender / plain) * 1000) / 1000,
      target: 0.9,
      met: withExtender / plain >= 0.9,
    });
  } finally {
    await extender.stop();
  }
}

await main();
