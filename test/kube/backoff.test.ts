import { expect } from 'chai';
import fc from 'fast-check';
import { backoffDelay } from '../../src/kube/backoff.js';

describe('kube/backoff', () => {
  it('stays within [base/2, base] for base = min(max, initial·2^attempt)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 120_000 }),
        (attempt, r, initialMs, maxMs) => {
          const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
          const delay = backoffDelay(attempt, () => r, { initialMs, maxMs });
          expect(delay).to.be.within(Math.floor(base / 2), Math.ceil(base));
        },
      ),
    );
  });

  it('doubles per attempt up to the ceiling (defaults 500 ms → 30 s)', () => {
    const top = (attempt: number) => backoffDelay(attempt, () => 1);
    expect([0, 1, 2, 3, 6, 7, 50].map(top)).to.deep.equal([500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
    expect(backoffDelay(0, () => 0)).to.equal(250);
  });
});
