import { expect } from 'chai';
import fc from 'fast-check';
import { MAX_CATALOG_PREFIX_LENGTH, MAX_CATALOG_PREFIXES } from '../../src/api/dataset.js';
import { blockCount, catalogVersion, compareKeys, sortObjects, summarise, type CatalogObject } from '../../src/catalog/listing.js';

const MiB = 1024 * 1024;
const obj = (key: string, size: number, etag = `"${key}-${size}"`): CatalogObject => ({ key, size, etag });

describe('catalog listing', () => {
  it('orders keys by UTF-8 bytes as S3 lists them', () => {
    // U+FF5E (3 UTF-8 bytes, 0xEF…) sorts before U+1F600 (4 bytes, 0xF0…) in UTF-8,
    // but after it in UTF-16 code units (0xFF5E > 0xD83D).
    const keys = ['\u{1F600}', '\uFF5E', 'a/b', 'a-b', 'A'];
    expect(sortObjects(keys.map((k) => obj(k, 1))).map((o) => o.key)).to.deep.equal(['A', 'a-b', 'a/b', '\uFF5E', '\u{1F600}']);
    expect(compareKeys('\uFF5E', '\u{1F600}')).to.be.lessThan(0);
  });

  it('summarises counts, bytes and blocks (default 16 MiB blocks)', () => {
    const s = summarise([obj('a', 16 * MiB), obj('b', 1), obj('c', 0)], 16 * MiB);
    expect(s).to.include({ objectCount: 3, totalBytes: 16 * MiB + 1, blockSize: 16 * MiB, blockCount: 2 });
    expect(summarise([], 16 * MiB)).to.include({ objectCount: 0, totalBytes: 0, blockCount: 0 });
  });

  it('computes the block count of the concatenation', () => {
    expect(blockCount(0, MiB)).to.equal(0);
    expect(blockCount(MiB, MiB)).to.equal(1);
    expect(blockCount(MiB + 1, MiB)).to.equal(2);
    expect(() => blockCount(10, 0)).to.throw(RangeError, /blockSize/);
  });

  it('versions by content, not by listing order or ETag quoting', () => {
    const a = [obj('x', 1, '"e1"'), obj('y', 2, '"e2"')];
    expect(catalogVersion(a)).to.equal(catalogVersion([a[1], a[0]]));
    expect(catalogVersion(a)).to.equal(catalogVersion([obj('x', 1, 'e1'), obj('y', 2, 'e2')]));
    expect(catalogVersion(a)).to.match(/^[0-9a-f]{32}$/);
  });

  it('changes the version when any key, size or etag changes, or an object comes or goes', () => {
    const entry = fc.record({ key: fc.string({ minLength: 1, maxLength: 8 }), size: fc.nat(1e9), etag: fc.stringMatching(/^[0-9a-f]{1,8}$/) });
    fc.assert(
      fc.property(
        fc.uniqueArray(entry, { selector: (o) => o.key, minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.constantFrom('key', 'size', 'etag', 'drop'),
        (objects, at, what) => {
          const i = at % objects.length;
          const changed = objects.map((o) => ({ ...o }));
          if (what === 'key') changed[i].key = changed[i].key + '\u0000x';
          if (what === 'size') changed[i].size += 1;
          if (what === 'etag') changed[i].etag += 'f';
          if (what === 'drop') changed.splice(i, 1);
          expect(catalogVersion(changed)).to.not.equal(catalogVersion(objects));
        },
      ),
    );
  });
});

describe('catalog listing: top-level prefixes', () => {
  const B = 10;
  it('records each top-level prefix with the blocks its objects fill, relative to the Dataset prefix', () => {
    const objects = [obj('data/day=2/a', 15), obj('data/day=1/b', 5), obj('data/day=1/a', 10), obj('data/top', 3), obj('data/day=3/empty', 0)];
    // In key order: day=1/a (0-9), day=1/b (10-14), day=2/a (15-29), day=3/empty, top (30-32).
    expect(summarise(objects, B, 'data/').prefixes).to.deep.equal([
      { prefix: 'day=1/', firstBlock: 0, lastBlock: 1 },
      { prefix: 'day=2/', firstBlock: 1, lastBlock: 2 },
    ]);
    expect(summarise(objects, B, 'data').prefixes).to.deep.equal(summarise(objects, B, 'data/').prefixes);
    expect(summarise(objects, B, 'data/')).to.not.have.property('prefixesTruncated');
  });

  it('stops at MAX_CATALOG_PREFIXES and at over-long prefixes, saying the list is truncated', () => {
    const many = Array.from({ length: MAX_CATALOG_PREFIXES + 5 }, (_, i) => obj(`p${String(i).padStart(5, '0')}/x`, 1));
    const s = summarise(many, B);
    expect(s.prefixes).to.have.length(MAX_CATALOG_PREFIXES);
    expect(s.prefixes![MAX_CATALOG_PREFIXES - 1].prefix).to.equal(`p${String(MAX_CATALOG_PREFIXES - 1).padStart(5, '0')}/`);
    expect(s.prefixesTruncated).to.equal(true);
    const long = summarise([obj('a/x', 1), obj(`${'b'.repeat(MAX_CATALOG_PREFIX_LENGTH)}/x`, 1)], B);
    expect(long).to.deep.include({ prefixes: [{ prefix: 'a/', firstBlock: 0, lastBlock: 0 }], prefixesTruncated: true });
  });

  it("every prefix's blocks hold exactly its objects' bytes, in order (property)", () => {
    const entry = fc.record({ dir: fc.constantFrom('a/', 'b/', 'c/', ''), name: fc.stringMatching(/^[a-z]{1,4}$/), size: fc.nat(50) });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.dir + e.name, maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (entries, blockSize) => {
        const objects = sortObjects(entries.map((e) => obj(e.dir + e.name, e.size)));
        const { prefixes } = summarise(objects, blockSize);
        let offset = 0;
        const spans = new Map<string, [number, number]>();
        for (const o of objects) {
          const dir = o.key.includes('/') ? o.key.slice(0, o.key.indexOf('/') + 1) : undefined;
          if (dir && o.size > 0) {
            const span = spans.get(dir) ?? [offset, offset];
            spans.set(dir, [Math.min(span[0], offset), offset + o.size]);
          }
          offset += o.size;
        }
        expect(prefixes!.map((p) => p.prefix)).to.deep.equal([...spans.keys()]);
        for (const p of prefixes!) {
          const [start, end] = spans.get(p.prefix)!;
          expect(p.firstBlock).to.equal(Math.floor(start / blockSize));
          expect(p.lastBlock).to.equal(Math.ceil(end / blockSize) - 1);
        }
      }),
    );
  });
});
