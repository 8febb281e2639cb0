import { expect } from 'chai';
import fc from 'fast-check';
import { filterNodes } from '../../src/core/filter.js';
import { buildIndex, refs } from './index-builder.js';

describe('core/filter', () => {
  const index = buildIndex({
    datasets: { 'ml/imagenet-train': { totalBytes: 1000 }, 'ml/b': { totalBytes: 1000 }, 'ml/unsized': {} },
    caches: { hot: { 'ml/imagenet-train': 900, 'ml/b': 100 }, warm: { 'ml/imagenet-train': 120 }, cold: {} },
  });
  const nodes = ['hot', 'warm', 'cold'];
  const run = (annotations: Record<string, string> | undefined, datasets = ['ml/imagenet-train']) =>
    filterNodes({ datasets: refs(...datasets), nodes, index, now: 0, annotations });

  const cases: Array<{ name: string; annotations?: Record<string, string>; datasets?: string[]; passed: string[]; failed: string[]; problems?: string[] }> = [
    { name: 'no annotation keeps every node', passed: nodes, failed: [] },
    { name: 'required keeps nodes meeting the default 50%', annotations: { 'locus.dev/locality': 'required' }, passed: ['hot'], failed: ['warm', 'cold'] },
    {
      name: 'required with a fraction',
      annotations: { 'locus.dev/locality': 'required', 'locus.dev/min-local-fraction': '0.1' },
      passed: ['hot', 'warm'],
      failed: ['cold'],
    },
    {
      name: 'required that no node meets fails them all',
      annotations: { 'locus.dev/locality': 'required', 'locus.dev/min-local-fraction': '0.95' },
      passed: [],
      failed: nodes,
    },
    {
      name: 'preferred that no node meets falls back to all',
      annotations: { 'locus.dev/locality': 'preferred', 'locus.dev/min-local-fraction': '0.95' },
      passed: nodes,
      failed: [],
    },
    { name: 'preferred keeps those that meet it', annotations: { 'locus.dev/locality': 'preferred' }, passed: ['hot'], failed: ['warm', 'cold'] },
    { name: 'a fraction alone means preferred', annotations: { 'locus.dev/min-local-fraction': '0.1' }, passed: ['hot', 'warm'], failed: ['cold'] },
    {
      name: 'two datasets: the share of their bytes',
      annotations: { 'locus.dev/locality': 'required' },
      datasets: ['ml/imagenet-train', 'ml/b'],
      passed: ['hot'],
      failed: ['warm', 'cold'],
    },
    { name: 'bad mode is reported and ignored', annotations: { 'locus.dev/locality': 'always' }, passed: nodes, failed: [], problems: ['locus.dev/locality'] },
    {
      name: 'bad fraction is reported and the default used',
      annotations: { 'locus.dev/locality': 'required', 'locus.dev/min-local-fraction': '50%' },
      passed: ['hot'],
      failed: ['warm', 'cold'],
      problems: ['locus.dev/min-local-fraction'],
    },
    {
      name: 'datasets of unknown size cannot be enforced: all pass',
      annotations: { 'locus.dev/locality': 'required' },
      datasets: ['ml/unsized'],
      passed: nodes,
      failed: [],
      problems: ['locus.dev/locality'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = run(c.annotations, c.datasets);
      expect(r.passed).to.deep.equal(c.passed);
      expect(Object.keys(r.failed)).to.deep.equal(c.failed);
      expect(r.problems.map((p) => p.field)).to.deep.equal(c.problems ?? []);
    });
  }

  it('never puts a format verb in a reason: kube-scheduler reads extender reasons as a format string', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (held, fraction) => {
          const datasets = Object.fromEntries(held.map((_, i) => [`ml/d${i}`, { totalBytes: 1000 }]));
          const idx = buildIndex({ datasets, caches: { n: Object.fromEntries(held.map((h, i) => [`ml/d${i}`, h])) } });
          const r = filterNodes({
            datasets: refs(...Object.keys(datasets)),
            nodes: ['n'],
            index: idx,
            now: 0,
            annotations: { 'locus.dev/locality': 'required', 'locus.dev/min-local-fraction': String(fraction) },
          });
          for (const reason of Object.values(r.failed)) expect(reason).to.not.include('%');
        },
      ),
    );
  });

  it('says in words what a failed node holds and what the pod requires', () => {
    expect(run({ 'locus.dev/locality': 'required' }).failed.warm).to.equal('holds 12 percent of ml/imagenet-train, pod requires 50 percent');
    expect(run({ 'locus.dev/locality': 'required' }, ['ml/imagenet-train', 'ml/b']).failed.warm).to.equal(
      'holds 6 percent of its datasets (ml/imagenet-train 12 percent, ml/b 0 percent), pod requires 50 percent',
    );
  });
});
