import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { encodeBlockSet } from '../../src/core/blockset.js';
import type { InventorySnapshot } from '../../src/core/types.js';
import { NodeCacheError, nodeCacheSchema } from '../../src/api/nodecache.js';
import { decodeNodeCache, nodeCacheToSnapshot, snapshotToNodeCache, snapshotToNodeCacheStatus } from '../../src/inventory/nodecache.js';
import { parseObjects } from '../../src/inventory/file-source.js';

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const snapshot: fc.Arbitrary<{ snap: InventorySnapshot; counts: Map<string, number> }> = fc
  .record({
    node: name,
    epoch: fc.string({ minLength: 1, maxLength: 12 }),
    seq: fc.nat(),
    capacityBytes: fc.option(fc.nat(), { nil: undefined }),
    datasets: fc.uniqueArray(
      fc.record({
        ns: name,
        name,
        blockCount: fc.integer({ min: 0, max: 3000 }),
        picks: fc.uniqueArray(fc.nat(2999), { maxLength: 300 }),
        bytes: fc.nat(),
        version: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        withBlocks: fc.boolean(),
      }),
      { selector: (d) => `${d.ns}/${d.name}`, maxLength: 6 },
    ),
  })
  .map(({ node, epoch, seq, capacityBytes, datasets }) => {
    const counts = new Map<string, number>();
    const snap: InventorySnapshot = {
      node,
      epoch,
      seq,
      datasets: datasets.map((d) => {
        const key = `${d.ns}/${d.name}`;
        counts.set(key, d.blockCount);
        const inv: InventorySnapshot['datasets'][number] = { dataset: key, bytes: d.bytes, blockSize: 1 << 20 };
        if (d.version !== undefined) inv.catalogVersion = d.version;
        if (d.withBlocks) inv.blocks = Uint32Array.from(d.picks.filter((b) => b < d.blockCount).sort((a, b) => a - b));
        return inv;
      }),
    };
    if (capacityBytes !== undefined) snap.capacityBytes = capacityBytes;
    return { snap, counts };
  });

describe('inventory/nodecache', () => {
  it('a snapshot survives NodeCache and back, through JSON (property)', () => {
    fc.assert(
      fc.property(snapshot, ({ snap, counts }) => {
        const obj = JSON.parse(JSON.stringify(snapshotToNodeCache(snap, { blockCounts: counts, nodeUid: 'u-1', updatedAt: new Date(0) })));
        expect(nodeCacheSchema.safeParse(obj).success).to.equal(true);
        expect(nodeCacheToSnapshot(obj)).to.deep.equal(snap);
        expect(obj.status.datasetCount).to.equal(snap.datasets.length);
      }),
      { numRuns: 300 },
    );
  });

  it('makes the Node the owner and names the object after it', () => {
    const obj = snapshotToNodeCache({ node: 'node-a', epoch: 'e', seq: 1, datasets: [] }, { nodeUid: 'uid-a' });
    expect(obj).to.deep.include({ apiVersion: 'locus.dev/v1alpha1', kind: 'NodeCache', spec: { nodeName: 'node-a' } });
    expect(obj.metadata).to.deep.equal({ name: 'node-a', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'node-a', uid: 'uid-a' }] });
  });

  it("encodes against the catalog's block count, else the highest block", () => {
    const snap: InventorySnapshot = { node: 'n', epoch: 'e', seq: 0, datasets: [{ dataset: 'a/b', bytes: 1, blocks: Uint32Array.of(2, 5) }] };
    expect(snapshotToNodeCacheStatus(snap).datasets[0]).to.include({ blockCount: 6, blocks: encodeBlockSet([2, 5], 6) });
    expect(snapshotToNodeCacheStatus(snap, { blockCounts: new Map([['a/b', 64]]) }).datasets[0].blockCount).to.equal(64);
  });

  it('reads the example inventory objects and their write time', () => {
    const objects = [
      ...parseObjects('NodeCache', 'nodecaches.yaml', readFileSync(new URL('../extender/fixtures/nodecaches.yaml', import.meta.url), 'utf8')).values(),
    ];
    const b = nodeCacheToSnapshot(objects[1].obj)!;
    expect(b.node).to.equal('node-b');
    expect(b.datasets[0].blocks!.length).to.equal(92);
    const { updatedAt } = decodeNodeCache({ ...(objects[0].obj as object), status: { epoch: 'e', seq: 1, updatedAt: '2026-11-26T05:00:00Z' } });
    expect(updatedAt).to.equal(Date.parse('2026-11-26T05:00:00Z'));
  });

  it('has no snapshot before the agent writes a status', () => {
    expect(nodeCacheToSnapshot({ metadata: { name: 'n' }, spec: { nodeName: 'n' } })).to.equal(undefined);
  });

  const base = { metadata: { name: 'node-a' }, spec: { nodeName: 'node-a' } };
  const bad: Array<[string, unknown, RegExp]> = [
    ['a negative seq', { ...base, status: { epoch: 'e', seq: -1 } }, /NodeCache "node-a": status\.seq/],
    ['an empty epoch', { ...base, status: { epoch: '', seq: 1 } }, /status\.epoch: must be a non-empty string/],
    [
      'a Dataset name that is not an object name',
      { ...base, status: { epoch: 'e', seq: 1, datasets: [{ namespace: 'ns', name: 'Bad_Name', bytes: 1 }] } },
      /status\.datasets\.0\.name: must be a lower-case RFC 1123 name/,
    ],
    [
      'a block set that is not base64',
      { ...base, status: { epoch: 'e', seq: 1, datasets: [{ namespace: 'ns', name: 'd', bytes: 1, blocks: '!!' }] } },
      /status\.datasets\.0\.blocks \(ns\/d\): block set is not valid base64; re-encode/,
    ],
    [
      'a block count that disagrees with the block set',
      { ...base, status: { epoch: 'e', seq: 1, datasets: [{ namespace: 'ns', name: 'd', bytes: 1, blockCount: 7, blocks: encodeBlockSet([1], 100) }] } },
      /encoded for 100 blocks but blockCount says 7/,
    ],
    ["a name that is not its node's", { metadata: { name: 'node-a' }, spec: { nodeName: 'node-b' } }, /spec\.nodeName is "node-b".*must be equal/],
    ['no spec', { metadata: { name: 'node-a' } }, /NodeCache "node-a": spec/],
    ['not an object', 42, /NodeCache \(unnamed\)/],
  ];
  for (const [what, obj, message] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      expect(() => nodeCacheToSnapshot(obj)).to.throw(NodeCacheError, message);
    });
  }
});

describe('crds/nodecache.yaml', () => {
  const crd = parse(readFileSync(new URL('../../crds/nodecache.yaml', import.meta.url), 'utf8'));
  const version = crd.spec.versions[0];

  it('is the cluster-scoped locus.dev/v1alpha1 NodeCache with a status subresource', () => {
    expect(crd.metadata.name).to.equal('nodecaches.locus.dev');
    expect(crd.spec).to.deep.include({ group: 'locus.dev', scope: 'Cluster' });
    expect(crd.spec.names).to.include({ kind: 'NodeCache', plural: 'nodecaches' });
    expect(version).to.deep.include({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('prints used and capacity bytes and the dataset count from fields the conversion writes', () => {
    const columns = Object.fromEntries(version.additionalPrinterColumns.map((c: { name: string; jsonPath: string }) => [c.name, c.jsonPath]));
    expect(columns).to.include({ Used: '.status.usedBytes', Capacity: '.status.capacityBytes', Datasets: '.status.datasetCount' });
    const status = snapshotToNodeCacheStatus({ node: 'n', epoch: 'e', seq: 1, usedBytes: 5, capacityBytes: 9, datasets: [{ dataset: 'a/b', bytes: 5 }] });
    expect(status).to.include({ usedBytes: 5, capacityBytes: 9, datasetCount: 1 });
  });
});
