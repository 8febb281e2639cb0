// What the node holds, per Dataset, in the terms of each Dataset's catalog: block i is held when
// the block file naming exactly the parts of the catalog's block i is on disk.
import type { DatasetInventory } from '../core/types.js';
import { blockId, datasetBlock, type BlockSpec, type Layout } from './layout.js';

/** Block ids of a layout, index by index (computed once per layout). */
const idsOf = new WeakMap<Layout, { ids: string[]; lengths: number[] }>();

export function blockIds(layout: Layout): { ids: string[]; lengths: number[] } {
  let v = idsOf.get(layout);
  if (!v) {
    v = { ids: [], lengths: [] };
    for (let i = 0; i < layout.blockCount; i++) {
      const spec = datasetBlock(layout, i);
      v.ids.push(blockId(spec));
      v.lengths.push(spec.length);
    }
    idsOf.set(layout, v);
  }
  return v;
}

/** Which block of `layout` `spec` is (the catalog's block i names exactly its parts), or undefined when none is. */
export function blockIndex(spec: BlockSpec, layout: Layout): number | undefined {
  const first = spec.parts[0];
  const obj = first && layout.byKey.get(first.key);
  if (!obj || obj.etag !== first.etag) return undefined;
  const at = obj.start + first.offset;
  const index = Math.floor(at / layout.blockSize);
  return at % layout.blockSize === 0 && blockIds(layout).ids[index] === blockId(spec) ? index : undefined;
}

export interface DatasetHoldings {
  inventory: DatasetInventory;
  blockCount: number;
}

/** Per Dataset (keyed `ns/name`) with at least one block held: blocks, bytes, catalog version. */
export function holdings(layouts: ReadonlyMap<string, Layout>, has: (id: string) => boolean): DatasetHoldings[] {
  const out: DatasetHoldings[] = [];
  for (const [dataset, layout] of [...layouts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const { ids, lengths } = blockIds(layout);
    const blocks: number[] = [];
    let bytes = 0;
    for (let i = 0; i < ids.length; i++) {
      if (has(ids[i])) {
        blocks.push(i);
        bytes += lengths[i];
      }
    }
    if (blocks.length === 0) continue;
    out.push({
      inventory: { dataset, bytes, blockSize: layout.blockSize, catalogVersion: layout.version, blocks: Uint32Array.from(blocks) },
      blockCount: layout.blockCount,
    });
  }
  return out;
}
