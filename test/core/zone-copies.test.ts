// Copies per block in a zone: every holder decides alone from the same list of holders, so the property
// that matters is collective: over all holders of a block, exactly min(copies, holders) keep it, and
// they are the best ranked.
import { expect } from 'chai';
import fc from 'fast-check';
import { rank, surplusCopy } from '../../src/core/zone-copies.js';

describe('core zone copies (rendezvous ranking of a block’s holders)', () => {
  it('keeps exactly min(copies, holders) copies of a block, the best ranked, deciding alike on every node', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), { minLength: 1, maxLength: 12 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        (nodes, block, copies) => {
          const keepers = nodes.filter(
            (n) =>
              !surplusCopy(
                block,
                n,
                nodes.filter((m) => m !== n),
                copies,
              ),
          );
          expect(keepers).to.have.length(Math.min(copies, nodes.length));
          const best = [...nodes].sort((a, b) => rank(block, b) - rank(block, a) || (a < b ? -1 : 1)).slice(0, copies);
          expect([...keepers].sort()).to.deep.equal([...best].sort());
        },
      ),
    );
  });

  it('spreads the keepers: over many blocks each of four nodes keeps about a quarter of the single copies', () => {
    const nodes = ['node-a', 'node-b', 'node-c', 'node-d'];
    const kept = new Map(nodes.map((n) => [n, 0]));
    for (let i = 0; i < 4000; i++) {
      const block = `block-${i}`;
      for (const n of nodes)
        if (
          !surplusCopy(
            block,
            n,
            nodes.filter((m) => m !== n),
            1,
          )
        )
          kept.set(n, kept.get(n)! + 1);
    }
    for (const n of nodes) expect(kept.get(n)).to.be.within(850, 1150);
  });

  it('a holder with fewer than `copies` others ahead keeps its copy; the only holder always does', () => {
    expect(surplusCopy('b', 'node-a', [], 1)).to.equal(false);
    const [first, second] = ['x', 'y'].sort((a, b) => rank('b', b) - rank('b', a));
    expect(surplusCopy('b', first, [second], 1)).to.equal(false);
    expect(surplusCopy('b', second, [first], 1)).to.equal(true);
    expect(surplusCopy('b', second, [first], 2)).to.equal(false);
  });
});
