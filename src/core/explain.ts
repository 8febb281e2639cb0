// The breakdown behind a node's score for a pod: what `locus explain` prints.
import type { ScoreRequest } from './policies/config.js';
import { scoringConfig } from './policies/config.js';
import { localityOf, policies, scoreNodes, type PolicyName } from './policies/index.js';
import { formatSlice, type Slice } from './slice.js';
import { datasetKey } from './types.js';

export interface DatasetExplanation {
  dataset: string;
  /** Undefined when the Dataset is unknown or its size is not known yet. */
  totalBytes?: number;
  /** The part the pod reads, e.g. `shard 0/2 (blocks 0-63)`; absent when it reads the whole Dataset. */
  slice?: string;
  /** Bytes of that part (the Dataset's size when it reads all of it). */
  sliceBytes?: number;
  /** Bytes of the part the pod reads cached on the node, in its zone, in its region. */
  onNode: number;
  inZone: number;
  inRegion: number;
  /** Bytes the policy counts as local. */
  credited: number;
  note?: string;
}

/** Whether the node passed the filter of a pod that asks for locality, and why not. */
export interface FilterVerdict {
  passed: boolean;
  reason?: string;
}

export interface Explanation {
  node: string;
  policy: PolicyName;
  score: number;
  zone?: string;
  region?: string;
  inventoryLive: boolean;
  datasets: DatasetExplanation[];
  /** Present for pods with a locality requirement (`locus.dev/locality`). */
  filter?: FilterVerdict;
}

export function explain(policy: PolicyName, req: ScoreRequest, node: string, filter?: FilterVerdict): Explanation {
  const cfg = scoringConfig(req.config);
  const topology = req.index.topology(node);
  const datasets = req.datasets.map((ref): DatasetExplanation => {
    const key = datasetKey(ref.namespace, ref.name);
    const cat = req.index.dataset(key);
    const slice = ref.slice && !ref.slice.whole ? ref.slice : undefined;
    const part = slice ? { slice: describeSlice(slice), sliceBytes: slice.bytes } : {};
    if (!cat) return { dataset: key, ...part, ...req.index.locality(node, key, req.now), credited: 0, note: 'unknown Dataset: scores nothing' };
    if (!(cat.totalBytes! > 0)) {
      return {
        dataset: key,
        ...part,
        ...req.index.locality(node, key, req.now),
        credited: 0,
        note: 'size not known yet (no catalog in the Dataset status): scores nothing',
      };
    }
    const read = slice ? slice.bytes : cat.totalBytes!;
    const loc = localityOf(req, { key, totalBytes: read, slice }, node);
    return { dataset: key, totalBytes: cat.totalBytes, ...part, ...loc, credited: policies[policy].credit(loc, read, cfg) };
  });
  return {
    node,
    policy,
    score: scoreNodes(policy, { ...req, nodes: [node] })[0],
    zone: topology?.zone,
    region: topology?.region,
    inventoryLive: req.index.isLive(node, req.now),
    datasets,
    ...(filter ? { filter } : {}),
  };
}

/** `shard 0/2 (blocks 0-63)`: what the pod declared and the blocks it came to. */
export function describeSlice(slice: Slice): string {
  const declared = formatSlice(slice.spec);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < slice.ranges.length; i += 2) pairs.push([slice.ranges[i], slice.ranges[i + 1]]);
  const blocks =
    pairs.length === 0 ? 'no blocks' : formatSlice({ kind: 'blocks', ranges: pairs.slice(0, 4) }) + (pairs.length > 4 ? `,… (${slice.blocks} blocks)` : '');
  return slice.spec.kind === 'blocks' ? declared : `${declared} (${blocks})`;
}
