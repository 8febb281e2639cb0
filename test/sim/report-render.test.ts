// report.html as a reader sees it: a report of a shipped SWIM sample rendered by headless Chromium at
// 1,400 px, checked through layout measured in the page (test/sim/report-probe.js) and through the
// screenshot's pixels.
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

interface Box { left: number; top: number; width: number; height: number }
interface Probe {
  viewport: number;
  scrollWidth: number;
  pageHeight: number;
  table: { right: number; headerLines: number[] };
  notes: Array<{ text: string; height: number }>;
  charts: Array<{ title: string; box: Box; symbols: Array<{ label: string; x: number }>; lineWidths: number[]; axisLabels: string[] }>;
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
      if (Math.max(r, g, bl) - Math.min(r, g, bl) > 60) coloured++;
      all++;
    }
  }
  return all ? coloured / all : 0;
}

describe('sim: report.html rendered in Chromium (swim-fb2009 on spark, 1,400 px wide)', function () {
  this.timeout(120_000);
  let dir: string;
  let report: Report;
  let probe: Probe;
  let shot: Image;

  before(async function () {
    if (!CHROMIUM) skipBecause(this, 'needs Debian\'s chromium (apt-get install chromium; .ci/run installs it)');
    dir = mkdtempSync(join(tmpdir(), 'locus-report-'));
    const cluster = buildCluster(loadCluster('spark'));
    ({ report } = await compare({ cluster, workload: loadWorkload('swim-fb2009', cluster, 1), policies: parsePolicyList('all'), seed: 1 }));
    const html = await renderHtml(report);
    writeFileSync(join(dir, 'report.html'), html);
    // The probe runs in a copy: the report itself carries no script.
    writeFileSync(join(dir, 'probe.html'), html.replace('</body>', `<script>\n${readFileSync('test/sim/report-probe.js', 'utf8')}\n</script></body>`));
    const dom = await dumpDom(join(dir, 'probe.html'), { width: WIDTH, height: 1000 });
    const json = /<pre id="probe">(.*?)<\/pre>/s.exec(dom)?.[1];
    expect(json, 'the probe ran').to.be.a('string');
    probe = JSON.parse(json!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    shot = decodePng(await screenshot(join(dir, 'report.html'), join(dir, 'report.png'), { width: WIDTH, height: Math.ceil(probe.pageHeight) }));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('fits: no header wraps and nothing runs past the window', () => {
    expect(probe.viewport).to.equal(WIDTH);
    expect(probe.scrollWidth).to.be.at.most(WIDTH);
    expect(probe.table.right).to.be.at.most(WIDTH);
    expect(probe.table.headerLines).to.have.length(summaryHeader(report).length).and.satisfy((lines: number[]) => lines.every((n) => n === 1));
    for (const chart of probe.charts) expect(chart.box.left + chart.box.width, chart.title).to.be.at.most(WIDTH);
  });

  it('says, where it shows them, why "of compulsory" equals "of clairvoyant"', () => {
    expect(probe.notes.length).to.be.at.least(1);
    expect(probe.notes[0].text).to.match(/^The clairvoyant bound equals the compulsory bound \(\d+\.\d% of bytes\) for every policy.*The cache never binds/);
    for (const note of probe.notes) expect(note.height, note.text).to.be.greaterThan(0);
  });

  /** The points' horizontal spread as a share of the plot's width: near 1 when the axis spans the data, not 0. */
  const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / PLOT_WIDTH;

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

  it('paints every chart (pixels of the screenshot)', () => {
    expect(shot.width).to.equal(WIDTH);
    for (const chart of probe.charts) expect(colouredShare(shot, chart.box), chart.title).to.be.above(0.003);
    // and the page's margin beside the charts stays blank
    expect(colouredShare(shot, { left: WIDTH - 40, top: 0, width: 40, height: shot.height })).to.equal(0);
  });
});
