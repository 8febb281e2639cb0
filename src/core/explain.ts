// The breakdown behind a node's score for a pod: what `locus explain` prints.
import type { ScoreRequest } from './policies/config.js';
import { scoringConfig } from './policies/config.js';
import { policies, scoreNodes, type PolicyName } from './policies/index.js';
import { datasetKey } from './types.js';

export interface DatasetExplanation {
  dataset: string;
  /** Undefined when the Dataset is unknown or its size is not known yet. */
  totalBytes?: number;
  onNode: number;
  inZone: number;
  inRegion: number;
  /** Bytes the policy counts as local. */
  credited: number;
  note?: string;
}

export interface Explanation {
  node: string;
  policy: PolicyName;
  score: number;
  zone?: string;
  region?: string;
  inventoryLive: boolean;
  datasets: DatasetExplanation[];
}

export function explain(policy: PolicyName, req: ScoreRequest, node: string): Explanation {
  const cfg = scoringConfig(req.config);
  const topology = req.index.topology(node);
  const datasets = req.datasets.map((ref): DatasetExplanation => {
    const key = datasetKey(ref.namespace, ref.name);
    const cat = req.index.dataset(key);
    const loc = req.index.locality(node, key, req.now);
    const base = { dataset: key, ...loc };
    if (!cat) return { ...base, credited: 0, note: 'unknown Dataset: scores nothing' };
    if (!(cat.totalBytes! > 0)) return { ...base, credited: 0, note: 'size not known yet (no catalogue in the Dataset status): scores nothing' };
    return { ...base, totalBytes: cat.totalBytes, credited: policies[policy].credit(loc, cat.totalBytes!, cfg) };
  });
  return {
    node,
    policy,
    score: scoreNodes(policy, { ...req, nodes: [node] })[0],
    zone: topology?.zone,
    region: topology?.region,
    inventoryLive: req.index.isLive(node, req.now),
    datasets,
  };
}
