import { expect } from 'chai';
import fc from 'fast-check';
import { policyNames, scoreNodes } from '../../../src/core/policies/index.js';
import { buildIndex, refs } from '../index-builder.js';

const sizes = fc.array(fc.integer({ min: 1, max: 1e12 }), { minLength: 1, maxLength: 4 });
const zones = ['z1', 'z2'];

/** A random world: datasets of random sizes, 6 nodes in 2 zones, random cached bytes. */
const worlds = sizes.chain((totals) =>
  fc.record({
    totals: fc.constant(totals),
    held: fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: totals.length, maxLength: totals.length }), {
      minLength: 6,
      maxLength: 6,
    }),
  }),
);

function make(totals: number[], held: number[][], bump?: { node: number; dataset: number; extra: number }) {
  const datasets = Object.fromEntries(totals.map((t, i) => [`ns/d${i}`, { totalBytes: t }]));
  const nodes = Object.fromEntries(held.map((_, n) => [`n${n}`, { zone: zones[n % 2], region: 'r' }]));
  const caches = Object.fromEntries(
    held.map((row, n) => [
      `n${n}`,
      Object.fromEntries(
        row.map((share, i) => {
          let bytes = Math.floor(share * totals[i]);
          if (bump && bump.node === n && bump.dataset === i) bytes = Math.min(totals[i], bytes + bump.extra);
          return [`ns/d${i}`, bytes];
        }),
      ),
    ]),
  );
  return buildIndex({ datasets, nodes, caches, ttlMs: 1000 });
}

describe('core/policies: properties', () => {
  const nodeNames = Array.from({ length: 6 }, (_, n) => `n${n}`);

  for (const policy of policyNames) {
    it(`${policy}: scores are integers within 0..10 (property)`, () => {
      fc.assert(
        fc.property(worlds, ({ totals, held }) => {
          const index = make(totals, held);
          for (const s of scoreNodes(policy, { datasets: refs(...totals.map((_, i) => `ns/d${i}`)), nodes: nodeNames, index, now: 0 })) {
            expect(Number.isInteger(s) && s >= 0 && s <= 10).to.equal(true);
          }
        }),
        { numRuns: 200 },
      );
    });

    it(`${policy}: a pod without datasets scores 0 everywhere (property)`, () => {
      fc.assert(
        fc.property(worlds, ({ totals, held }) => {
          expect(scoreNodes(policy, { datasets: [], nodes: nodeNames, index: make(totals, held), now: 0 })).to.deep.equal(new Array(6).fill(0));
        }),
        { numRuns: 50 },
      );
    });

    it(`${policy}: more cached bytes on a node never lower any score (property)`, () => {
      fc.assert(
        fc.property(worlds, fc.nat(5), fc.nat(3), fc.integer({ min: 1, max: 1e12 }), ({ totals, held }, node, ds, extra) => {
          const dataset = ds % totals.length;
          const datasets = refs(...totals.map((_, i) => `ns/d${i}`));
          const before = scoreNodes(policy, { datasets, nodes: nodeNames, index: make(totals, held), now: 0 });
          const after = scoreNodes(policy, { datasets, nodes: nodeNames, index: make(totals, held, { node, dataset, extra }), now: 0 });
          after.forEach((s, i) => expect(s).to.be.at.least(before[i]));
        }),
        { numRuns: 200 },
      );
    });

    it(`${policy}: after the TTL every node scores 0 (property)`, () => {
      fc.assert(
        fc.property(worlds, ({ totals, held }) => {
          const datasets = refs(...totals.map((_, i) => `ns/d${i}`));
          expect(scoreNodes(policy, { datasets, nodes: nodeNames, index: make(totals, held), now: 1001 })).to.deep.equal(new Array(6).fill(0));
        }),
        { numRuns: 50 },
      );
    });
  }

  it('locality: a node holding everything scores 10 and one holding nothing in a cold zone scores 0', () => {
    const index = buildIndex({
      datasets: { 'ns/a': { totalBytes: 77 } },
      nodes: { hot: { zone: 'z1' }, cold: { zone: 'z2' } },
      caches: { hot: { 'ns/a': 77 } },
    });
    expect(scoreNodes('locality', { datasets: refs('ns/a'), nodes: ['hot', 'cold'], index, now: 0 })).to.deep.equal([10, 0]);
  });
});
