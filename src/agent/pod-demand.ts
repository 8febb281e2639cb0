// What a pod bound to this node will read, in blocks: for each of its Datasets the agent fronts, the
// block ranges of its slice, found with the very functions the extender scores the pod with (its
// Dataset references, declared slices and their resolution), against the agent's own listing of the
// Dataset, which has the operator's catalog version. A slice that cannot be located counts whole, as
// the extender scores it. Warm items (queued work the extender planned for this node) resolve the same way.
import { datasetRefsFromPod } from '../core/dataset-refs.js';
import { declaredSlices, resolveSlices, type DeclaredSlice } from '../core/pod-slices.js';
import type { PodLike } from '../core/pod.js';
import { parseSlice } from '../core/slice.js';
import { datasetKey, type DatasetCatalog, type DatasetRef, type Problem } from '../core/types.js';
import type { DatasetSource } from './catalogs.js';
import type { Layout } from './layout.js';

export interface DatasetDemand {
  /** `ns/name`. */
  dataset: string;
  layout: Layout;
  /** Sorted, disjoint [start, end) block ranges, flattened: start0, end0, start1, end1, … */
  ranges: Uint32Array;
}

export interface PodDemand {
  datasets: DatasetDemand[];
  /** Datasets of the pod the agent fronts whose listing is not loaded yet. */
  unlisted: DatasetSource[];
  problems: Problem[];
}

export interface DemandLookup {
  /** The Dataset `ns/name` when the agent fronts it. */
  source(key: string): DatasetSource | undefined;
  /** Its loaded layout, when usable. */
  layout(key: string): Layout | undefined;
  /** `spec.completions` of a Job, when known: the shard count of its Indexed pods. */
  jobCompletions?(namespace: string, job: string): number | undefined;
}

export function podDemand(pod: PodLike, lookup: DemandLookup): PodDemand {
  const { refs, problems } = datasetRefsFromPod(pod, { isDataset: (ns, name) => lookup.source(datasetKey(ns, name)) !== undefined });
  const declared = declaredSlices(pod, refs, lookup.jobCompletions ? { jobCompletions: (ns, job) => lookup.jobCompletions!(ns, job) } : {});
  problems.push(...declared.problems);
  return sliceDemand(refs, declared.slices, lookup, problems);
}

/**
 * What a warm item (queued work the extender planned for this node) will read: its Datasets and slices
 * as the item names them, resolved as a bound pod's are.
 */
export function warmDemand(datasets: ReadonlyArray<{ namespace: string; name: string; slice?: string }>, lookup: DemandLookup): PodDemand {
  const problems: Problem[] = [];
  const refs: DatasetRef[] = datasets.map((d, index) => ({ namespace: d.namespace, name: d.name, useAs: [], source: { kind: 'label', index } }));
  const declared = datasets.map((d, i): DeclaredSlice | undefined => {
    if (d.slice === undefined) return undefined;
    const spec = parseSlice(d.slice);
    const field = `spec.warm[].datasets[${i}].slice`;
    if (!('error' in spec)) return { spec, field };
    problems.push({ field, message: `${spec.error}; the whole Dataset is warmed` });
    return undefined;
  });
  return sliceDemand(refs, declared, lookup, problems);
}

/** The block ranges of `refs` with their declared slices, against the agent's own listings. */
function sliceDemand(refs: DatasetRef[], declared: ReadonlyArray<DeclaredSlice | undefined>, lookup: DemandLookup, problems: Problem[]): PodDemand {
  const unlisted: DatasetSource[] = [];
  const catalogs = new Map<string, DatasetCatalog>();
  const layouts = new Map<string, Layout>();
  for (const ref of refs) {
    const key = datasetKey(ref.namespace, ref.name);
    const source = lookup.source(key);
    if (!source) continue;
    const layout = lookup.layout(key);
    if (!layout) {
      unlisted.push(source);
      continue;
    }
    layouts.set(key, layout);
    catalogs.set(key, {
      key,
      totalBytes: layout.totalBytes,
      blockSize: layout.blockSize,
      blockCount: layout.blockCount,
      catalogVersion: layout.version,
      ...(source.catalog?.prefixes ? { prefixes: source.catalog.prefixes } : {}),
      ...(source.catalog?.prefixesTruncated ? { prefixesTruncated: true } : {}),
    });
  }
  problems.push(...resolveSlices(refs, declared, (key) => catalogs.get(key)));
  const datasets: DatasetDemand[] = [];
  for (const ref of refs) {
    const key = datasetKey(ref.namespace, ref.name);
    const layout = layouts.get(key);
    if (!layout || layout.blockCount === 0) continue;
    datasets.push({ dataset: key, layout, ranges: ref.slice?.ranges ?? Uint32Array.of(0, layout.blockCount) });
  }
  return { datasets, unlisted, problems };
}
