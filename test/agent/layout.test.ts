// Block layout against a model: the key-ordered concatenation of the objects, cut into blocks.
import { expect } from 'chai';
import fc from 'fast-check';
import { blockId, buildLayout, datasetBlock, datasetSegments, objectSegments } from '../../src/agent/layout.js';
import { summarise } from '../../src/catalog/listing.js';

const listingArb = fc
  .uniqueArray(fc.record({ key: fc.string({ minLength: 1, maxLength: 6 }), size: fc.oneof(fc.constant(0), fc.nat(40)) }), {
    selector: (o) => o.key,
    minLength: 1,
    maxLength: 12,
  })
  .map((os) => os.map((o, i) => ({ ...o, etag: `"etag-${i}"` })));

/** The concatenation as (key, offset) per byte: what every layout question is answered from. */
function model(listing: { key: string; size: number }[]) {
  const sorted = [...listing].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  return sorted.flatMap((o) => Array.from({ length: o.size }, (_, offset) => `${o.key}@${offset}`));
}

const bytesOf = (parts: { key: string; offset: number; length: number }[]) =>
  parts.flatMap((p) => Array.from({ length: p.length }, (_, i) => `${p.key}@${p.offset + i}`));

describe('agent block layout', () => {
  it('block i holds bytes [i·blockSize, (i+1)·blockSize) of the key-ordered concatenation, as the catalog counts them', () => {
    fc.assert(
      fc.property(listingArb, fc.integer({ min: 1, max: 16 }), (listing, blockSize) => {
        const layout = buildLayout('b', '', listing, blockSize);
        const flat = model(listing);
        const catalog = summarise(listing, blockSize);
        expect([layout.blockCount, layout.totalBytes, layout.version]).to.deep.equal([catalog.blockCount, catalog.totalBytes, catalog.version]);
        for (let i = 0; i < layout.blockCount; i++) {
          const block = datasetBlock(layout, i);
          expect(bytesOf(block.parts)).to.deep.equal(flat.slice(i * blockSize, (i + 1) * blockSize));
          expect(block.parts.every((p) => p.length > 0)).to.equal(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('serves any range of any object from the segments of the blocks holding it', () => {
    fc.assert(
      fc.property(listingArb, fc.integer({ min: 1, max: 16 }), fc.nat(), fc.nat(), fc.nat(), (listing, blockSize, k, a, b) => {
        const nonEmpty = listing.filter((o) => o.size > 0);
        fc.pre(nonEmpty.length > 0);
        const obj = nonEmpty[k % nonEmpty.length];
        const [start, end] = [a % obj.size, b % obj.size].sort((x, y) => x - y);
        const layout = buildLayout('b', '', listing, blockSize);
        const got = datasetSegments(layout, obj.key, start, end).flatMap((s) => bytesOf(s.spec.parts).slice(s.from, s.from + s.length));
        expect(got).to.deep.equal(Array.from({ length: end - start + 1 }, (_, i) => `${obj.key}@${start + i}`));
        const loose = objectSegments('b', obj, blockSize, start, end).flatMap((s) => bytesOf(s.spec.parts).slice(s.from, s.from + s.length));
        expect(loose).to.deep.equal(got);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a block's identity when objects after it are added, and changes it when its bytes change", () => {
    const before = buildLayout(
      'b',
      '',
      [
        { key: 'a', size: 10, etag: '"1"' },
        { key: 'b', size: 10, etag: '"2"' },
      ],
      8,
    );
    const appended = buildLayout(
      'b',
      '',
      [
        { key: 'a', size: 10, etag: '"1"' },
        { key: 'b', size: 10, etag: '"2"' },
        { key: 'c', size: 5, etag: '"3"' },
      ],
      8,
    );
    const rewritten = buildLayout(
      'b',
      '',
      [
        { key: 'a', size: 10, etag: '"9"' },
        { key: 'b', size: 10, etag: '"2"' },
      ],
      8,
    );
    const id = (l: typeof before, i: number) => blockId(datasetBlock(l, i));
    expect(appended.version).to.not.equal(before.version);
    expect([id(appended, 0), id(appended, 1)]).to.deep.equal([id(before, 0), id(before, 1)]);
    expect(id(appended, 2)).to.not.equal(id(before, 2)); // the last block grew into the new object
    expect(id(rewritten, 0)).to.not.equal(id(before, 0));
    expect(id(rewritten, 2)).to.equal(id(before, 2));
  });
});
