// The pure core of Locus: everything the extender and the simulator share.
export * from './types.js';
export type { PodLike } from './pod.js';
export { datasetRefsFromPod, type DatasetRefs, type DatasetRefsOptions } from './dataset-refs.js';
export { encodeBlockSet, decodeBlockSet, decodeBlockSetWithCount, BlockSetError } from './blockset.js';
export { LocalityIndex, type IndexOptions, type IndexStats, type Locality } from './locality-index.js';
export { MAX_SCORE, DEFAULT_SCORING, scoringConfig, type ScoringConfig, type ScoreRequest, type Policy } from './policies/config.js';
export { policies, policyNames, isPolicyName, scoreNodes, sizedDatasets, localityOf, toScore, type PolicyName, type SizedDataset } from './policies/index.js';
export { filterNodes, type FilterRequest, type FilterResult } from './filter.js';
export {
  localityRequirement,
  LOCALITY_ANNOTATION,
  MIN_FRACTION_ANNOTATION,
  DEFAULT_MIN_LOCAL_FRACTION,
  type LocalityRequirement,
} from './locality-requirement.js';
export { explain, describeSlice, type Explanation, type DatasetExplanation, type FilterVerdict } from './explain.js';
export { requestForPod } from './pod-request.js';
export { formatSlice, parseSlice, resolveSlice, shardStart, type Slice, type SliceSpec } from './slice.js';
export {
  declaredSlices,
  resolveSlices,
  SLICE_ANNOTATION,
  SHARDS_ANNOTATION,
  JOB_COMPLETION_INDEX_ANNOTATION,
  REPLICA_INDEX_LABEL,
  type DeclaredSlice,
  type SliceOptions,
} from './pod-slices.js';
