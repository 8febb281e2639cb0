// report.html: one self-contained page, charts drawn to SVG at run time (vega-lite compiled to vega,
// rendered headless), so viewing it needs no network and no script. Policies often differ by a few per
// cent, so every chart shows differences against a reference, on axes that do not start at zero.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Report } from './json.js';
import {
  boundNotes,
  cacheSentence,
  groupTable,
  ORACLE_ROW,
  publishedNotes,
  publishedTable,
  showsColdStart,
  showsGpu,
  summaryHeader,
  summaryRows,
  type Table,
} from './table.js';
import { warmNotes, warmTables } from './warm.js';

// long policy names (the oracle's reference line) stay whole in axes and legends
const config = { axis: { labelLimit: 240 }, legend: { labelLimit: 240 } };

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile({ ...spec, config } as TopLevelSpec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const width = 560;
const height = 260;

/** The charts of a report, in page order; `gpu` only for training work, `coldStart` only for serving. */
export interface ChartSpecs {
  jct: TopLevelSpec;
  local: TopLevelSpec;
  speedup: TopLevelSpec;
  gpu?: TopLevelSpec;
  coldStart?: TopLevelSpec;
}

export function chartSpecs(report: Report): ChartSpecs {
  const order = report.policies.map((p) => p.policy);
  // one colour per policy in every chart, also where `default` is the reference and not drawn; the oracle,
  // drawn only where its figure is one a reader compares (GPU use, cold starts), comes last with its own
  const withOracle = report.oracle ? [...order, ORACLE_ROW] : order;
  const colorBy = (domain: string[]) => ({ field: 'policy', type: 'nominal' as const, sort: domain, scale: { domain }, title: 'policy' });
  const color = colorBy(order);
  const lines = [...report.policies, ...(report.oracle ? [{ ...report.oracle, policy: ORACLE_ROW }] : [])];
  const classes = report.jctBySize.map((c) => `${c.label} (${c.jobs} jobs)`);
  const jct = report.jctBySize.flatMap((c, k) => {
    const base = c.meanJctSeconds.default;
    if (!base) return [];
    return order
      .filter((p) => p !== 'default' && c.meanJctSeconds[p] !== undefined)
      .map((policy) => ({ policy, size: classes[k], change: c.meanJctSeconds[policy] / base - 1 }));
  });
  const local = Object.entries(report.localShare.cumulative).flatMap(([policy, values]) =>
    values.map((share, i) => ({ policy, hours: ((i + 1) * report.localShare.bucketSeconds) / 3600, share })).filter((p) => p.share !== null),
  );
  const speedup: Array<{ policy: string; baseline: string; speedup: number }> = report.policies.flatMap((p) => [
    ...(p.speedup.vsDefault !== undefined ? [{ policy: p.policy, baseline: 'vs default', speedup: p.speedup.vsDefault }] : []),
    ...(p.speedup.vsNoCache !== undefined ? [{ policy: p.policy, baseline: 'vs no-cache', speedup: p.speedup.vsNoCache }] : []),
  ]);
  const cold = showsColdStart(report)
    ? lines.flatMap((p) =>
        p.coldStartSeconds
          ? [
              { policy: p.policy, quantile: 'p50', seconds: p.coldStartSeconds.p50 },
              { policy: p.policy, quantile: 'p99', seconds: p.coldStartSeconds.p99 },
            ]
          : [],
      )
    : [];
  const gpu = showsGpu(report) && !showsColdStart(report) ? lines.map((p) => ({ policy: p.policy, share: p.computeShare })) : [];
  // enough decimals that neighbouring ticks differ: speed-ups often lie within a per mille of 1
  const values = [1, ...speedup.map((s) => s.speedup)];
  const span = Math.max(...values) - Math.min(...values);
  const digits = Math.min(6, Math.max(2, Math.ceil(-Math.log10(span || 1)) + 1));
  return {
    ...(gpu.length > 0
      ? {
          gpu: {
            // utilisation often differs by tenths of a per cent between policies: the axis spans the data, not 0–100 %
            width,
            height: Math.max(120, 32 * gpu.length),
            title: 'GPU utilisation: share of slot time spent computing, not waiting for data',
            data: { values: gpu },
            mark: { type: 'point', filled: true, size: 90 },
            encoding: {
              y: { field: 'policy', type: 'nominal', sort: withOracle, title: null },
              x: {
                field: 'share',
                type: 'quantitative',
                scale: { zero: false, nice: false, padding: 24 },
                axis: { format: '.2~%', tickCount: 6 },
                title: 'GPU utilisation (computeShare)',
              },
              color: colorBy(withOracle),
            },
          },
        }
      : {}),
    ...(cold.length > 0
      ? {
          coldStart: {
            // p50 and p99 lie an order of magnitude apart: a log axis shows both, and each policy's gap between them
            width,
            height: Math.max(120, 32 * (cold.length / 2)),
            title: 'Serving cold start: replica created → weights loaded',
            data: { values: cold },
            layer: [
              {
                mark: { type: 'rule', color: '#bbb' },
                encoding: {
                  y: { field: 'policy', type: 'nominal', sort: withOracle, title: null },
                  x: { aggregate: 'min', field: 'seconds', type: 'quantitative' },
                  x2: { aggregate: 'max', field: 'seconds' },
                },
              },
              {
                mark: { type: 'point', filled: true, size: 90 },
                encoding: {
                  y: { field: 'policy', type: 'nominal', sort: withOracle, title: null },
                  x: {
                    field: 'seconds',
                    type: 'quantitative',
                    scale: { type: 'log', nice: true },
                    axis: { format: '~s', grid: true },
                    title: 'cold start (s, log scale)',
                  },
                  color: colorBy(withOracle),
                  shape: { field: 'quantile', type: 'nominal', title: 'quantile', scale: { domain: ['p50', 'p99'], range: ['circle', 'triangle-right'] } },
                },
              },
            ],
          },
        }
      : {}),
    jct: {
      width,
      height,
      title: 'Mean job completion time against default, by job input size',
      layer: [
        { data: { values: [{ change: 0 }] }, mark: { type: 'rule', color: '#888' }, encoding: { x: { field: 'change', type: 'quantitative' } } },
        {
          data: { values: jct },
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x: {
              field: 'change',
              type: 'quantitative',
              scale: { zero: false, nice: true },
              axis: { format: '+~%' },
              title: 'mean JCT vs default (negative = faster)',
            },
            y: { field: 'size', type: 'nominal', sort: classes, title: 'job input size' },
            yOffset: { field: 'policy', type: 'nominal', sort: order },
            color,
          },
        },
      ],
    },
    local: {
      width,
      height,
      title: 'Cumulative share of bytes read from the local cache',
      data: { values: local },
      mark: { type: 'line', point: false },
      encoding: {
        x: { field: 'hours', type: 'quantitative', title: 'simulated time (h)' },
        y: { field: 'share', type: 'quantitative', title: 'local share of all bytes read so far', axis: { format: '.1%' } },
        color,
      },
    },
    speedup: {
      width,
      height,
      title: 'Mean-JCT speedup',
      layer: [
        { data: { values: [{ speedup: 1 }] }, mark: { type: 'rule', color: '#888' }, encoding: { x: { field: 'speedup', type: 'quantitative' } } },
        {
          data: { values: speedup },
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            y: { field: 'policy', type: 'nominal', sort: order, title: null },
            x: {
              field: 'speedup',
              type: 'quantitative',
              scale: { zero: false, nice: true },
              axis: { format: `.${digits}~f`, tickCount: 8 },
              title: 'speedup (×, 1 = as fast as the baseline)',
            },
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
  return `<table><thead><tr>${header.map((h, i) => `<th${cls(i)}>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escape(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const titled = (t: Table | undefined) => (t ? `<h2>${escape(t.title)}</h2>\n${tableHtml(t.header, t.rows, t.text)}\n` : '');

export async function renderHtml(report: Report): Promise<string> {
  const specs = chartSpecs(report);
  // the workload's own figure (GPU use or cold start) first: it says why the others look as they do
  const charts = await Promise.all([specs.gpu, specs.coldStart, specs.jct, specs.local, specs.speedup].filter((s) => s !== undefined).map(svg));
  const c = report.cluster;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Locus simulation: ${escape(report.trace.source)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;padding:0 .6em;max-width:1380px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px;font-variant-numeric:tabular-nums}
td,th{border:1px solid #ccc;padding:.2em .3em;text-align:right;white-space:nowrap}td:first-child,th:first-child,.text{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1em 2em}figure{margin:1em 0}</style></head>
<body>
<h1>Locus simulation</h1>
<p>Trace <b>${escape(report.trace.source)}</b> (${report.trace.jobs} jobs, ${report.trace.tasks} tasks, ${report.trace.datasets} datasets) on
cluster <b>${escape(c.name)}</b>: ${c.nodes} nodes × ${c.slotsPerNode} slots in ${c.zones} zone(s), ${c.cacheGiBPerNode} GiB cache per node (${c.eviction}),
NIC ${c.nicGbps} Gb/s, object store ${c.objectStoreGbps} Gb/s shared, inventory written every ${report.cluster.inventoryWriteSecondsUsed} s. Seed ${report.seed}.
</p>
<p class="cache">${escape(cacheSentence(report))}</p>
${tableHtml(summaryHeader(report), summaryRows(report))}
<p>Columns: JCT is job completion time; <b>local bytes</b> is the share of bytes read from the node's own cache;
<b>of compulsory</b>, <b>of clairvoyant</b>${report.oracle ? ' and <b>of oracle</b>' : ''} are that share as a fraction of each
bound${report.oracle ? ' or reference' : ''};${showsGpu(report) ? ' <b>GPU util</b> is the share of the time tasks held a GPU that they spent computing rather than waiting for data (computeShare);' : ''}${
    showsColdStart(report)
      ? " <b>cold p50/p99 s</b> are the median and 99th percentile of the seconds from a replica's creation to its weights loaded (queueing for a slot included);"
      : ''
  } <b>vs default</b> and <b>vs no-cache</b> are mean-JCT speedups.</p>
<p>Bounds: <b>compulsory</b> = every read but a block's first is local (${(report.bounds.compulsoryHitRatio * 100).toFixed(1)}% of bytes);
<b>clairvoyant</b> = Belady's MIN over the cluster's total cache capacity with perfect placement, for each policy's own order of reads.
Both are bounds, not policies.${report.oracle ? ` Reference: <b>${escape(report.oracle.label.replace(/^reference: */, ''))}</b>, ${(report.oracle.hitRatio * 100).toFixed(1)}% of bytes local.` : ''}</p>
${boundNotes(report)
  .map((n) => `<p class="note">${escape(n)}</p>`)
  .join('\n')}
${titled(groupTable(report))}${titled(publishedTable(report))}${publishedNotes(report)
    .map((n) => `<p class="gap">${escape(n)}</p>`)
    .join('\n')}
${warmTables(report).map(titled).join('')}${warmNotes(report)
    .map((n) => `<p class="warm">${escape(n)}</p>\n`)
    .join('')}<div class="charts">
${charts.map((s) => `<figure>${s}</figure>`).join('\n')}
</div>
<h2>Modelling notes</h2>
<ul>${report.trace.notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>
</body></html>
`;
}
