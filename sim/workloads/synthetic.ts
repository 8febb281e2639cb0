// The synthetic generator: Poisson job arrivals, Zipf dataset popularity, log-normal dataset sizes.
// Each job is a map stage reading its dataset (one task per block), optionally a reduce stage after it.
import { z } from 'zod';
import { Rng, Zipf } from '../rng.js';
import { stageDag, type StageNode } from './dag.js';
import { blockCount, type SimDataset, type SimJob, type Workload } from './types.js';

export const SyntheticParams = z
  .object({
    jobs: z.number().int().positive().default(2000),
    /** Mean job arrivals per second. */
    rate: z.number().positive().default(0.5),
    datasets: z.number().int().positive().default(50),
    zipf: z.number().nonnegative().default(1.1),
    /** Median and log-normal shape of dataset sizes, bytes. */
    datasetMedianBytes: z.number().positive().default(20e9),
    datasetSigma: z.number().nonnegative().default(1),
    /** Share of its dataset a job reads (its first blocks). */
    readFraction: z.number().positive().max(1).default(1),
    /** Compute seconds per map task (median, log-normal sigma 0.5). */
    taskSeconds: z.number().positive().default(2),
    /** Share of jobs with a reduce stage, and its task count. */
    reduceShare: z.number().min(0).max(1).default(0.3),
    reducers: z.number().int().positive().default(8),
  })
  .strict();
export type SyntheticParams = z.infer<typeof SyntheticParams>;

/** Parses `jobs=1000,zipf=0.9,…` (the part after `synthetic:` on the command line). */
export function parseSyntheticSpec(spec: string): SyntheticParams {
  return parseTraceParams(SyntheticParams, spec, 'synthetic', 'jobs=1000');
}

/** Parses `key=number,…` against a generator's parameters; errors name the parameter and list them all. */
export function parseTraceParams<S extends z.ZodObject>(schema: S, spec: string, trace: string, example: string): z.infer<S> {
  const raw: Record<string, number> = {};
  for (const part of spec.split(',').filter((p) => p !== '')) {
    const [key, value] = part.split('=');
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n)) throw new Error(`${trace} trace: "${part}" must be key=number, e.g. ${example}`);
    raw[key] = n;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = Object.keys(schema.shape).join(', ');
    throw new Error(`${trace} trace: ${issue.path.join('.') || 'parameters'}: ${issue.message} (parameters: ${keys})`);
  }
  return parsed.data;
}

export function syntheticWorkload(params: SyntheticParams, seed: number, blockSize: number): Workload {
  const rng = new Rng(seed);
  const zipf = new Zipf(params.datasets, params.zipf);
  const datasets: SimDataset[] = [];
  for (let d = 0; d < params.datasets; d++) {
    datasets.push({ name: `synthetic-${d}`, bytes: Math.max(1, Math.round(rng.logNormal(params.datasetMedianBytes, params.datasetSigma))) });
  }
  const jobs: SimJob[] = [];
  let t = 0;
  for (let j = 0; j < params.jobs; j++) {
    t += rng.exponential(1 / params.rate);
    const d = zipf.draw(rng);
    const readBlocks = Math.max(1, Math.round(blockCount(datasets[d].bytes, blockSize) * params.readFraction));
    const stages: StageNode[] = [
      {
        name: 'map',
        tasks: readBlocks,
        dataset: d,
        readBlocks,
        passes: 1,
        rotate: false,
        computeSeconds: rng.logNormal(params.taskSeconds, 0.5),
        overlapIO: false,
        needs: [],
      },
    ];
    if (rng.next() < params.reduceShare) {
      stages.push({
        name: 'reduce',
        tasks: params.reducers,
        dataset: -1,
        readBlocks: 0,
        passes: 1,
        rotate: false,
        computeSeconds: rng.logNormal(params.taskSeconds * 2, 0.5),
        overlapIO: false,
        needs: ['map'],
      });
    }
    jobs.push({ id: `job${j}`, arrival: t, stages: stageDag(`job${j}`, stages) });
  }
  const notes = [
    `synthetic: ${Object.entries(params)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}, seed ${seed}`,
  ];
  return { source: 'synthetic', kind: 'synthetic', datasets, jobs, notes };
}
