/* global document, window */
// Injected into a copy of report.html by report-render.test.ts and run by headless Chromium after layout:
// measures what a reader sees and writes it as JSON into a pre element (id "probe") for --dump-dom to return.
const rect = (el) => el.getBoundingClientRect();
const box = (el) => { const r = rect(el); return { left: r.left, top: r.top, width: r.width, height: r.height }; };
/** Line boxes a cell's text takes: 1 when it does not wrap. */
const lineCount = (el) => { const r = document.createRange(); r.selectNodeContents(el); return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; };
const figures = [...document.querySelectorAll('figure svg')];
const marks = (svg, kind) => [...svg.querySelectorAll(`g.mark-${kind}.role-mark path`)];
const probe = {
  viewport: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  pageHeight: document.documentElement.scrollHeight,
  table: { right: rect(document.querySelector('table')).right, headerLines: [...document.querySelectorAll('th')].map(lineCount) },
  notes: [...document.querySelectorAll('p.note')].map((p) => ({ text: p.textContent, height: rect(p).height })),
  cache: document.querySelector('p.cache')?.textContent,
  charts: figures.map((svg) => ({
    title: svg.querySelector('.role-title-text text')?.textContent,
    box: box(svg),
    // each point's data (vega writes it into aria-label) and where its centre landed on the page
    symbols: marks(svg, 'symbol').map((m) => ({ label: m.getAttribute('aria-label'), x: rect(m).left + rect(m).width / 2, y: rect(m).top + rect(m).height / 2 })),
    lineWidths: marks(svg, 'line').map((l) => rect(l).width),
    axisLabels: [...svg.querySelectorAll('.role-axis-label text')].map((t) => t.textContent),
  })),
};
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify(probe);
document.body.append(pre);
