// Test helper: a LocalityIndex from a compact description of datasets, nodes and their caches.
import { LocalityIndex } from '../../src/core/locality-index.js';
import type { DatasetRef } from '../../src/core/types.js';

export interface World {
  datasets?: Record<string, { totalBytes?: number; blockSize?: number; blockCount?: number; version?: string }>;
  nodes?: Record<string, { zone?: string; region?: string }>;
  /** node → dataset → cached bytes, or a list of cached block indices (blockSize from the dataset). */
  caches?: Record<string, Record<string, number | number[]>>;
  ttlMs?: number;
  at?: number;
}

export function buildIndex(w: World): LocalityIndex {
  const index = new LocalityIndex({ ttlMs: w.ttlMs ?? 60_000 });
  for (const [key, d] of Object.entries(w.datasets ?? {})) {
    index.upsertDataset({ key, totalBytes: d.totalBytes, blockSize: d.blockSize, blockCount: d.blockCount, catalogVersion: d.version ?? 'v1' });
  }
  for (const [name, t] of Object.entries(w.nodes ?? {})) index.upsertNode({ name, ...t });
  for (const [node, cache] of Object.entries(w.caches ?? {})) {
    const datasets = Object.entries(cache).map(([key, held]) => {
      const d = w.datasets?.[key];
      if (typeof held === 'number') return { dataset: key, bytes: held };
      const bs = d?.blockSize ?? 1;
      return { dataset: key, bytes: held.length * bs, blockSize: bs, catalogVersion: d?.version ?? 'v1', blocks: Uint32Array.from(held) };
    });
    const outcome = index.applyInventory({ node, epoch: 'e1', seq: 1, datasets }, w.at ?? 0);
    if (outcome.kind !== 'applied') throw new Error(`${node}: ${outcome.reason}`);
  }
  return index;
}

export const refs = (...keys: string[]): DatasetRef[] =>
  keys.map((k, i) => {
    const [namespace, name] = k.split('/');
    return { namespace, name, useAs: ['mount'], source: { kind: 'label', index: i } };
  });
