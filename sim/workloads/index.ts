// `--trace`: a shipped sample by name, a file (format from its extension), or `synthetic[:k=v,…]`.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../cluster.js';
import { gavelWorkload, parseGavel } from './gavel.js';
import { parsePollux, polluxWorkload } from './pollux.js';
import { parseSwim, SWIM_DEFAULTS, swimWorkload } from './swim.js';
import { datashimWorkload, hoardWorkload } from './published.js';
import { ServingParams, servingWorkload } from './serving.js';
import { parseSyntheticSpec, parseTraceParams, syntheticWorkload } from './synthetic.js';
import type { Workload } from './types.js';

const TRACES = join(dirname(fileURLToPath(import.meta.url)), '..', 'traces');

export const SHIPPED: Record<string, string> = {
  'swim-fb2010': 'swim-fb2010-inputpaths/FB-2010_withInputPaths_hours00-11.tsv',
  'swim-fb2009': 'swim-fb2009/FB-2009_samples_24_times_1hr_0.head600.tsv',
  gavel: 'gavel/max_min_fairness.trace',
  'gavel-small': 'gavel/small_test.trace',
  pollux: 'pollux/workload-1.csv',
  'pollux-realistic': 'pollux/workload-realistic-1.csv',
};

/** Machines of the traced Facebook clusters (SWIM wiki): byte counts are scaled to the modelled cluster. */
const SWIM_MACHINES = { 'FB-2009': 600, 'FB-2010': 3000 };

/** The cluster preset a trace runs on unless `--cluster` says otherwise. */
export function defaultCluster(trace: string): string {
  const name = trace.split(':')[0];
  if (name === 'hoard' || name === 'datashim') return name;
  if (name === 'serving' || /^(gavel|pollux)/.test(trace) || /\.(csv|trace)$/.test(trace)) return 'gpu';
  return 'spark';
}

export function loadWorkload(trace: string, cluster: Cluster, seed: number): Workload {
  const [generator, params = ''] = trace.split(/:(.*)/s);
  if (generator === 'synthetic') return syntheticWorkload(parseSyntheticSpec(params), seed, cluster.blockSize);
  if (generator === 'serving') return servingWorkload(parseTraceParams(ServingParams, params, 'serving', 'models=4'), seed, cluster.blockSize);
  if (trace === 'hoard') return hoardWorkload(cluster.blockSize);
  if (trace === 'datashim') return datashimWorkload(seed, cluster.blockSize);
  const file = SHIPPED[trace] ? join(TRACES, SHIPPED[trace]) : trace;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `--trace "${trace}" is neither a shipped trace (${Object.keys(SHIPPED).join(', ')}), a generated one (synthetic[:key=value,…], serving[:key=value,…], hoard, datashim), nor a readable file`,
    );
  }
  const name = basename(file);
  if (name.endsWith('.csv')) return polluxWorkload(parsePollux(text, name), `pollux:${name}`, cluster.blockSize);
  if (name.endsWith('.trace')) return gavelWorkload(parseGavel(text, name), `gavel:${name}`, cluster.blockSize);
  if (name.endsWith('.tsv')) {
    const machines = name.includes('2009') ? SWIM_MACHINES['FB-2009'] : SWIM_MACHINES['FB-2010'];
    return swimWorkload(parseSwim(text, name), `swim:${name}`, {
      ...SWIM_DEFAULTS,
      blockSize: cluster.blockSize,
      byteScale: cluster.spec.nodes / machines,
      seed,
    });
  }
  throw new Error(`--trace ${file}: unknown format; use .tsv (SWIM), .trace (Gavel) or .csv (Pollux workload)`);
}
