import { expect } from 'chai';
import { scoreNodes } from '../../../src/core/policies/index.js';
import { buildIndex, refs } from '../index-builder.js';

describe('core/policies/none', () => {
  it('scores every node 0, even one holding everything', () => {
    const index = buildIndex({ datasets: { 'ml/a': { totalBytes: 10 } }, caches: { n: { 'ml/a': 10 } } });
    expect(scoreNodes('none', { datasets: refs('ml/a'), nodes: ['n', 'm'], index, now: 0 })).to.deep.equal([0, 0]);
  });
});
