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
import { parseWarmList, WARM_OPTIONS } from '../../sim/warm.js';
import { defaultCluster, loadWorkload, SHIPPED } from '../../sim/workloads/index.js';
import { defineCommand } from '../runtime/flags.js';
import { checkFreshness } from '../runtime/settings.js';

const command = defineCommand({
  name: 'sim',
  synopsis: '--trace <name|file|synthetic[:k=v,…]> [flags]',
  description: `Replays a trace on a modelled cluster under each placement policy, writes report.json and
report.html to --out and prints the summary table. The same --seed gives the same report.json.`,
  flags: {
    trace: {
      kind: 'string',
      arg: '<name|file|synthetic>',
      help: `shipped: ${Object.keys(SHIPPED).join(', ')};\nor a SWIM .tsv, Gavel .trace or Pollux .csv file;\nor generated: synthetic:jobs=2000,rate=0.5,…, serving:models=6,hours=24,…,\nhoard, datashim (see the README) (required)`,
    },
    policies: { kind: 'string', arg: '<list|all>', help: `comma-separated: ${POLICY_NAMES.join(', ')}; or all`, default: 'all' },
    cluster: {
      kind: 'string',
      arg: '<preset|file>',
      help: `preset (${Object.keys(PRESETS).join(', ')}) or a YAML/JSON spec file;\ndefault: hoard/datashim for those traces, gpu for training and serving, spark otherwise`,
    },
    warm: {
      kind: 'string',
      arg: '<list|all>',
      help: `warm-cache options to compare (${WARM_OPTIONS.join(', ')}; or all): each policy runs\nwithout them, with each alone and with all, pod start-up modelled in every run`,
    },
    seed: { kind: 'count', help: 'seed of every random draw', default: 1 },
    out: { kind: 'string', arg: '<dir>', help: 'directory for report.json and report.html', default: 'out/sim' },
  },
});

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parseOrHelp(argv);
  if (!parsed) return 0;
  const values = parsed.values;
  if (!values.trace) return command.fail('--trace is required');
  const seed = values.seed;
  if (!Number.isSafeInteger(seed)) command.fail(`--seed must be an integer, got "${seed}"`);
  let policies;
  let warm;
  try {
    policies = parsePolicyList(values.policies);
    warm = values.warm === undefined ? undefined : parseWarmList(values.warm);
  } catch (err) {
    return command.fail((err as Error).message);
  }
  const spec = loadCluster(values.cluster ?? defaultCluster(values.trace));
  checkFreshness(spec.inventoryTtlSeconds * 1000, spec.inventoryRefreshSeconds * 1000, {
    ttl: "the cluster spec's inventoryTtlSeconds",
    refresh: 'its inventoryRefreshSeconds',
  });
  const cluster = buildCluster(spec);
  const workload = loadWorkload(values.trace, cluster, seed);

  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: '{policy} [{bar}] {percentage}% | {value}/{total} tasks', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  const { report } = await compare({
    cluster,
    workload,
    policies,
    seed,
    warm,
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
