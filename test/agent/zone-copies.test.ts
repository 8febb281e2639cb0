// Copies per block in a zone, as an agent applies the core's rule: the holders its inventory of the zone
// shows, the copies its Dataset or its flag asks for, and only blocks of a Dataset's current layout.
import { expect } from 'chai';
import type { DatasetSource } from '../../src/agent/catalogs.js';
import { blockIds } from '../../src/agent/inventory.js';
import { buildLayout, datasetBlock, type Layout } from '../../src/agent/layout.js';
import type { Peer, PeerDirectory } from '../../src/agent/peer-directory.js';
import { surplusCopies } from '../../src/agent/zone-copies.js';
import { rank } from '../../src/core/zone-copies.js';

const KEY = 'ml/train';
const layout: Layout = buildLayout(
  'data',
  'ds/',
  [0, 1, 2, 3].map((i) => ({ key: `ds/obj-${i}`, size: 1000, etag: `"e${i}"` })),
  1000,
);

/** The rule as `node` applies it when `holders` (other nodes) hold every block of the Dataset. */
function ruleFor(node: string, holders: readonly string[], opts: { copies?: number; datasetCopies?: number } = {}) {
  const directory = {
    holders: (dataset: string, version: string, blockSize: number) =>
      dataset === KEY && version === layout.version && blockSize === layout.blockSize ? holders.map((n): Peer => ({ node: n, url: `http://${n}` })) : [],
  } as unknown as PeerDirectory;
  const source: DatasetSource = {
    namespace: 'ml',
    name: 'train',
    bucket: 'data',
    prefix: 'ds/',
    ...(opts.datasetCopies ? { zoneCopies: opts.datasetCopies } : {}),
  };
  return surplusCopies({
    node,
    directory,
    catalogs: { current: (k) => (k === KEY ? layout : undefined), source: (k) => (k === KEY ? source : undefined) },
    copies: opts.copies ?? 1,
  });
}

const block = (i: number) => ({ id: blockIds(layout).ids[i], spec: datasetBlock(layout, i, KEY) });

describe('agent zone copies: the surplus rule over the zone inventory', () => {
  const table: Array<{ name: string; holders: string[]; copies?: number; datasetCopies?: number; dataset?: string; surplus: boolean | 'ranked' }> = [
    { name: 'the only copy in the zone', holders: [], surplus: false },
    { name: 'two copies, one kept: decided by rank', holders: ['node-b'], surplus: 'ranked' },
    { name: 'two copies and --zone-copies 2', holders: ['node-b'], copies: 2, surplus: false },
    { name: "the Dataset's zoneCopies over the agent's", holders: ['node-b'], copies: 1, datasetCopies: 2, surplus: false },
    { name: 'three holders elsewhere, copies 2: at least one ahead of this node', holders: ['node-b', 'node-c', 'node-d'], copies: 2, surplus: 'ranked' },
    { name: 'a block of no Dataset layout', holders: ['node-b'], dataset: 'ml/other', surplus: false },
  ];
  for (const t of table) {
    it(t.name, () => {
      const { id, spec } = block(1);
      const rule = ruleFor('node-a', t.holders, t);
      const copies = t.datasetCopies ?? t.copies ?? 1;
      const ahead = t.holders.filter((n) => rank(id, n) > rank(id, 'node-a')).length;
      const expected = t.surplus === 'ranked' ? ahead >= copies : t.surplus;
      expect(rule(id, t.dataset ? { ...spec, dataset: t.dataset } : spec)).to.equal(expected);
    });
  }

  it('a block that is not the layout’s block (other bytes under the same first key) is never surplus', () => {
    const { id, spec } = block(2);
    const shifted = { ...spec, parts: [{ ...spec.parts[0], offset: 1 }] };
    expect(ruleFor('node-a', ['b', 'c', 'd', 'e'])(id, shifted)).to.equal(false);
  });
});
