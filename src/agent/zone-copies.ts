// Copies per block in a zone. Peer fill makes every block of a zone one read away, so when capacity
// is tight a copy beyond `copies` in the zone is worth less than any block the zone holds once. Which
// holders keep theirs is decided by rendezvous hashing of (block id, node): every agent ranks a
// block's holders alike, so the first `copies` of the ranking keep it and each other holder evicts its
// copy before its other unpinned blocks, without agents agreeing on anything but the inventory they
// all read. Pins (pods of the node will read the block) still keep a copy, as demand justifies it.
import type { Catalogs } from './catalogs.js';
import { blockIndex } from './inventory.js';
import type { BlockSpec } from './layout.js';
import type { PeerDirectory } from './peer-directory.js';

export interface ZoneCopiesOptions {
  /** This node. */
  node: string;
  directory: PeerDirectory;
  catalogs: Pick<Catalogs, 'current' | 'source'>;
  /** Copies the zone keeps of a block of a Dataset that sets none (`spec.cache.zoneCopies`). */
  copies: number;
}

/** Whether the zone holds enough copies of block `id` on other nodes for this node's to go first. */
export function surplusCopies(opts: ZoneCopiesOptions): (id: string, spec: BlockSpec) => boolean {
  return (id, spec) => {
    const layout = spec.dataset === undefined ? undefined : opts.catalogs.current(spec.dataset);
    const index = layout && blockIndex(spec, layout);
    if (!layout || index === undefined) return false;
    const copies = opts.catalogs.source(spec.dataset!)?.zoneCopies ?? opts.copies;
    const holders = opts.directory.holders(spec.dataset!, layout.version, layout.blockSize, index);
    if (holders.length < copies) return false;
    const mine = rank(id, opts.node);
    let ahead = 0;
    for (const h of holders) {
      const theirs = rank(id, h.node);
      if (theirs > mine || (theirs === mine && h.node < opts.node)) ahead++;
    }
    return ahead >= copies;
  };
}

/** The rendezvous weight of `node` for block `id`: 32-bit FNV-1a of both, then a final avalanche. */
export function rank(id: string, node: string): number {
  let h = 0x811c9dc5;
  const s = `${id}\0${node}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
