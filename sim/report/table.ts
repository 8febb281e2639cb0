// The summary table printed at the end of a run (Markdown, so it pastes into a README as is) and the
// sentences that explain it; report.html shows the same rows and sentences.
import type { PolicyMetrics } from '../metrics.js';
import type { Report } from './json.js';

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | undefined, digits = 1) => (x === undefined ? '–' : x.toFixed(digits));
const times = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)}×`);

/** Short headers: the table must fit a 1,400-pixel page without wrapping (the page explains each). */
export function summaryHeader(report: Report): string[] {
  return ['policy', 'mean JCT s', 'p50 s', 'p95 s', 'makespan s', 'local bytes', 'of compulsory', 'of clairvoyant',
    ...(report.oracle ? ['of oracle'] : []), 'remote Gb/s', 'vs default', 'vs no-cache'];
}

export const ORACLE_ROW = 'reference: block-aware oracle';

export function summaryRows(report: Report): string[][] {
  const hasOracle = report.oracle !== undefined;
  const row = (name: string, p: PolicyMetrics, ofOracle: number | undefined) => [
    name, num(p.jctSeconds.mean), num(p.jctSeconds.median), num(p.jctSeconds.p95), num(p.makespanSeconds, 0),
    pct(p.hitRatio), pct(p.compulsoryShare), pct(p.clairvoyantShare), ...(hasOracle ? [pct(ofOracle)] : []), num(p.remoteGbps.mean),
    times(p.speedup.vsDefault), times(p.speedup.vsNoCache),
  ];
  const rows = report.policies.map((p) => row(p.policy, p, p.oracleShare));
  const dash = (n: number) => Array<string>(n).fill('–');
  rows.push(['bound: compulsory misses only', ...dash(4), pct(report.bounds.compulsoryHitRatio), '100.0%', ...dash(hasOracle ? 5 : 4)]);
  if (report.oracle) rows.push(row(ORACLE_ROW, report.oracle, 1));
  return rows;
}

export const decimal = (bytes: number) => (bytes >= 1e12 ? `${(bytes / 1e12).toFixed(1)} TB` : `${(bytes / 1e9).toFixed(1)} GB`);
const list = (names: string[], all: number) => (names.length === all ? 'every policy' : names.join(', '));

/**
 * One sentence for each pair of bounds or references that come out equal as printed, with the reason when
 * the report shows it: equal columns with no word read as a bug.
 */
export function boundNotes(report: Report): string[] {
  const notes: string[] = [];
  const compulsory = pct(report.bounds.compulsoryHitRatio);
  const withBound = report.policies.filter((p) => p.clairvoyantHitRatio !== undefined);
  const same = withBound.filter((p) => pct(p.clairvoyantHitRatio) === compulsory);
  if (same.length > 0) {
    const c = report.cluster;
    const { totalBytes, workingSetBytes } = report.cache;
    const why = workingSetBytes <= totalBytes
      ? `The cache never binds: the ${decimal(workingSetBytes)} of distinct data the trace reads fit in the cluster's `
        + `${decimal(totalBytes)} of cache (${c.nodes} × ${c.cacheGiBPerNode} GiB), so even a clairvoyant eviction misses only first reads.`
      : 'Over these orders of reads a clairvoyant eviction keeps every block that is read again, so only first reads miss.';
    notes.push(`The clairvoyant bound equals the compulsory bound (${compulsory} of bytes) for ${list(same.map((p) => p.policy), withBound.length)}, `
      + `so "of compulsory" and "of clairvoyant" show the same figures. ${why}`);
  }
  const oracle = report.bounds.oracleHitRatio;
  if (oracle !== undefined) {
    if (pct(oracle) === compulsory) {
      notes.push(`The block-aware oracle reaches the compulsory bound (${compulsory} of bytes): knowing the live caches, it reads every `
        + 'block locally after its first read, so "of oracle" and "of compulsory" show the same figures.');
    } else {
      const alike = withBound.filter((p) => pct(p.clairvoyantHitRatio) === pct(oracle) && pct(p.clairvoyantHitRatio) !== compulsory);
      if (alike.length > 0) {
        notes.push(`The block-aware oracle's local share (${pct(oracle)}) equals the clairvoyant bound for ${list(alike.map((p) => p.policy), withBound.length)}, `
          + 'so for them "of oracle" and "of clairvoyant" show the same figures.');
      }
    }
  }
  return notes;
}

/** A titled table; columns listed in `text` hold words, aligned left like the first. */
export interface Table { title: string; header: string[]; rows: string[][]; text?: number[] }

/** Workloads that mix kinds of work: each group's mean JCT per policy, with its speed-up over no-cache. */
export function groupTable(report: Report): Table | undefined {
  if (!report.groups) return undefined;
  const policies = report.policies.map((p) => p.policy);
  return {
    title: 'By job group: mean JCT (s) and speed-up over no-cache',
    header: ['group', 'jobs', ...policies],
    rows: report.groups.map((g) => [g.group, String(g.jobs), ...policies.map((p) =>
      `${num(g.meanJctSeconds[p])}${g.vsNoCache[p] === undefined ? '' : ` (${times(g.vsNoCache[p])})`}`)]),
  };
}

/** A workload modelled on a published experiment: each published speed-up beside the simulated ones. */
export function publishedTable(report: Report): Table | undefined {
  if (!report.published) return undefined;
  const policies = report.policies.map((p) => p.policy).filter((p) => p !== 'no-cache');
  return {
    title: `Published (${report.published.source}) beside simulated: speed-up over no-cache`,
    header: ['group', 'published', ...policies, 'what was published'],
    rows: report.published.claims.map((c) => [c.group, times(c.published), ...policies.map((p) => times(c.simulated[p])), c.what]),
    text: [policies.length + 2],
  };
}

function markdown(header: string[], rows: string[][], text: number[] = []): string {
  const left = (i: number) => i === 0 || text.includes(i);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (left(i) ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function summaryTable(report: Report): string {
  const more = [groupTable(report), publishedTable(report)].flatMap((t) => (t ? [`${t.title}:\n\n${markdown(t.header, t.rows, t.text)}`] : []));
  return [markdown(summaryHeader(report), summaryRows(report)), ...boundNotes(report), ...more].join('\n\n');
}
