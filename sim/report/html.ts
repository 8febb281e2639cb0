// report.html: one self-contained page, charts drawn to SVG at run time (vega-lite compiled to vega,
// rendered headless), so viewing it needs no network and no script. Policies often differ by a few per
// cent, so every chart shows differences against a reference, on axes that do not start at zero.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Report } from './json.js';
import { boundNotes, decimal, groupTable, publishedTable, summaryHeader, summaryRows, type Table } from './table.js';

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
  const order = report.policies.map((p) => p.policy);
  // one colour per policy in every chart, also where `default` is the reference and not drawn
  const color = { field: 'policy', type: 'nominal' as const, sort: order, scale: { domain: order }, title: 'policy' };
  const classes = report.jctBySize.map((c) => `${c.label} (${c.jobs} jobs)`);
  const jct = report.jctBySize.flatMap((c, k) => {
    const base = c.meanJctSeconds.default;
    if (!base) return [];
    return order.filter((p) => p !== 'default' && c.meanJctSeconds[p] !== undefined)
      .map((policy) => ({ policy, size: classes[k], change: c.meanJctSeconds[policy] / base - 1 }));
  });
  const local = Object.entries(report.localShare.cumulative).flatMap(([policy, values]) =>
    values.map((share, i) => ({ policy, hours: ((i + 1) * report.localShare.bucketSeconds) / 3600, share })).filter((p) => p.share !== null));
  const speedup = report.policies.flatMap((p) => [
    ...(p.speedup.vsDefault !== undefined ? [{ policy: p.policy, baseline: 'vs default', speedup: p.speedup.vsDefault }] : []),
    ...(p.speedup.vsNoCache !== undefined ? [{ policy: p.policy, baseline: 'vs no-cache', speedup: p.speedup.vsNoCache }] : []),
  ]);
  return {
    jct: {
      width, height, title: 'Mean job completion time against default, by job input size',
      layer: [
        { data: { values: [{ change: 0 }] }, mark: { type: 'rule', color: '#888' }, encoding: { x: { field: 'change', type: 'quantitative' } } },
        {
          data: { values: jct }, mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x: { field: 'change', type: 'quantitative', scale: { zero: false, nice: true }, axis: { format: '+~%' }, title: 'mean JCT vs default (negative = faster)' },
            y: { field: 'size', type: 'nominal', sort: classes, title: 'job input size' },
            yOffset: { field: 'policy', type: 'nominal', sort: order },
            color,
          },
        },
      ],
    },
    local: {
      width, height, title: 'Cumulative share of bytes read from the local cache', data: { values: local }, mark: { type: 'line', point: false },
      encoding: {
        x: { field: 'hours', type: 'quantitative', title: 'simulated time (h)' },
        y: { field: 'share', type: 'quantitative', title: 'local share of all bytes read so far', axis: { format: '.1%' } },
        color,
      },
    },
    speedup: {
      width, height, title: 'Mean-JCT speedup',
      layer: [
        { data: { values: [{ speedup: 1 }] }, mark: { type: 'rule', color: '#888' }, encoding: { x: { field: 'speedup', type: 'quantitative' } } },
        {
          data: { values: speedup }, mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            y: { field: 'policy', type: 'nominal', sort: order, title: null },
            x: { field: 'speedup', type: 'quantitative', scale: { zero: false, nice: true }, axis: { format: '.3~f', tickCount: 8 }, title: 'speedup (×, 1 = as fast as the baseline)' },
            yOffset: { field: 'baseline', type: 'nominal' },
            color: { field: 'baseline', type: 'nominal', title: 'baseline' },
            shape: { field: 'baseline', type: 'nominal' },
          },
        },
      ],
    },
  };
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function tableHtml(header: string[], rows: string[][], text: number[] = []): string {
  const cls = (i: number) => (text.includes(i) ? ' class="text"' : '');
  return `<table><thead><tr>${header.map((h, i) => `<th${cls(i)}>${escape(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escape(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const titled = (t: Table | undefined) => (t ? `<h2>${escape(t.title)}</h2>\n${tableHtml(t.header, t.rows, t.text)}\n` : '');

export async function renderHtml(report: Report): Promise<string> {
  const specs = chartSpecs(report);
  const charts = await Promise.all([specs.jct, specs.local, specs.speedup].map(svg));
  const c = report.cluster;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Locus simulation: ${escape(report.trace.source)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;padding:0 1em;max-width:1300px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-variant-numeric:tabular-nums}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right;white-space:nowrap}td:first-child,th:first-child,.text{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1em 2em}figure{margin:1em 0}</style></head>
<body>
<h1>Locus simulation</h1>
<p>Trace <b>${escape(report.trace.source)}</b> (${report.trace.jobs} jobs, ${report.trace.tasks} tasks, ${report.trace.datasets} datasets) on
cluster <b>${escape(c.name)}</b>: ${c.nodes} nodes × ${c.slotsPerNode} slots in ${c.zones} zone(s), ${c.cacheGiBPerNode} GiB cache per node (${c.eviction}),
NIC ${c.nicGbps} Gb/s, object store ${c.objectStoreGbps} Gb/s shared, inventory written every ${report.cluster.inventoryWriteSecondsUsed} s. Seed ${report.seed}.
The cluster's ${decimal(report.cache.totalBytes)} of cache is ${report.cache.cacheToWorkingSet.toFixed(2)}× the working set (${decimal(report.cache.workingSetBytes)} of distinct data read).</p>
${tableHtml(summaryHeader(report), summaryRows(report))}
<p>Columns: JCT is job completion time; <b>local bytes</b> is the share of bytes read from the node's own cache;
<b>of compulsory</b>, <b>of clairvoyant</b>${report.oracle ? ' and <b>of oracle</b>' : ''} are that share as a fraction of each
bound${report.oracle ? ' or reference' : ''}; <b>vs default</b> and <b>vs no-cache</b> are mean-JCT speedups.</p>
<p>Bounds: <b>compulsory</b> = every read but a block's first is local (${(report.bounds.compulsoryHitRatio * 100).toFixed(1)}% of bytes);
<b>clairvoyant</b> = Belady's MIN over the cluster's total cache capacity with perfect placement, for each policy's own order of reads.
Both are bounds, not policies.${report.oracle ? ` Reference: <b>${escape(report.oracle.label.replace(/^reference: */, ''))}</b>, ${(report.oracle.hitRatio * 100).toFixed(1)}% of bytes local.` : ''}</p>
${boundNotes(report).map((n) => `<p class="note">${escape(n)}</p>`).join('\n')}
${titled(groupTable(report))}${titled(publishedTable(report))}<div class="charts">
${charts.map((s) => `<figure>${s}</figure>`).join('\n')}
</div>
<h2>Modelling notes</h2>
<ul>${report.trace.notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>
</body></html>
`;
}
