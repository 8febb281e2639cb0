// `locus sim`: replay a trace on a modelled cluster under each placement policy; write report.json and
// report.html to --out and print the summary table.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { buildCluster, loadCluster, PRESETS } from '../../sim/cluster.js';
import { POLICY_NAMES, parsePolicyList } from '../../sim/policies/index.js';
import { renderHtml } from '../../sim/report/html.js';
import { summaryTable } from '../../sim/report/table.js';
import { compare } from '../../sim/run.js';
import { loadWorkload, SHIPPED } from '../../sim/workloads/index.js';
import { numberFlag, parseFlags, UsageError } from './flags.js';

const USAGE = `usage: locus sim --trace <name|file|synthetic[:k=v,…]> [--policies <list|all>] [--cluster <preset|file>] [--seed <n>] [--out <dir>]

  --trace      shipped: ${Object.keys(SHIPPED).join(', ')}; or a SWIM .tsv, Gavel .trace or Pollux .csv file;
               or synthetic:jobs=2000,rate=0.5,datasets=50,zipf=1.1,… (see the README)
  --policies   comma-separated: ${POLICY_NAMES.join(', ')}; or all (default)
  --cluster    preset (${Object.keys(PRESETS).join(', ')}) or a YAML/JSON spec file;
               default: gpu for training traces, spark otherwise
  --seed       seed of every random draw (default 1); the same seed gives the same report.json
  --out        directory for report.json and report.html (default out/sim)`;

const isTraining = (trace: string) => /^(gavel|pollux)/.test(trace) || /\.(csv|trace)$/.test(trace);

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    trace: { type: 'string' },
    policies: { type: 'string', default: 'all' },
    cluster: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string', default: 'out/sim' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.trace) throw new UsageError('--trace is required', USAGE);
  const seed = numberFlag(values.seed, 'seed', USAGE, 1);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}"`, USAGE);
  let policies;
  try {
    policies = parsePolicyList(values.policies);
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
  const cluster = buildCluster(loadCluster(values.cluster ?? (isTraining(values.trace) ? 'gpu' : 'spark')));
  const workload = loadWorkload(values.trace, cluster, seed);

  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: '{policy} [{bar}] {percentage}% | {value}/{total} tasks', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  const { report } = await compare({
    cluster, workload, policies, seed,
    onPolicy(name, total) {
      if (!bar) return;
      if (started) bar.stop();
      bar.start(total, 0, { policy: name.padEnd(16) });
      started = true;
    },
    onProgress: (done) => bar?.update(done),
  });
  bar?.stop();

  await mkdir(values.out, { recursive: true });
  await writeFile(join(values.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(values.out, 'report.html'), await renderHtml(report));
  process.stdout.write(`${report.trace.source} on ${report.cluster.name} (${report.trace.jobs} jobs, ${report.trace.tasks} tasks), seed ${seed}\n\n`);
  process.stdout.write(`${summaryTable(report)}\n\nreport: ${join(values.out, 'report.json')}, ${join(values.out, 'report.html')}\n`);
  return 0;
}
