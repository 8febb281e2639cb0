// Which slice of each Dataset a pod reads, from its annotations or its index in its workload:
//   locus.dev/slice: <slice>          every Dataset of the pod
//   locus.dev/slice.<i>: <slice>      the Dataset of label dataset.<i>.id
//   locus.dev/slice.<claim>: <slice>  the Dataset mounted through PVC <claim>
//   locus.dev/shards: <n>             shard count for the slice implied by the workload index
// A pod with no slice annotation for a Dataset but an index in an Indexed Job (annotation
// batch.kubernetes.io/job-completion-index) or a Kubeflow training job (label
// training.kubeflow.org/replica-index) reads `shard <index>/<n>`, n from locus.dev/shards or the owning
// Job's spec.completions. What cannot be read or located is a problem, and that Dataset is read whole.
import type { PodLike } from './pod.js';
import { formatSlice, parseSlice, resolveSlice, type SliceSpec } from './slice.js';
import { datasetKey, type DatasetCatalog, type DatasetRef, type Problem } from './types.js';

export const SLICE_ANNOTATION = 'locus.dev/slice';
export const SHARDS_ANNOTATION = 'locus.dev/shards';
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const REPLICA_INDEX_LABEL = 'training.kubeflow.org/replica-index';

export interface SliceOptions {
  /** `spec.completions` of a Job in a namespace, when known (the extender reads Jobs through an informer). */
  jobCompletions?: (namespace: string, job: string) => number | undefined;
}

/** A slice a pod declares for one of its Dataset references, and the annotation or label it came from. */
export interface DeclaredSlice {
  spec: SliceSpec;
  field: string;
}

/**
 * The slice each of `refs` declares (undefined: the whole Dataset), checked for syntax only, and the
 * problems found. Needs no catalog: the webhook reports these at admission.
 */
export function declaredSlices(
  pod: PodLike,
  refs: readonly DatasetRef[],
  opts: SliceOptions = {},
): { slices: Array<DeclaredSlice | undefined>; problems: Problem[] } {
  const annotations = pod.metadata?.annotations ?? {};
  const problems: Problem[] = [];

  const perRef = refs.map((ref) => `${SLICE_ANNOTATION}.${ref.source.kind === 'label' ? ref.source.index : ref.name}`);
  const known = new Set(perRef);
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(`${SLICE_ANNOTATION}.`) && !known.has(key)) {
      problems.push({
        field: key,
        message: `annotation "${key}" names no Dataset of this pod; use ${SLICE_ANNOTATION}.<i> for the Dataset of label dataset.<i>.id, or ${SLICE_ANNOTATION}.<claim> for one mounted through PVC <claim>`,
      });
    }
  }
  const all = parsed(annotations, SLICE_ANNOTATION, problems);
  const implicit = refs.some((_, i) => !(perRef[i] in annotations)) && !all ? workloadShard(pod, opts, problems) : undefined;
  const slices = refs.map((_, i) => (perRef[i] in annotations ? parsed(annotations, perRef[i], problems) : (all ?? implicit)));
  return { slices, problems };
}

/** The slice annotation `field` declares, if any; a malformed one is a problem. */
function parsed(annotations: Record<string, string>, field: string, problems: Problem[]): DeclaredSlice | undefined {
  const text = annotations[field];
  if (text === undefined) return undefined;
  const spec = parseSlice(text);
  if ('error' in spec) {
    problems.push({ field, message: `annotation "${field}": ${spec.error}; the pod is scored on the whole Dataset` });
    return undefined;
  }
  return { spec, field };
}

/** `shard <index>/<n>` from the pod's place in an Indexed Job or a training job, when n is known. */
function workloadShard(pod: PodLike, opts: SliceOptions, problems: Problem[]): DeclaredSlice | undefined {
  const jobIndex = pod.metadata?.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
  const replicaIndex = pod.metadata?.labels?.[REPLICA_INDEX_LABEL];
  const field = jobIndex !== undefined ? JOB_COMPLETION_INDEX_ANNOTATION : REPLICA_INDEX_LABEL;
  const indexText = jobIndex ?? replicaIndex;
  if (indexText === undefined) return undefined;
  const index = Number(indexText);
  if (!/^[0-9]+$/.test(indexText) || !Number.isSafeInteger(index)) {
    problems.push({ field, message: `"${field}" is "${indexText}", not a non-negative integer; the pod is scored on the whole Dataset` });
    return undefined;
  }
  const count = shardCount(pod, opts, problems);
  if (count === undefined) return undefined;
  if (index >= count.n) {
    problems.push({ field, message: `index ${index} is out of range for ${count.n} shards (${count.from}); the pod is scored on the whole Dataset` });
    return undefined;
  }
  return { spec: { kind: 'shard', index, count: count.n }, field };
}

function shardCount(pod: PodLike, opts: SliceOptions, problems: Problem[]): { n: number; from: string } | undefined {
  const text = pod.metadata?.annotations?.[SHARDS_ANNOTATION];
  if (text !== undefined) {
    const n = Number(text);
    if (/^[0-9]+$/.test(text.trim()) && Number.isSafeInteger(n) && n >= 1) return { n, from: SHARDS_ANNOTATION };
    problems.push({
      field: SHARDS_ANNOTATION,
      message: `annotation "${SHARDS_ANNOTATION}" must be a shard count of at least 1, e.g. "8", got "${text}"; the pod is scored on the whole Dataset`,
    });
    return undefined;
  }
  const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'Job' && o.controller);
  if (!owner?.name || !opts.jobCompletions) return undefined;
  const n = opts.jobCompletions(pod.metadata?.namespace || 'default', owner.name);
  return n !== undefined && Number.isSafeInteger(n) && n >= 1 ? { n, from: `spec.completions of Job ${owner.name}` } : undefined;
}

/**
 * Resolves each reference's declared slice against its Dataset's catalog and sets `ref.slice`;
 * a slice that cannot be located is a problem and leaves the reference whole. Unknown Datasets are
 * left alone (they score nothing anyway).
 */
export function resolveSlices(
  refs: DatasetRef[],
  declared: ReadonlyArray<DeclaredSlice | undefined>,
  catalog: (key: string) => DatasetCatalog | undefined,
): Problem[] {
  const problems: Problem[] = [];
  refs.forEach((ref, i) => {
    const d = declared[i];
    const cat = catalog(datasetKey(ref.namespace, ref.name));
    if (!d || !cat) return;
    const slice = resolveSlice(d.spec, cat);
    if ('error' in slice) {
      problems.push({ field: d.field, message: `${slice.error} ("${d.field}" → ${formatSlice(d.spec)}); the pod is scored on the whole Dataset` });
      return;
    }
    ref.slice = slice;
  });
  return problems;
}
