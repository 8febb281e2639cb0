import { expect } from 'chai';
import { scoreNodes } from '../../../src/core/policies/index.js';
import { buildIndex, refs, type World } from '../index-builder.js';

const world: World = {
  datasets: { 'ml/a': { totalBytes: 1000 }, 'ml/b': { totalBytes: 3000 }, 'ml/unsized': {} },
  nodes: {
    full: { zone: 'z1', region: 'r1' },
    half: { zone: 'z1', region: 'r1' },
    zoneonly: { zone: 'z1', region: 'r1' },
    far: { zone: 'z2', region: 'r1' },
    other: { zone: 'z3', region: 'r2' },
  },
  caches: { full: { 'ml/a': 1000, 'ml/b': 3000 }, half: { 'ml/a': 500, 'ml/b': 1500 } },
};

describe('core/policies/locality', () => {
  const index = buildIndex(world);
  const nodes = ['full', 'half', 'zoneonly', 'far', 'other', 'unknown-node'];
  const cases: Array<{ name: string; datasets: string[]; config?: { zoneCredit?: number; regionCredit?: number }; want: number[] }> = [
    // zoneonly: zone holds everything (via full) → 0.5 credit; far: region holds everything → 0.2.
    { name: 'one dataset, default credits', datasets: ['ml/a'], want: [10, 7, 5, 2, 0, 0] },
    { name: 'two datasets weigh by bytes', datasets: ['ml/a', 'ml/b'], want: [10, 7, 5, 2, 0, 0] },
    { name: 'no zone or region credit', datasets: ['ml/a'], config: { zoneCredit: 0, regionCredit: 0 }, want: [10, 5, 0, 0, 0, 0] },
    { name: 'unknown datasets score nothing', datasets: ['ml/missing'], want: [0, 0, 0, 0, 0, 0] },
    { name: 'datasets of unknown size score nothing', datasets: ['ml/unsized'], want: [0, 0, 0, 0, 0, 0] },
    { name: 'an unknown dataset beside a known one does not weigh', datasets: ['ml/a', 'ml/missing'], want: [10, 7, 5, 2, 0, 0] },
    { name: 'no datasets', datasets: [], want: [0, 0, 0, 0, 0, 0] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(scoreNodes('locality', { datasets: refs(...c.datasets), nodes, index, now: 0, config: c.config })).to.deep.equal(c.want);
    });
  }
});
