// The pure core of Locus: everything the extender and the simulator share.
export * from './types.js';
export type { PodLike } from './pod.js';
export { datasetRefsFromPod, type DatasetRefs, type DatasetRefsOptions } from './dataset-refs.js';
export { encodeBlockSet, decodeBlockSet, decodeBlockSetWithCount, BlockSetError } from './blockset.js';
export { LocalityIndex, type IndexOptions, type IndexStats, type Locality } from './locality-index.js';
export { MAX_SCORE, DEFAULT_SCORING, scoringConfig, type ScoringConfig, type ScoreRequest, type Policy } from './policies/config.js';
export { policies, policyNames, isPolicyName, scoreNodes, sizedDatasets, toScore, type PolicyName } from './policies/index.js';
export { filterNodes, type FilterRequest, type FilterResult } from './filter.js';
export {
  localityRequirement, LOCALITY_ANNOTATION, MIN_FRACTION_ANNOTATION, DEFAULT_MIN_LOCAL_FRACTION, type LocalityRequirement,
} from './locality-requirement.js';
export { explain, type Explanation, type DatasetExplanation } from './explain.js';
export { requestForPod } from './pod-request.js';
