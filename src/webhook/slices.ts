// The slices a pod declares (locus.dev/slice…), checked at admission: what cannot be read is told to
// the pod's author as an admission warning and a Warning Event, never a denial (the extender scores
// such a pod on the whole Dataset). Shard ranges, block ranges and prefixes need the Dataset's
// catalog and are checked by the extender, which logs them and shows them in explain.
import { datasetRefsFromPod } from '../core/dataset-refs.js';
import { declaredSlices } from '../core/pod-slices.js';
import type { Problem } from '../core/types.js';
import type { FoundDataset } from './mutate.js';
import type { Pod } from './pod.js';

export const SLICE_EVENT_REASON = 'InvalidSlice';

export function sliceProblems(pod: Pod, namespace: string, found: ReadonlyMap<string, FoundDataset>): Problem[] {
  const { refs } = datasetRefsFromPod(pod, { namespace, isDataset: (ns, name) => ns === namespace && found.has(name) });
  return declaredSlices(pod, refs).problems;
}
