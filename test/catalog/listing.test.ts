import { expect } from 'chai';
import fc from 'fast-check';
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
    fc.assert(fc.property(fc.uniqueArray(entry, { selector: (o) => o.key, minLength: 1, maxLength: 20 }), fc.nat(), fc.constantFrom('key', 'size', 'etag', 'drop'), (objects, at, what) => {
      const i = at % objects.length;
      const changed = objects.map((o) => ({ ...o }));
      if (what === 'key') changed[i].key = changed[i].key + '\u0000x';
      if (what === 'size') changed[i].size += 1;
      if (what === 'etag') changed[i].etag += 'f';
      if (what === 'drop') changed.splice(i, 1);
      expect(catalogVersion(changed)).to.not.equal(catalogVersion(objects));
    }));
  });
});
