// Filtering: every node passes unless the pod asks for locality through its annotations.
import type { ScoreRequest } from './policies/config.js';
import { sizedDatasets } from './policies/index.js';
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
  for (const node of req.nodes) {
    const held = sized.map((d) => req.index.locality(node, d.key, req.now).onNode);
    const fraction = held.reduce((a, b) => a + b, 0) / total;
    if (fraction + 1e-12 >= requirement.minLocalFraction) passed.push(node);
    else failed[node] = shortfall(sized.map((d, i) => ({ key: d.key, share: held[i] / d.totalBytes })), fraction, requirement.minLocalFraction);
  }
  if (requirement.mode === 'preferred' && passed.length === 0) return all;
  return { passed, failed, problems };
}

const percent = (x: number) => `${Math.floor(x * 100)}%`;

function shortfall(parts: Array<{ key: string; share: number }>, fraction: number, min: number): string {
  const what = parts.length === 1
    ? `${percent(parts[0].share)} of ${parts[0].key}`
    : `${percent(fraction)} of its datasets (${parts.map((p) => `${p.key} ${percent(p.share)}`).join(', ')})`;
  return `holds ${what}, pod requires ${percent(min)}`;
}
