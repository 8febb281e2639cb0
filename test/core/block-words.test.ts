// Every node's block words of a Dataset in one array: slots handed out, reused, widened.
import { expect } from 'chai';
import fc from 'fast-check';
import { BlockWords } from '../../src/core/block-words.js';

const slot = (w: BlockWords, id: number): number[] | undefined => {
  const at = w.at(id);
  return at < 0 ? undefined : [...w.words.subarray(at, at + w.stride)];
};

describe('core/block-words', () => {
  it('keeps each node its own words, zero past what it reported, across reuse and widening', () => {
    const w = new BlockWords(2);
    w.set(0, Uint32Array.of(1, 2));
    w.set(1, Uint32Array.of(3));
    expect(slot(w, 0)).to.deep.equal([1, 2]);
    expect(slot(w, 1)).to.deep.equal([3, 0]);
    expect(slot(w, 7)).to.equal(undefined);
    // A freed slot goes to the next node, with nothing left of its last holder.
    w.clear(0);
    expect(w.at(0)).to.equal(-1);
    w.set(5, Uint32Array.of(9));
    expect(slot(w, 5)).to.deep.equal([9, 0]);
    // A node reporting blocks beyond the stride widens every slot, keeping the others' words.
    w.set(2, Uint32Array.of(4, 5, 6));
    expect(w.stride).to.equal(3);
    expect(slot(w, 1)).to.deep.equal([3, 0, 0]);
    expect(slot(w, 5)).to.deep.equal([9, 0, 0]);
    expect(slot(w, 2)).to.deep.equal([4, 5, 6]);
  });

  it('answers what was last set for every node (property)', () => {
    const op = fc.record({
      id: fc.integer({ min: 0, max: 80 }),
      words: fc.option(fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 5 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(op, { maxLength: 200 }), (stride, ops) => {
        const w = new BlockWords(stride);
        const model = new Map<number, number[]>();
        for (const o of ops) {
          if (o.words === undefined) {
            w.clear(o.id);
            model.delete(o.id);
          } else {
            w.set(o.id, Uint32Array.from(o.words));
            model.set(o.id, o.words);
          }
        }
        for (let id = 0; id <= 80; id++) {
          const expected = model.get(id);
          if (expected === undefined) expect(w.at(id)).to.equal(-1);
          else expect(slot(w, id)).to.deep.equal([...expected, ...new Array<number>(w.stride - expected.length).fill(0)]);
        }
      }),
    );
  });
});
