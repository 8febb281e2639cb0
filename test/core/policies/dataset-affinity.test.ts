import { expect } from 'chai';
import { scoreNodes } from '../../../src/core/policies/index.js';
import { buildIndex, refs } from '../index-builder.js';

describe('core/policies/dataset-affinity', () => {
  const index = buildIndex({
    datasets: { 'ml/a': { totalBytes: 1000 }, 'ml/b': { totalBytes: 3000 } },
    nodes: { sliver: { zone: 'z1', region: 'r' }, zone: { zone: 'z1', region: 'r' }, region: { zone: 'z2', region: 'r' }, none: { zone: 'z3', region: 'q' } },
    caches: { sliver: { 'ml/a': 1, 'ml/b': 1 } },
  });
  const nodes = ['sliver', 'zone', 'region', 'none'];
  const cases: Array<{ name: string; datasets: string[]; want: number[] }> = [
    { name: 'any cached part counts fully; zone and region tiers below', datasets: ['ml/a'], want: [10, 5, 2, 0] },
    { name: 'two datasets', datasets: ['ml/a', 'ml/b'], want: [10, 5, 2, 0] },
    { name: 'no datasets', datasets: [], want: [0, 0, 0, 0] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(scoreNodes('dataset-affinity', { datasets: refs(...c.datasets), nodes, index, now: 0 })).to.deep.equal(c.want);
    });
  }

  it('weighs datasets by size', () => {
    const idx = buildIndex({ datasets: { 'ml/a': { totalBytes: 1000 }, 'ml/b': { totalBytes: 3000 } }, caches: { n: { 'ml/a': 1 } } });
    expect(scoreNodes('dataset-affinity', { datasets: refs('ml/a', 'ml/b'), nodes: ['n'], index: idx, now: 0 })).to.deep.equal([2]);
  });
});
