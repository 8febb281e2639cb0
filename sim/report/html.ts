// report.html: one self-contained page, charts drawn to SVG at run time (vega-lite compiled to vega,
// rendered headless), so viewing it needs no network and no script.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Report } from './json.js';
import { summaryTable } from './table.js';

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const width = 560;
const height = 260;

export function chartSpecs(report: Report): Record<'jct' | 'local' | 'speedup', TopLevelSpec> {
  const cdf = Object.entries(report.jctCdf).flatMap(([policy, points]) => points.map(([jct, fraction]) => ({ policy, jct: Math.max(jct, 0.001), fraction })));
  const local = Object.entries(report.localShare.series).flatMap(([policy, values]) =>
    values.map((share, i) => ({ policy, hours: (i * report.localShare.bucketSeconds) / 3600, share })).filter((p) => p.share !== null));
  const speedup = report.policies.flatMap((p) => [
    ...(p.speedup.vsDefault !== undefined ? [{ policy: p.policy, baseline: 'vs default', speedup: p.speedup.vsDefault }] : []),
    ...(p.speedup.vsNoCache !== undefined ? [{ policy: p.policy, baseline: 'vs no-cache', speedup: p.speedup.vsNoCache }] : []),
  ]);
  const color = { field: 'policy', type: 'nominal' as const, sort: report.policies.map((p) => p.policy) };
  return {
    jct: {
      width, height, title: 'Job completion time (CDF)', data: { values: cdf }, mark: 'line',
      encoding: {
        x: { field: 'jct', type: 'quantitative', scale: { type: 'log' }, title: 'job completion time (s, log scale)' },
        y: { field: 'fraction', type: 'quantitative', title: 'fraction of jobs' },
        color,
      },
    },
    local: {
      width, height, title: 'Share of bytes read from the local cache', data: { values: local }, mark: { type: 'line', point: false },
      encoding: {
        x: { field: 'hours', type: 'quantitative', title: 'simulated time (h)' },
        y: { field: 'share', type: 'quantitative', title: 'local share', scale: { domain: [0, 1] } },
        color,
      },
    },
    speedup: {
      width, height, title: 'Mean-JCT speedup', data: { values: speedup }, mark: 'bar',
      encoding: {
        y: { field: 'policy', type: 'nominal', sort: report.policies.map((p) => p.policy), title: null },
        x: { field: 'speedup', type: 'quantitative', title: 'speedup (×)' },
        yOffset: { field: 'baseline', type: 'nominal' },
        color: { field: 'baseline', type: 'nominal' },
      },
    },
  };
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function tableHtml(markdown: string): string {
  const rows = markdown.split('\n').filter((_, i) => i !== 1).map((l) => l.slice(1, -1).split('|').map((c) => c.trim()));
  const [head, ...body] = rows;
  return `<table><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${
    body.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export async function renderHtml(report: Report): Promise<string> {
  const specs = chartSpecs(report);
  const charts = await Promise.all([specs.jct, specs.local, specs.speedup].map(svg));
  const c = report.cluster;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Locus simulation: ${escape(report.trace.source)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}</style></head>
<body>
<h1>Locus simulation</h1>
<p>Trace <b>${escape(report.trace.source)}</b> (${report.trace.jobs} jobs, ${report.trace.tasks} tasks, ${report.trace.datasets} datasets) on
cluster <b>${escape(c.name)}</b>: ${c.nodes} nodes × ${c.slotsPerNode} slots in ${c.zones} zone(s), ${c.cacheGiBPerNode} GiB cache per node (${c.eviction}),
NIC ${c.nicGbps} Gb/s, object store ${c.objectStoreGbps} Gb/s shared, inventory written every ${report.cluster.inventoryWriteSecondsUsed} s. Seed ${report.seed}.</p>
${tableHtml(summaryTable(report))}
<p>Bounds: <b>compulsory</b> = every read but a block's first is local (${(report.bounds.compulsoryHitRatio * 100).toFixed(1)}% of bytes);
<b>clairvoyant</b> = Belady's MIN over the cluster's total cache capacity with perfect placement, for each policy's own order of reads.
Both are bounds, not policies.</p>
${charts.map((s) => `<figure>${s}</figure>`).join('\n')}
<h2>Modelling notes</h2>
<ul>${report.trace.notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>
</body></html>
`;
}
