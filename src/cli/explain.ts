// `locus explain`: asks a running extender why a pod scores what it does on each node; prints a table.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { ExplainAnswer } from '../core/decisions.js';
import { EXPLAIN_PATH } from '../extender/app.js';
import { UsageError, parseFlags } from './flags.js';

const USAGE = `usage: locus explain <namespace>/<pod> [flags]
       locus explain --pod-file <pod.yaml> [flags]

Shows the score breakdown of a pod on each node: its Datasets' bytes on the node, in its zone and
region, what the policy credits, and the 0-10 score kube-scheduler receives. The extender knows pods
the scheduler asked about recently (or reads them from the API); --pod-file sends a pod object.

flags:
  --server <url>       the extender (default http://127.0.0.1:8888)
  --node <name>        only this node (repeatable; default every node the extender knows)
  --pod-file <file>    a Pod (YAML or JSON) instead of <namespace>/<pod>
  --json               print the extender's answer as JSON
  -h, --help           show this help`;

const options = {
  server: { type: 'string' },
  node: { type: 'string', multiple: true },
  'pod-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[], out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, options, USAGE, true);
  if (v.help) {
    out(`${USAGE}\n`);
    return 0;
  }
  const server = (v.server ?? 'http://127.0.0.1:8888').replace(/\/+$/, '');
  const nodes = v.node ?? [];
  let res: Response;
  if (v['pod-file']) {
    if (positionals.length > 0) throw new UsageError('give either <namespace>/<pod> or --pod-file, not both', USAGE);
    const pod: unknown = parse(await readFile(v['pod-file'], 'utf8'));
    res = await request(`${server}${EXPLAIN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pod, nodes }) });
  } else {
    const [ref, ...extra] = positionals;
    if (!ref || extra.length > 0 || !/^[^/]+\/[^/]+$/.test(ref)) throw new UsageError('give the pod as <namespace>/<name>, e.g. default/trainer-0', USAGE);
    const query = new URLSearchParams({ pod: ref });
    for (const n of nodes) query.append('node', n);
    res = await request(`${server}${EXPLAIN_PATH}?${query}`, {});
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { Error?: string }).Error ?? text;
    } catch { /* not JSON: show as is */ }
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
    throw new Error(`cannot reach the extender at ${url}: ${(err as Error).cause ?? (err as Error).message}; is it running? (--server)`, { cause: err });
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
    if (n.datasets.length === 0) rows.push([...head, '-', '', '', '', '', '', '']);
    n.datasets.forEach((d, i) => {
      rows.push([...(i === 0 ? head : ['', '', '', '']), d.dataset, bytes(d.onNode), bytes(d.inZone), bytes(d.inRegion), bytes(d.totalBytes), bytes(Math.round(d.credited)), d.note ?? '']);
    });
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  return `${lines.join('\n')}\n`;
}
