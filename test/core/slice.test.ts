import { expect } from 'chai';
import fc from 'fast-check';
import { countInRanges, formatSlice, parseSlice, resolveSlice, shardStart, type SliceSpec } from '../../src/core/slice.js';
import type { DatasetCatalog } from '../../src/core/types.js';

const cat: DatasetCatalog = {
  key: 'ml/a',
  totalBytes: 950,
  blockSize: 100,
  blockCount: 10,
  catalogVersion: 'v1',
  prefixes: [
    { prefix: 'day=1/', first: 0, end: 4 },
    { prefix: 'day=2/', first: 3, end: 10 },
  ],
};

describe('core/slice', () => {
  const parses: Array<[string, SliceSpec]> = [
    ['all', { kind: 'all' }],
    ['shard 0/2', { kind: 'shard', index: 0, count: 2 }],
    ['  shard 7/8 ', { kind: 'shard', index: 7, count: 8 }],
    [
      'blocks 0-127,512-639',
      {
        kind: 'blocks',
        ranges: [
          [0, 128],
          [512, 640],
        ],
      },
    ],
    ['blocks 5', { kind: 'blocks', ranges: [[5, 6]] }],
    [
      'blocks 1 - 3, 9',
      {
        kind: 'blocks',
        ranges: [
          [1, 4],
          [9, 10],
        ],
      },
    ],
    ['prefix day=1/,day=2/', { kind: 'prefix', prefixes: ['day=1/', 'day=2/'] }],
  ];
  for (const [text, spec] of parses) {
    it(`parses "${text}"`, () => expect(parseSlice(text)).to.deep.equal(spec));
  }

  const malformed: Array<[string, RegExp]> = [
    ['', /is no slice/],
    ['half', /is no slice/],
    ['shard 2/2', /shard index 2 is out of range; shards of 2 are numbered 0 to 1/],
    ['shard 0/0', /shard count must be from 1/],
    ['shard 1', /is no shard/],
    ['shard -1/4', /is no shard/],
    ['shard 01/4', /is no shard/],
    ['blocks', /names no blocks/],
    ['blocks 9-3', /not before it/],
    ['blocks 0-x', /is no block range/],
    ['prefix a/,,b/', /empty prefix/],
  ];
  for (const [text, error] of malformed) {
    it(`refuses "${text}", saying why and showing the forms`, () => {
      const r = parseSlice(text);
      expect(r).to.have.property('error').that.matches(error);
      if (/no slice|no shard|no block range|names no|empty prefix/.test(String(error))) expect((r as { error: string }).error).to.match(/shard <i>\/<n>/);
    });
  }

  it('formatSlice and parseSlice round-trip (property)', () => {
    const spec: fc.Arbitrary<SliceSpec> = fc.oneof(
      fc.constant({ kind: 'all' as const }),
      fc
        .integer({ min: 1, max: 10_000 })
        .chain((count) => fc.record({ kind: fc.constant('shard' as const), index: fc.nat(count - 1), count: fc.constant(count) })),
      fc
        .array(fc.tuple(fc.nat(1e6), fc.integer({ min: 1, max: 500 })), { minLength: 1, maxLength: 5 })
        .map((rs) => ({ kind: 'blocks' as const, ranges: rs.map(([a, n]): [number, number] => [a, a + n]) })),
      fc.array(fc.stringMatching(/^[a-z0-9=_-]{1,12}\/$/), { minLength: 1, maxLength: 4 }).map((prefixes) => ({ kind: 'prefix' as const, prefixes })),
    );
    fc.assert(
      fc.property(spec, (s) => {
        expect(parseSlice(formatSlice(s))).to.deep.equal(s);
      }),
    );
  });

  it('resolves against the catalog: ranges, blocks and bytes (the last block at its real size)', () => {
    const r = (text: string) => {
      const spec = parseSlice(text);
      if ('error' in spec) throw new Error(spec.error);
      return resolveSlice(spec, cat);
    };
    expect(r('all')).to.deep.include({ blocks: 10, bytes: 950, whole: true });
    expect(r('shard 0/2')).to.deep.include({ ranges: Uint32Array.from([0, 5]), blocks: 5, bytes: 500, whole: false });
    expect(r('shard 1/2')).to.deep.include({ ranges: Uint32Array.from([5, 10]), blocks: 5, bytes: 450 });
    expect(r('shard 2/3')).to.deep.include({ ranges: Uint32Array.from([6, 10]), blocks: 4, bytes: 350 });
    expect(r('blocks 3-4,0,1-2')).to.deep.include({ ranges: Uint32Array.from([0, 5]), blocks: 5, bytes: 500 });
    expect(r('blocks 0-9')).to.deep.include({ whole: true, bytes: 950 });
    expect(r('prefix day=1/')).to.deep.include({ ranges: Uint32Array.from([0, 4]), bytes: 400 });
    expect(r('prefix day=1/,day=2/')).to.deep.include({ ranges: Uint32Array.from([0, 10]), whole: true });
    expect(r('shard 0/20')).to.deep.include({ blocks: 0, bytes: 0, whole: false });
    expect(r('shard 19/20')).to.deep.include({ ranges: Uint32Array.from([9, 10]), bytes: 50 });
  });

  const unresolvable: Array<[string, SliceSpec, DatasetCatalog, RegExp]> = [
    ['a block past the last', { kind: 'blocks', ranges: [[8, 11]] }, cat, /names block 10, but Dataset ml\/a has 10 blocks \(0 to 9\)/],
    ['an unknown prefix', { kind: 'prefix', prefixes: ['day=3/'] }, cat, /no such top-level prefix/],
    [
      'a prefix beyond a truncated list',
      { kind: 'prefix', prefixes: ['day=3/'] },
      { ...cat, prefixesTruncated: true },
      /records only the first 2 top-level prefixes/,
    ],
    ['a shard of a Dataset with no block catalog', { kind: 'shard', index: 0, count: 2 }, { key: 'ml/h', totalBytes: 1000 }, /no block catalog yet/],
  ];
  for (const [name, spec, c, error] of unresolvable) {
    it(`cannot resolve ${name}`, () => expect(resolveSlice(spec, c)).to.have.property('error').that.matches(error));
  }

  it('n shards cover every block exactly once, in order (property)', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.integer({ min: 1, max: 5000 }), (blocks, n) => {
        let at = 0;
        for (let i = 0; i < n; i++) {
          expect(shardStart(i, n, blocks)).to.equal(at);
          at = shardStart(i + 1, n, blocks);
          expect(at).to.be.at.least(shardStart(i, n, blocks));
        }
        expect(at).to.equal(blocks);
      }),
    );
  });

  it('countInRanges counts exactly the set blocks inside the ranges (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(199)), fc.array(fc.tuple(fc.nat(199), fc.nat(80)), { maxLength: 4 }), (set, raw) => {
        const words = new Uint32Array(7);
        for (const b of set) words[b >>> 5] |= 1 << (b & 31);
        const spec = resolveSlice(
          { kind: 'blocks', ranges: raw.map(([a, n]): [number, number] => [a, Math.min(200, a + n + 1)]) },
          { key: 'k', totalBytes: 200, blockSize: 1, blockCount: 200 },
        );
        if ('error' in spec) throw new Error(spec.error);
        const inside = (b: number) => raw.some(([a, n]) => b >= a && b < Math.min(200, a + n + 1));
        expect(countInRanges(words, spec.ranges, 199)).to.deep.equal({ count: set.filter(inside).length, hasLast: set.includes(199) && inside(199) });
      }),
    );
  });
});
