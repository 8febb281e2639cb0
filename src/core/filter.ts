// Filtering: every node passes unless the pod asks for locality through its annotations.
import type { ScoreRequest } from './policies/config.js';
import { sizedDatasets, type SizedDataset } from './policies/index.js';
import { formatSlice } from './slice.js';
import { localityRequirement } from './locality-requirement.js';
import type { Problem } from './types.js';

export interface FilterRequest extends ScoreRequest {
  annotations?: Record<string, string> | null;
}

export interface FilterResult {
  passed: string[];
  /** Node → a reason a person can read. */
  failed: Record<string, string>;
  problems: Problem[];
}

export function filterNodes(req: FilterRequest): FilterResult {
  const { requirement, problems } = localityRequirement(req.annotations);
  const all: FilterResult = { passed: [...req.nodes], failed: {}, problems };
  if (requirement.mode === 'none') return all;
  const sized = sizedDatasets(req);
  if (sized.length === 0) {
    if (req.datasets.length > 0) {
      problems.push({ field: 'locus.dev/locality', message: 'no Dataset of this pod has a known size yet, so locality cannot be enforced; all nodes pass' });
    }
    return all;
  }
  let total = 0;
  for (const d of sized) total += d.totalBytes;
  const passed: string[] = [];
  const failed: Record<string, string> = {};
  // As scoreNodes does: names to ids once, each Dataset's view once over all nodes, one Locality
  // refilled; held[j × nodes + n] is node n's bytes of Dataset j, summed in the pod's Dataset order.
  const ids = req.index.nodeIds(req.nodes);
  const count = ids.length;
  const held = new Float64Array(sized.length * count);
  const loc = { onNode: 0, inZone: 0, inRegion: 0 };
  for (let j = 0; j < sized.length; j++) {
    const view = req.index.view(sized[j].key, sized[j].slice, req.now);
    for (let n = 0; n < count; n++) held[j * count + n] = view.fill(ids[n], loc).onNode;
  }
  for (let n = 0; n < count; n++) {
    const node = req.nodes[n];
    let sum = 0;
    for (let j = 0; j < sized.length; j++) sum += held[j * count + n];
    const fraction = sum / total;
    if (fraction + 1e-12 >= requirement.minLocalFraction) passed.push(node);
    else
      failed[node] = shortfall(
        sized.map((d, j) => ({ what: describe(d), share: held[j * count + n] / d.totalBytes })),
        fraction,
        requirement.minLocalFraction,
      );
  }
  if (requirement.mode === 'preferred' && passed.length === 0) return all;
  return { passed, failed, problems };
}

// Words, not `%`: kube-scheduler uses an extender's reasons as a format string, so a `%` in them is
// read as a verb and mangled in the FailedScheduling Event.
const percent = (x: number) => `${Math.floor(x * 100)} percent`;

/** `ml/a`, or `ml/a shard 0/2` when the pod reads a slice of it. */
const describe = (d: SizedDataset): string => (d.slice ? `${d.key} ${formatSlice(d.slice.spec)}` : d.key);

function shortfall(parts: Array<{ what: string; share: number }>, fraction: number, min: number): string {
  const what =
    parts.length === 1
      ? `${percent(parts[0].share)} of ${parts[0].what}`
      : `${percent(fraction)} of its datasets (${parts.map((p) => `${p.what} ${percent(p.share)}`).join(', ')})`;
  return `holds ${what}, pod requires ${percent(min)}`;
}
