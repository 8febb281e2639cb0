// The policy registry and the one scoring function that the extender and the simulator both call.
import type { Locality } from '../locality-index.js';
import type { Slice } from '../slice.js';
import { datasetKey } from '../types.js';
import { MAX_SCORE, scoringConfig, type Policy, type ScoreRequest } from './config.js';
import { datasetAffinity } from './dataset-affinity.js';
import { locality } from './locality.js';
import { none } from './none.js';

export const policies = { locality, 'dataset-affinity': datasetAffinity, none } satisfies Record<string, Policy>;
export type PolicyName = keyof typeof policies;
export const policyNames = Object.keys(policies) as PolicyName[];

export function isPolicyName(name: string): name is PolicyName {
  return Object.hasOwn(policies, name);
}

export interface SizedDataset {
  key: string;
  /** Bytes the pod reads of it: its slice's, or the whole Dataset's. */
  totalBytes: number;
  /** Set when the pod reads part of the Dataset. */
  slice?: Slice;
}

/**
 * The pod's Datasets whose size is known, weighed by the bytes of the slice it reads; the others
 * cannot weigh in and score nothing.
 */
export function sizedDatasets(req: ScoreRequest): SizedDataset[] {
  const out: SizedDataset[] = [];
  for (const ref of req.datasets) {
    const key = datasetKey(ref.namespace, ref.name);
    const total = req.index.dataset(key)?.totalBytes;
    if (total === undefined || !(total > 0)) continue;
    const slice = ref.slice && !ref.slice.whole ? ref.slice : undefined;
    if (slice?.bytes === 0) continue;
    out.push(slice ? { key, totalBytes: slice.bytes, slice } : { key, totalBytes: total });
  }
  return out;
}

/** What is cached of the part of a Dataset the pod reads: on the node, in its zone and region. */
export function localityOf(req: ScoreRequest, d: SizedDataset, node: string): Locality {
  return d.slice ? req.index.sliceLocality(node, d.key, d.slice, req.now) : req.index.locality(node, d.key, req.now);
}

/** Integer 0..10 from a credited share: 10 only when everything counts as local. */
export function toScore(credited: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(MAX_SCORE, Math.floor((MAX_SCORE * credited) / total + 1e-9)));
}

/** Scores `req.nodes` in order. Pods with no sized Datasets get all zeros, never an error. */
export function scoreNodes(policy: PolicyName, req: ScoreRequest): number[] {
  const p = policies[policy];
  const sized = sizedDatasets(req);
  const scores = new Array<number>(req.nodes.length).fill(0);
  if (sized.length === 0 || p === none) return scores;
  const cfg = scoringConfig(req.config);
  let total = 0;
  for (const d of sized) total += d.totalBytes;
  // Names resolve to ids once, each Dataset's areas are read once; one Locality is refilled per node.
  // Dataset by Dataset over all nodes (one view at a time keeps its call site monomorphic); each node's
  // credits still add up in the pod's Dataset order.
  const ids = req.index.nodeIds(req.nodes);
  const credited = new Float64Array(ids.length);
  const loc = { onNode: 0, inZone: 0, inRegion: 0 };
  for (const d of sized) {
    const view = req.index.view(d.key, d.slice, req.now);
    for (let i = 0; i < ids.length; i++) credited[i] += p.credit(view.fill(ids[i], loc), d.totalBytes, cfg);
  }
  for (let i = 0; i < ids.length; i++) scores[i] = toScore(credited[i], total);
  return scores;
}
