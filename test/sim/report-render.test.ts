// report.html as a reader sees it: reports of a shipped SWIM sample, a small Gavel training trace and a
// small serving trace, rendered by headless Chromium at 1,400 px, checked through layout measured in the
// page (test/sim/report-probe.js) and through the screenshot's pixels.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCluster, loadCluster } from '../../sim/cluster.js';
import { parsePolicyList } from '../../sim/policies/index.js';
import { renderHtml } from '../../sim/report/html.js';
import { summaryHeader } from '../../sim/report/table.js';
import type { Report } from '../../sim/report/json.js';
import { compare } from '../../sim/run.js';
import { loadWorkload } from '../../sim/workloads/index.js';
import { CHROMIUM, dumpDom, screenshot } from '../support/chromium.js';
import { decodePng, type Image } from '../support/png.js';
import { skipBecause } from '../support/skip.js';

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}
interface Probe {
  viewport: number;
  scrollWidth: number;
  pageHeight: number;
  table: { right: number; headerLines: number[] };
  notes: Array<{ text: string; height: number }>;
  cache: string;
  charts: Array<{ title: string; box: Box; symbols: Array<{ label: string; x: number; y: number }>; lineWidths: number[]; axisLabels: string[] }>;
}

const WIDTH = 1400;
/** The charts' plot width (chartSpecs in sim/report/html.ts). */
const PLOT_WIDTH = 560;

/** Share of a region's pixels in colour (not white, grey or black): what vega's marks paint. */
function colouredShare(img: Image, b: Box): number {
  let coloured = 0;
  let all = 0;
  for (let y = Math.max(0, Math.floor(b.top)); y < Math.min(img.height, b.top + b.height); y++) {
    for (let x = Math.max(0, Math.floor(b.left)); x < Math.min(img.width, b.left + b.width); x++) {
      const i = (y * img.width + x) * 4;
      const [r, g, bl] = [img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]];
      if (Math.max(r, g, bl) - Math.min(r, g, bl) > 30) coloured++;
      all++;
    }
  }
  return all ? coloured / all : 0;
}

/** A comparison of every policy on `trace`, rendered, probed and photographed. */
async function rendered(trace: string, preset: string, dir: string): Promise<{ report: Report; probe: Probe; shot: Image }> {
  const cluster = buildCluster(loadCluster(preset));
  const { report } = await compare({ cluster, workload: loadWorkload(trace, cluster, 1), policies: parsePolicyList('all'), seed: 1 });
  const html = await renderHtml(report);
  writeFileSync(join(dir, 'report.html'), html);
  // The probe runs in a copy: the report itself carries no script.
  writeFileSync(join(dir, 'probe.html'), html.replace('</body>', `<script>\n${readFileSync('test/sim/report-probe.js', 'utf8')}\n</script></body>`));
  const dom = await dumpDom(join(dir, 'probe.html'), { width: WIDTH, height: 1000 });
  const json = /<pre id="probe">(.*?)<\/pre>/s.exec(dom)?.[1];
  expect(json, 'the probe ran').to.be.a('string');
  const probe: Probe = JSON.parse(json!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
  const shot = decodePng(await screenshot(join(dir, 'report.html'), join(dir, 'report.png'), { width: WIDTH, height: Math.ceil(probe.pageHeight) }));
  return { report, probe, shot };
}

/** No header wraps, nothing runs past the window. */
function fits(report: Report, probe: Probe): void {
  expect(probe.viewport).to.equal(WIDTH);
  expect(probe.scrollWidth).to.be.at.most(WIDTH);
  expect(probe.table.right).to.be.at.most(WIDTH);
  expect(probe.table.headerLines.length).to.be.at.least(summaryHeader(report).length);
  expect(probe.table.headerLines).to.satisfy((lines: number[]) => lines.every((n) => n === 1));
  for (const chart of probe.charts) expect(chart.box.left + chart.box.width, chart.title).to.be.at.most(WIDTH);
}

/**
 * Every chart paints its marks: colour where each point's centre is, and lines over a visible share of the
 * chart; and the page's margin beside the charts stays blank.
 */
function painted(probe: Probe, shot: Image): void {
  expect(shot.width).to.equal(WIDTH);
  for (const chart of probe.charts) {
    for (const s of chart.symbols)
      expect(colouredShare(shot, { left: s.x - 3, top: s.y - 3, width: 7, height: 7 }), `${chart.title}: ${s.label}`).to.be.above(0.2);
    if (chart.lineWidths.length > 0) expect(colouredShare(shot, chart.box), chart.title).to.be.above(0.003);
    expect(chart.symbols.length + chart.lineWidths.length, chart.title).to.be.above(0);
  }
  expect(colouredShare(shot, { left: WIDTH - 30, top: 0, width: 30, height: shot.height })).to.equal(0);
}

/** The points' horizontal spread as a share of the plot's width: near 1 when the axis spans the data, not 0. */
const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / PLOT_WIDTH;
/** A field of a point's data, from the aria-label vega writes ("policy: locality; quantile: p50; …"). */
const field = (label: string, name: string) => new RegExp(`(?:^|; )${name}: ([^;]+)`).exec(label)?.[1];

describe('sim: report.html rendered in Chromium (swim-fb2009 on spark, 1,400 px wide)', function () {
  this.timeout(120_000);
  let dir: string;
  let report: Report;
  let probe: Probe;
  let shot: Image;

  before(async function () {
    if (!CHROMIUM) skipBecause(this, "needs Debian's chromium (apt-get install chromium; .ci/run installs it)");
    dir = mkdtempSync(join(tmpdir(), 'locus-report-'));
    ({ report, probe, shot } = await rendered('swim-fb2009', 'spark', dir));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fits: no header wraps and nothing runs past the window', () => fits(report, probe));

  it('says, where it shows them, why "of compulsory" equals "of clairvoyant"', () => {
    expect(probe.notes.length).to.be.at.least(1);
    expect(probe.notes[0].text).to.match(/^The clairvoyant bound equals the compulsory bound \(\d+\.\d% of bytes\) for every policy.*The cache never binds/);
    for (const note of probe.notes) expect(note.height, note.text).to.be.greaterThan(0);
  });

  it('draws JCT per job-size class against default, across the width of the plot', () => {
    const [jct] = probe.charts;
    expect(jct.title).to.match(/against default, by job input size/);
    expect(jct.symbols).to.have.length((report.policies.length - 1) * report.jctBySize.length);
    expect(spread(jct.symbols.map((s) => s.x))).to.be.above(0.7);
    expect(jct.axisLabels).to.include('+0%');
  });

  it('draws the cumulative local share: one line per policy across the whole run', () => {
    const local = probe.charts[1];
    expect(local.title).to.equal('Cumulative share of bytes read from the local cache');
    expect(local.lineWidths).to.have.length(report.policies.length);
    const widest = Math.max(...local.lineWidths);
    for (const w of local.lineWidths) expect(w).to.be.above(widest * 0.95);
  });

  it('shows speedups on an axis that starts near the smallest, not at 0: a 1% difference spans pixels', () => {
    const speedup = probe.charts[2];
    const ticks = speedup.axisLabels.map(Number).filter((n) => !Number.isNaN(n));
    expect(Math.min(...ticks)).to.be.above(0.5);
    expect(spread(speedup.symbols.map((s) => s.x))).to.be.above(0.7);
    // random is about 1% slower than default here; on an axis from 0 that would be some 5 pixels
    const at = (policy: string) => speedup.symbols.find((s) => s.label.endsWith(`policy: ${policy}; baseline: vs default`))!.x;
    const random = report.policies.find((p) => p.policy === 'random')!.speedup.vsDefault!;
    expect(Math.abs(at('default') - at('random')) / Math.abs(1 - random) / 100).to.be.above(10);
  });

  it('paints every chart (pixels of the screenshot)', () => painted(probe, shot));
});

describe('sim: report.html of a training trace (gavel-small on gpu, 1,400 px wide)', function () {
  this.timeout(120_000);
  let dir: string;
  let report: Report;
  let probe: Probe;
  let shot: Image;

  before(async function () {
    if (!CHROMIUM) skipBecause(this, "needs Debian's chromium (apt-get install chromium; .ci/run installs it)");
    dir = mkdtempSync(join(tmpdir(), 'locus-report-'));
    ({ report, probe, shot } = await rendered('gavel-small', 'gpu', dir));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fits with its GPU util column and no cold-start column', () => {
    expect(summaryHeader(report)).to.include('GPU util').and.not.include('cold p50/p99 s');
    fits(report, probe);
  });

  it('states the cache beside the working set', () => {
    expect(probe.cache).to.match(/^Cache: the cluster's 35\.2 TB of cache is \d+× the working set \(\d+\.\d GB of distinct data read\): it can hold/);
  });

  it('draws GPU utilisation first: one point per policy and the oracle, on an axis spanning the data, not 0–100 %', () => {
    const [gpu] = probe.charts;
    expect(gpu.title).to.match(/^GPU utilisation/);
    expect(gpu.symbols).to.have.length(report.policies.length + 1);
    const shares = [...report.policies, report.oracle!].map((p) => p.computeShare);
    expect(Math.max(...shares) - Math.min(...shares), 'the oracle keeps GPUs busier here').to.be.above(0.05);
    expect(spread(gpu.symbols.map((s) => s.x))).to.be.above(0.7);
    const ticks = gpu.axisLabels.filter((l) => l.endsWith('%')).map((l) => Number.parseFloat(l));
    expect(Math.min(...ticks)).to.be.above(Math.min(...shares) * 100 - 5);
    // a point sits where its share puts it: the busiest is the rightmost
    const x = (policy: string) => gpu.symbols.find((s) => field(s.label, 'policy') === policy)!.x;
    const busiest = [
      ...report.policies.map((p) => [p.policy, p.computeShare] as const),
      ['reference: block-aware oracle', report.oracle!.computeShare] as const,
    ].sort((a, b) => b[1] - a[1])[0][0];
    expect(x(busiest)).to.equal(Math.max(...gpu.symbols.map((s) => s.x)));
    for (const s of gpu.symbols) expect(field(s.label, 'policy'), 'whole policy names').to.not.contain('…');
  });

  it('paints every chart (pixels of the screenshot)', () => painted(probe, shot));
});

describe('sim: report.html of a serving trace (serving:models=2,hours=2 on gpu, 1,400 px wide)', function () {
  this.timeout(120_000);
  let dir: string;
  let report: Report;
  let probe: Probe;
  let shot: Image;

  before(async function () {
    if (!CHROMIUM) skipBecause(this, "needs Debian's chromium (apt-get install chromium; .ci/run installs it)");
    dir = mkdtempSync(join(tmpdir(), 'locus-report-'));
    ({ report, probe, shot } = await rendered('serving:models=2,hours=2', 'gpu', dir));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fits with its GPU util and cold-start columns (the widest table)', () => {
    expect(summaryHeader(report)).to.include('GPU util').and.include('cold p50/p99 s');
    fits(report, probe);
  });

  it("draws cold-start p50 and p99 per policy on a log axis, where the policies' differences span pixels", () => {
    const cold = probe.charts[0];
    expect(cold.title).to.match(/^Serving cold start/);
    expect(cold.symbols).to.have.length(2 * (report.policies.length + 1));
    const at = (policy: string, q: string) => cold.symbols.find((s) => field(s.label, 'policy') === policy && field(s.label, 'quantile') === q)!.x;
    for (const p of report.policies) expect(at(p.policy, 'p99'), p.policy).to.be.at.least(at(p.policy, 'p50'));
    // log axis: ticks a decade apart, none at 0
    expect(cold.axisLabels).to.include.members(['10', '100']);
    // locality's replicas load faster than no-cache's at the median, and the chart shows it by tens of pixels
    const cs = (policy: string) => report.policies.find((p) => p.policy === policy)!.coldStartSeconds!;
    expect(cs('locality').p50).to.be.below(cs('no-cache').p50);
    expect(at('no-cache', 'p50') - at('locality', 'p50')).to.be.above(30);
    expect(spread(cold.symbols.map((s) => s.x))).to.be.above(0.3);
  });

  it('draws no GPU-utilisation chart for serving (the cold start is its figure)', () => {
    expect(probe.charts.filter((c) => /^GPU/.test(c.title))).to.deep.equal([]);
  });

  it('paints every chart (pixels of the screenshot)', () => painted(probe, shot));
});
