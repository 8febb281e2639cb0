// The summary table printed at the end of a run (Markdown, so it pastes into a README as is).
import type { Report } from './json.js';

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | undefined, digits = 1) => (x === undefined ? '–' : x.toFixed(digits));

export function summaryTable(report: Report): string {
  const header = ['policy', 'mean JCT s', 'median s', 'p95 s', 'makespan s', 'local bytes', 'of compulsory bound', 'of clairvoyant bound', 'remote Gb/s', 'speedup vs default', 'vs no-cache'];
  const rows = report.policies.map((p) => [
    p.policy, num(p.jctSeconds.mean), num(p.jctSeconds.median), num(p.jctSeconds.p95), num(p.makespanSeconds, 0),
    pct(p.hitRatio), pct(p.compulsoryShare), pct(p.clairvoyantShare), num(p.remoteGbps.mean),
    p.speedup.vsDefault === undefined ? '–' : `${p.speedup.vsDefault.toFixed(2)}×`,
    p.speedup.vsNoCache === undefined ? '–' : `${p.speedup.vsNoCache.toFixed(2)}×`,
  ]);
  rows.push(['bound: compulsory misses only', '–', '–', '–', '–', pct(report.bounds.compulsoryHitRatio), '100.0%', '–', '–', '–', '–']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
