import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LocalityIndex } from '../../src/core/locality-index.js';
import { InventoryFeed, type ObjectKind } from '../../src/inventory/feed.js';
import { FileSource, FileSourceError, parseObjects, type FileSourceOptions } from '../../src/inventory/file-source.js';

const node = (name: string, zone?: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} },
});

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('inventory/file-source', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'locus-files-'));
  });

  describe('parseObjects', () => {
    it('reads one object, a List, several YAML documents and JSON', () => {
      const yaml = `${stringify(node('a'))}---\n${stringify({ apiVersion: 'v1', kind: 'List', items: [node('b'), node('c')] })}`;
      expect([...parseObjects('Node', 'f', yaml).keys()]).to.deep.equal(['default/a', 'default/b', 'default/c']);
      expect([...parseObjects('Node', 'f', JSON.stringify(node('d'))).keys()]).to.deep.equal(['default/d']);
      expect(parseObjects('Node', 'f', '').size).to.equal(0);
    });

    const bad: Array<[string, string, RegExp]> = [
      ['broken YAML', 'a: [', /^f: document 1 is not valid YAML or JSON/],
      ['a wrong kind', stringify({ kind: 'Pod', metadata: { name: 'x' } }), /^f: document 1: kind is "Pod", but this file was given as Node objects/],
      ['a missing name', stringify({ kind: 'List', items: [{ metadata: {} }] }), /^f: document 1 item 0: metadata\.name must be a non-empty string/],
      ['a duplicate', `${stringify(node('a'))}---\n${stringify(node('a'))}`, /^f: document 2: Node a appears twice/],
      ['a scalar', '42', /^f: document 1: expected a Node object/],
    ];
    for (const [what, text, message] of bad) {
      it(`rejects ${what}, naming the file and document`, () => {
        expect(() => parseObjects('Node', 'f', text)).to.throw(FileSourceError, message);
      });
    }
  });

  describe('FileSource', () => {
    const setup = () => {
      const index = new LocalityIndex({ ttlMs: 60_000 });
      const seen: Array<[ObjectKind, string]> = [];
      const feed = new InventoryFeed(index, () => 0, { invalid: (kind, message) => seen.push([kind, message]) });
      return { index, feed, seen };
    };

    it('loads, then applies changes, additions and removals when a file changes', async () => {
      const file = join(dir, 'nodes.yaml');
      writeFileSync(file, `${stringify(node('a', 'z1'))}---\n${stringify(node('b', 'z1'))}`);
      const errors: string[] = [];
      const source = new FileSource({ nodes: [file], pollMs: 20, onError: (_f, err) => errors.push(err.message) });
      const { index, feed } = setup();
      expect(source.synced()).to.equal(false);
      await source.start(feed);
      try {
        expect(source.synced()).to.equal(true);
        expect(feed.nodeNames()).to.deep.equal(['a', 'b']);
        writeFileSync(file, `${stringify(node('a', 'z2'))}---\n${stringify(node('c'))}`);
        await until('the reload', () => feed.nodeNames().join() === 'a,c');
        expect(index.topology('a')).to.deep.equal({ name: 'a', zone: 'z2' });
        expect(index.topology('b')).to.equal(undefined);
        // A broken edit keeps what was loaded and is reported.
        writeFileSync(file, 'items: [');
        await until('the error report', () => errors.length > 0);
        expect(errors[0]).to.contain(file);
        expect(feed.nodeNames()).to.deep.equal(['a', 'c']);
      } finally {
        await source.close();
      }
    });

    it('refuses to start when a file is missing or broken', async () => {
      const broken = join(dir, 'broken.yaml');
      writeFileSync(broken, stringify({ kind: 'Dataset', metadata: { name: 'x' } }));
      const cases: Array<[FileSourceOptions, RegExp]> = [
        [{ caches: [join(dir, 'absent.yaml')] }, /absent\.yaml: ENOENT/],
        [{ nodes: [broken] }, /kind is "Dataset"/],
      ];
      for (const [files, message] of cases) {
        const error = await new FileSource(files).start(setup().feed).then(
          () => undefined,
          (err: Error) => err,
        );
        expect(error).to.be.instanceOf(FileSourceError);
        expect(error!.message).to.match(message);
      }
    });

    it('reports a Dataset with a malformed catalog, keeping it as known but unsized', async () => {
      const file = join(dir, 'datasets.yaml');
      writeFileSync(file, stringify({ kind: 'Dataset', metadata: { name: 'd', namespace: 'ns' }, status: { catalog: { totalBytes: 'lots' } } }));
      const source = new FileSource({ datasets: [file] });
      const { index, feed, seen } = setup();
      await source.start(feed);
      await source.close();
      expect(index.dataset('ns/d')).to.deep.equal({ key: 'ns/d' });
      expect(seen[0][0]).to.equal('Dataset');
      expect(seen[0][1]).to.match(/^Dataset ns\/d: status\.catalog: /);
    });

    it("takes a Dataset's size from spec.cache.sizeHintBytes before it has a catalog", async () => {
      const file = join(dir, 'datasets.yaml');
      writeFileSync(file, stringify({ kind: 'Dataset', metadata: { name: 'd' }, spec: { cache: { sizeHintBytes: 1234 } } }));
      const source = new FileSource({ datasets: [file] });
      const { index, feed } = setup();
      await source.start(feed);
      await source.close();
      expect(index.dataset('default/d')).to.deep.equal({ key: 'default/d', totalBytes: 1234 });
    });
  });
});
