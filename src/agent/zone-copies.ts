// Copies per block in a zone. Peer fill makes every block of a zone one read away, so when capacity
// is tight a copy beyond `copies` in the zone is worth less than any block the zone holds once. Which
// holders keep theirs is the core's rendezvous rule over the holders the zone's inventories show: the
// first `copies` of the ranking keep it and each other holder evicts its copy before its other unpinned
// blocks. Pins (pods of the node will read the block) still keep a copy, as demand justifies it.
import { surplusCopy } from '../core/zone-copies.js';
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
    return (
      holders.length >= copies &&
      surplusCopy(
        id,
        opts.node,
        holders.map((h) => h.node),
        copies,
      )
    );
  };
}
