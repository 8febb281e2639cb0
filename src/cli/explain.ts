// `locus explain`: asks a running extender why a pod scores what it does on each node; prints a table.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { ExplainAnswer } from '../core/decisions.js';
import { EXPLAIN_PATH } from '../extender/app.js';
import { defineCommand } from '../runtime/flags.js';
import { UserError } from '../runtime/errors.js';

const command = defineCommand({
  name: 'explain',
  synopsis: ['<namespace>/<pod> [flags]', '--pod-file <pod.yaml> [flags]'],
  description: `Shows the score breakdown of a pod on each node: its Datasets' bytes on the node, in its zone and
region, what the policy credits, and the 0-10 score kube-scheduler receives. The extender knows pods
the scheduler asked about recently (or reads them from the API); --pod-file sends a pod object.`,
  positionals: true,
  flags: {
    server: { kind: 'string', arg: '<url>', help: 'the extender', default: 'http://127.0.0.1:8888' },
    node: { kind: 'strings', arg: '<name>', help: 'only this node (repeatable; default every node the extender knows)' },
    'pod-file': { kind: 'string', arg: '<file>', help: 'a Pod (YAML or JSON) instead of <namespace>/<pod>' },
    json: { kind: 'boolean', help: "print the extender's answer as JSON" },
  },
});

export async function run(argv: string[], out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const parsed = command.parseOrHelp(argv, out);
  if (!parsed) return 0;
  const { values: v, positionals } = parsed;
  const server = (v.server ?? 'http://127.0.0.1:8888').replace(/\/+$/, '');
  const nodes = v.node;
  let res: Response;
  if (v['pod-file']) {
    if (positionals.length > 0) command.fail('give either <namespace>/<pod> or --pod-file, not both');
    const pod: unknown = parse(await readFile(v['pod-file'], 'utf8'));
    res = await request(`${server}${EXPLAIN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pod, nodes }) });
  } else {
    const [ref, ...extra] = positionals;
    if (!ref || extra.length > 0 || !/^[^/]+\/[^/]+$/.test(ref)) command.fail('give the pod as <namespace>/<name>, e.g. default/trainer-0');
    const query = new URLSearchParams({ pod: ref });
    for (const n of nodes) query.append('node', n);
    res = await request(`${server}${EXPLAIN_PATH}?${query}`, {});
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { Error?: string }).Error ?? text;
    } catch {
      /* not JSON: show as is */
    }
    process.stderr.write(`locus explain: ${server} answered ${res.status}: ${message}\n`);
    return 1;
  }
  const answer = JSON.parse(text) as ExplainAnswer;
  out(v.json ? `${JSON.stringify(answer, null, 2)}\n` : formatExplanation(answer));
  return 0;
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as Error).cause;
    const why = cause instanceof Error ? cause.message : (err as Error).message;
    throw new UserError(`cannot reach the extender at ${new URL(url).origin}: ${why}`, 'start it (locus extender), or point --server at the one that runs', {
      cause: err,
    });
  }
}

const bytes = (n: number | undefined): string => {
  if (n === undefined) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)}${units[i]}`;
};

/** The answer as a table: one row per node and Dataset, best node first. */
export function formatExplanation(a: ExplainAnswer): string {
  const lines = [`pod ${a.pod}  policy ${a.policy}  datasets ${a.datasets.join(', ') || '(none)'}${a.ready ? '' : '  (extender not synced yet)'}`];
  for (const p of a.problems) lines.push(`  problem: ${p.field}: ${p.message}`);
  const rows: string[][] = [['NODE', 'SCORE', 'ZONE', 'LIVE', 'DATASET', 'ON NODE', 'IN ZONE', 'IN REGION', 'SIZE', 'CREDITED', 'NOTE']];
  for (const n of a.nodes) {
    const head = [n.node, String(n.score), n.zone ?? '-', n.inventoryLive ? 'yes' : 'no'];
    // The filter's verdict, for pods with a locality requirement, goes on the node's first row.
    const verdict = n.filter ? (n.filter.passed ? 'filter: passed' : `filtered out: ${n.filter.reason ?? ''}`) : '';
    if (n.datasets.length === 0) rows.push([...head, '-', '', '', '', '', '', verdict]);
    n.datasets.forEach((d, i) => {
      // A slice shows beside its Dataset, and SIZE is then the slice's bytes: what the pod reads.
      const dataset = d.slice ? `${d.dataset} ${d.slice}` : d.dataset;
      const note = [d.note, i === 0 ? verdict : ''].filter(Boolean).join('; ');
      rows.push([
        ...(i === 0 ? head : ['', '', '', '']),
        dataset,
        bytes(d.onNode),
        bytes(d.inZone),
        bytes(d.inRegion),
        bytes(d.sliceBytes ?? d.totalBytes),
        bytes(Math.round(d.credited)),
        note,
      ]);
    });
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    lines.push(
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    );
  return `${lines.join('\n')}\n`;
}
