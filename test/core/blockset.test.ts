import { expect } from 'chai';
import fc from 'fast-check';
import { BlockSetError, decodeBlockSet, decodeBlockSetWithCount, encodeBlockSet } from '../../src/core/blockset.js';

const blockSet = fc
  .integer({ min: 0, max: 5000 })
  .chain((count) =>
    fc.tuple(fc.constant(count), count === 0 ? fc.constant([] as number[]) : fc.uniqueArray(fc.integer({ min: 0, max: count - 1 }), { maxLength: count })),
  )
  .map(([count, blocks]) => ({ count, blocks: [...blocks].sort((a, b) => a - b) }));

describe('core/blockset', () => {
  it('round-trips every block set (property)', () => {
    fc.assert(
      fc.property(blockSet, ({ count, blocks }) => {
        const decoded = decodeBlockSetWithCount(encodeBlockSet(blocks, count));
        expect(decoded.blockCount).to.equal(count);
        expect([...decoded.blocks]).to.deep.equal(blocks);
      }),
      { numRuns: 300 },
    );
  });

  it('never exceeds a bitset by more than a few bytes (property)', () => {
    fc.assert(
      fc.property(blockSet, ({ count, blocks }) => {
        const bytes = atob(encodeBlockSet(blocks, count)).length;
        expect(bytes).to.be.at.most(Math.ceil(count / 8) + 4);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps 50 datasets × 1,000 blocks within about 10 KB even when dense and random', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let total = 0;
    for (let d = 0; d < 50; d++) {
      const blocks = Array.from({ length: 1000 }, (_, i) => i).filter(() => next() < 0.5);
      total += encodeBlockSet(blocks, 1000).length;
    }
    expect(total).to.be.below(10_000);
  });

  it('encodes contiguous ranges as a few bytes', () => {
    const blocks = Array.from({ length: 900 }, (_, i) => i + 50);
    expect(encodeBlockSet(blocks, 1000).length).to.be.below(16);
  });

  const bad: Array<[string, string]> = [
    ['not base64', '!!!'],
    ['empty', ''],
    ['unknown kind', btoa('\u0009\u0001')],
    ['truncated bitset', btoa('\u0001\u0010\u00ff')],
    ['run past the end', btoa('\u0002\u0004\u0001\u0000\u0009')],
  ];
  for (const [name, encoded] of bad) {
    it(`rejects ${name} with a BlockSetError`, () => {
      expect(() => decodeBlockSet(encoded)).to.throw(BlockSetError);
    });
  }

  it('rejects unsorted or out-of-range input when encoding', () => {
    expect(() => encodeBlockSet([3, 1], 10)).to.throw(BlockSetError, /sorted/);
    expect(() => encodeBlockSet([10], 10)).to.throw(BlockSetError);
  });
});
