// The summary table printed at the end of a run (Markdown, so it pastes into a README as is) and the
// sentences that explain it; report.html shows the same rows and sentences.
import type { PolicyMetrics } from '../metrics.js';
import type { Report } from './json.js';
import { warmNotes, warmTables } from './warm.js';

const pct = (x: number | undefined, digits = 1) => (x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`);
const num = (x: number | undefined, digits = 1) => (x === undefined ? '–' : x.toFixed(digits));
const times = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)}×`);

/** GPU utilisation means something only where tasks hold GPUs: training workers and serving replicas. */
export const showsGpu = (report: Report) => report.trace.kind === 'training' || report.trace.kind === 'serving' || report.trace.kind === 'mixed';
/** Cold starts exist only for serving replicas (policyMetrics fills them then). */
export const showsColdStart = (report: Report) => report.policies.some((p) => p.coldStartSeconds !== undefined);

/** Short headers: the table must fit a 1,400-pixel page without wrapping (the page explains each). */
export function summaryHeader(report: Report): string[] {
  return [
    'policy',
    'mean JCT s',
    'p50 s',
    'p95 s',
    'makespan s',
    'local bytes',
    'of compulsory',
    'of clairvoyant',
    ...(report.oracle ? ['of oracle'] : []),
    'remote Gb/s',
    ...(showsGpu(report) ? ['GPU util'] : []),
    ...(showsColdStart(report) ? ['cold p50/p99 s'] : []),
    'vs default',
    'vs no-cache',
  ];
}

export const ORACLE_ROW = 'reference: block-aware oracle';

export function summaryRows(report: Report): string[][] {
  const hasOracle = report.oracle !== undefined;
  const gpu = showsGpu(report);
  const cold = showsColdStart(report);
  const row = (name: string, p: PolicyMetrics, ofOracle: number | undefined) => [
    name,
    num(p.jctSeconds.mean),
    num(p.jctSeconds.median),
    num(p.jctSeconds.p95),
    num(p.makespanSeconds, 0),
    pct(p.hitRatio),
    pct(p.compulsoryShare),
    pct(p.clairvoyantShare),
    ...(hasOracle ? [pct(ofOracle)] : []),
    num(p.remoteGbps.mean),
    // GPUs are often busy 99.9 % of the time or more: a second decimal keeps policies apart
    ...(gpu ? [pct(p.computeShare, 2)] : []),
    ...(cold ? [p.coldStartSeconds ? `${num(p.coldStartSeconds.p50)} / ${num(p.coldStartSeconds.p99)}` : '–'] : []),
    times(p.speedup.vsDefault),
    times(p.speedup.vsNoCache),
  ];
  const rows = report.policies.map((p) => row(p.policy, p, p.oracleShare));
  const dash = (n: number) => Array<string>(n).fill('–');
  const bound = ['bound: compulsory misses only', ...dash(4), pct(report.bounds.compulsoryHitRatio), '100.0%'];
  rows.push([...bound, ...dash(summaryHeader(report).length - bound.length)]);
  if (report.oracle) rows.push(row(ORACLE_ROW, report.oracle, 1));
  return rows;
}

export const decimal = (bytes: number) => (bytes >= 1e12 ? `${(bytes / 1e12).toFixed(1)} TB` : `${(bytes / 1e9).toFixed(1)} GB`);
/** The cluster's cache beside the working set, in words: below 1× capacity can bind, far above it cannot. */
export function cacheSentence(report: Report): string {
  const { totalBytes, workingSetBytes, cacheToWorkingSet } = report.cache;
  const ratio = cacheToWorkingSet >= 10 ? cacheToWorkingSet.toFixed(0) : cacheToWorkingSet.toFixed(2);
  const verdict =
    cacheToWorkingSet < 1
      ? 'it cannot hold the working set, so capacity binds and eviction matters'
      : 'it can hold the whole working set, so only where a task runs decides whether its reads are local';
  return `Cache: the cluster's ${decimal(totalBytes)} of cache is ${ratio}× the working set (${decimal(workingSetBytes)} of distinct data read): ${verdict}.`;
}

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
    const why =
      workingSetBytes <= totalBytes
        ? `The cache never binds: the ${decimal(workingSetBytes)} of distinct data the trace reads fit in the cluster's ` +
          `${decimal(totalBytes)} of cache (${c.nodes} × ${c.cacheGiBPerNode} GiB), so even a clairvoyant eviction misses only first reads.`
        : 'Over these orders of reads a clairvoyant eviction keeps every block that is read again, so only first reads miss.';
    notes.push(
      `The clairvoyant bound equals the compulsory bound (${compulsory} of bytes) for ${list(
        same.map((p) => p.policy),
        withBound.length,
      )}, ` + `so "of compulsory" and "of clairvoyant" show the same figures. ${why}`,
    );
  }
  const oracle = report.bounds.oracleHitRatio;
  if (oracle !== undefined) {
    if (pct(oracle) === compulsory) {
      notes.push(
        `The block-aware oracle reaches the compulsory bound (${compulsory} of bytes): knowing the live caches, it reads every ` +
          'block locally after its first read, so "of oracle" and "of compulsory" show the same figures.',
      );
    } else {
      const alike = withBound.filter((p) => pct(p.clairvoyantHitRatio) === pct(oracle) && pct(p.clairvoyantHitRatio) !== compulsory);
      if (alike.length > 0) {
        notes.push(
          `The block-aware oracle's local share (${pct(oracle)}) equals the clairvoyant bound for ${list(
            alike.map((p) => p.policy),
            withBound.length,
          )}, ` + 'so for them "of oracle" and "of clairvoyant" show the same figures.',
        );
      }
    }
  }
  return notes;
}

/** A titled table; columns listed in `text` hold words, aligned left like the first. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  text?: number[];
}

/** Workloads that mix kinds of work: each group's mean JCT per policy, with its speed-up over no-cache. */
export function groupTable(report: Report): Table | undefined {
  if (!report.groups) return undefined;
  const policies = report.policies.map((p) => p.policy);
  return {
    title: 'By job group: mean JCT (s) and speed-up over no-cache',
    header: ['group', 'jobs', ...policies],
    rows: report.groups.map((g) => [
      g.group,
      String(g.jobs),
      ...policies.map((p) => `${num(g.meanJctSeconds[p])}${g.vsNoCache[p] === undefined ? '' : ` (${times(g.vsNoCache[p])})`}`),
    ]),
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

/**
 * Where the simulated speed-up lands against the published one, per claim, for the data-aware policy
 * (locality, else the best one that ran), so the gap is stated and not left to the reader.
 */
export function publishedNotes(report: Report): string[] {
  if (!report.published) return [];
  return report.published.claims.flatMap((c) => {
    const named =
      c.simulated.locality !== undefined
        ? 'locality'
        : Object.keys(c.simulated)
            .filter((p) => p !== 'no-cache')
            .sort((a, b) => c.simulated[b] - c.simulated[a])[0];
    if (named === undefined) return [];
    const sim = c.simulated[named];
    const gap = sim / c.published;
    const how = Math.abs(gap - 1) < 0.05 ? 'matches it' : gap > 1 ? `is ${gap.toFixed(2)}× the published figure` : `reaches ${(gap * 100).toFixed(0)}% of it`;
    return [
      `${c.group}: published ${times(c.published)}, simulated ${times(sim)} (${named}) — the simulated speed-up ${how}; ` +
        'the README (Training, serving and published experiments) explains the gap.',
    ];
  });
}

function markdown(header: string[], rows: string[][], text: number[] = []): string {
  const left = (i: number) => i === 0 || text.includes(i);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (left(i) ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function summaryTable(report: Report): string {
  const more = [groupTable(report), publishedTable(report), ...warmTables(report)].flatMap((t) =>
    t ? [`${t.title}:\n\n${markdown(t.header, t.rows, t.text)}`] : [],
  );
  return [
    markdown(summaryHeader(report), summaryRows(report)),
    cacheSentence(report),
    ...boundNotes(report),
    ...more,
    ...publishedNotes(report),
    ...warmNotes(report),
  ].join('\n\n');
}
