// `npm run bench:sim`: simulator throughput at 10k, 100k and 1M tasks, one fresh process per case so
// peak RSS is per case. CPU seconds are reported beside wall seconds: on a shared machine they are the
// fairer measure of one core's work. The `default` policy (no inventory, no scoring) is the baseline for the
// `locality` policy, which writes inventories, applies them to the index and scores through the core.
// Both read every block as a flow sharing bandwidth max-min fairly (sim/flows.ts); here the object store
// is saturated most of the time, the flow model's worst case. What that model costs is its share of the
// `locality` run's CPU samples (V8's profiler, in a separate run of the same case, since profiling slows it).
// Prints one JSON line per case, and per size one with the flow model's share.
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { buildCluster, PRESETS } from '../sim/cluster.js';
import { runSimulation } from '../sim/engine.js';
import { makePolicy, type SimPolicyName } from '../sim/policies/index.js';
import { SyntheticParams, syntheticWorkload } from '../sim/workloads/synthetic.js';
import { jsonLine } from './json-line.js';

const SIZES = [10_000, 100_000, 1_000_000];
const POLICIES: SimPolicyName[] = ['default', 'locality'];
const FLOWS_SOURCE = '/sim/flows.ts';

async function child(target: number, policy: SimPolicyName, profile: boolean): Promise<void> {
  const cluster = buildCluster(PRESETS.spark);
  // About 17 one-block tasks per job, arriving fast enough to keep the 1,600 slots busy; the first jobs
  // that make up `target` tasks are kept, so a case runs (within one job) as many tasks as it says.
  const params = SyntheticParams.parse({ jobs: Math.ceil(target / 12), rate: 25, datasets: 200, datasetMedianBytes: 2 * 2 ** 30, datasetSigma: 0.5 });
  const workload = syntheticWorkload(params, 1, cluster.blockSize);
  let tasks = 0;
  const keep = workload.jobs.findIndex((job) => (tasks += job.stages.reduce((sum, s) => sum + s.tasks, 0)) >= target);
  if (keep < 0) throw new Error(`the synthetic workload has only ${tasks} tasks, fewer than ${target}`);
  workload.jobs.length = keep + 1;
  if (profile) {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const run = await runSimulation({ cluster, workload, policy: makePolicy(policy, cluster.spec), seed: 1 });
    const { profile: samples } = await session.post('Profiler.stop');
    session.disconnect();
    jsonLine({ bench: 'sim-flow-model', policy, tasks: run.tasks, flowModelCpuShare: Number(shareIn(samples, FLOWS_SOURCE).toFixed(3)) });
    return;
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const run = await runSimulation({ cluster, workload, policy: makePolicy(policy, cluster.spec), seed: 1 });
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  jsonLine({
    bench: 'sim',
    policy,
    tasks: run.tasks,
    jobs: workload.jobs.length,
    seconds: Number(seconds.toFixed(2)),
    tasksPerSecond: Math.round(run.tasks / seconds),
    cpuSeconds: Number(cpuSeconds.toFixed(2)),
    tasksPerCpuSecond: Math.round(run.tasks / cpuSeconds),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    inventoryWrites: run.inventoryWrites,
    simulatedSeconds: Math.round(run.makespan),
  });
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string }; children?: number[] }>;
  samples?: number[];
  timeDeltas?: number[];
}

/** Share of the profile's sampled time spent in functions of `source` or in what they call. */
function shareIn(profile: CpuProfile, source: string): number {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const inside = new Map<number, boolean>();
  const within = (id: number | undefined): boolean => {
    if (id === undefined) return false;
    let known = inside.get(id);
    if (known === undefined) inside.set(id, (known = byId.get(id)!.callFrame.url.endsWith(source) || within(parent.get(id))));
    return known;
  };
  let all = 0;
  let flows = 0;
  const samples = profile.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    const dt = profile.timeDeltas?.[i] ?? 0;
    all += dt;
    if (within(samples[i])) flows += dt;
  }
  return all > 0 ? flows / all : 0;
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await child(Number(args[1]), args[2] as SimPolicyName, args[3] === '--profile');
} else {
  const sizes = args.length > 0 ? args.map(Number) : SIZES;
  const run = (...rest: string[]) => {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', ...rest], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) process.exitCode = 1;
  };
  for (const size of sizes) {
    for (const policy of POLICIES) run(String(size), policy);
    run(String(size), 'locality', '--profile');
  }
}
