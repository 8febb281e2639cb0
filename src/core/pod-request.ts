// From a pod to the request the policies answer: its Datasets (labels and PVCs), the slice of each
// it reads, and its annotations.
import { datasetRefsFromPod } from './dataset-refs.js';
import type { FilterRequest } from './filter.js';
import type { LocalityIndex } from './locality-index.js';
import type { ScoringConfig } from './policies/config.js';
import type { PodLike } from './pod.js';
import { declaredSlices, resolveSlices, type SliceOptions } from './pod-slices.js';
import { datasetKey, type Problem } from './types.js';

export function requestForPod(
  pod: PodLike,
  nodes: readonly string[],
  index: LocalityIndex,
  now: number,
  config?: Partial<ScoringConfig>,
  opts: SliceOptions = {},
): FilterRequest & { problems: Problem[] } {
  const { refs, problems } = datasetRefsFromPod(pod, {
    isDataset: (ns, name) => index.dataset(datasetKey(ns, name)) !== undefined,
  });
  const declared = declaredSlices(pod, refs, opts);
  problems.push(...declared.problems, ...resolveSlices(refs, declared.slices, (key) => index.dataset(key)));
  return { datasets: refs, nodes, index, now, config, annotations: pod.metadata?.annotations, problems };
}
