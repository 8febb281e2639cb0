// `npm run bench:sim`: simulator throughput at 10k, 100k and 1M tasks, one fresh process per case so
// peak RSS is per case. CPU seconds are reported beside wall seconds: on a shared machine they are the
// fairer measure of one core's work. The `default` policy (no inventory, no scoring) is the baseline for the
// `locality` policy, which writes inventories, applies them to the index and scores through the core.
// Both read every block as a flow sharing bandwidth max-min fairly (sim/flows.ts); here the object store
// is saturated most of the time, the flow model's worst case.
// Prints one JSON line per case.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildCluster, PRESETS } from '../sim/cluster.js';
import { runSimulation } from '../sim/engine.js';
import { makePolicy, type SimPolicyName } from '../sim/policies/index.js';
import { SyntheticParams, syntheticWorkload } from '../sim/workloads/synthetic.js';
import { jsonLine } from './json-line.js';

const SIZES = [10_000, 100_000, 1_000_000];
const POLICIES: SimPolicyName[] = ['default', 'locality'];

async function child(target: number, policy: SimPolicyName): Promise<void> {
  const cluster = buildCluster(PRESETS.spark);
  // About 17 one-block tasks per job, arriving fast enough to keep the 1,600 slots busy; the first jobs
  // that make up `target` tasks are kept, so a case runs (within one job) as many tasks as it says.
  const params = SyntheticParams.parse({ jobs: Math.ceil(target / 12), rate: 25, datasets: 200, datasetMedianBytes: 2 * 2 ** 30, datasetSigma: 0.5 });
  const workload = syntheticWorkload(params, 1, cluster.blockSize);
  let tasks = 0;
  const keep = workload.jobs.findIndex((job) => (tasks += job.stages.reduce((sum, s) => sum + s.tasks, 0)) >= target);
  if (keep < 0) throw new Error(`the synthetic workload has only ${tasks} tasks, fewer than ${target}`);
  workload.jobs.length = keep + 1;
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

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await child(Number(args[1]), args[2] as SimPolicyName);
} else {
  const sizes = args.length > 0 ? args.map(Number) : SIZES;
  for (const size of sizes) {
    for (const policy of POLICIES) {
      const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', String(size), policy], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      if (r.status !== 0) process.exitCode = 1;
    }
  }
}
