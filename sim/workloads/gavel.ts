// Gavel traces: 10-field `physical_cluster` lines or 7-field `msr` lines (tab-separated), one job each.
// The job type fixes the model, and the model the dataset (see the trace README).
import { TRAINING_DATASETS, TRAINING_NOTES, trainingJobs, type TrainingJobSpec } from './training.js';
import type { Workload } from './types.js';

/** Model name at the start of the job type → the dataset it trains on (see the trace README). */
const MODELS: Record<string, { dataset?: string }> = {
  'ResNet-18': { dataset: 'cifar10' },
  'ResNet-50': { dataset: 'imagenet' },
  Transformer: { dataset: 'multi30k' },
  LM: { dataset: 'wikitext2' },
  Recommendation: { dataset: 'movielens-20m' },
  CycleGAN: { dataset: 'monet2photo' },
  A3C: {},
};

/**
 * Samples/s of one V100 per job type: Gavel's own measurements (scheduler/simulation_throughputs.json at
 * commit c4fa400, key `v100`, the job type at scale factor 1 running alone), steps/s × batch size.
 */
export const V100_SAMPLES_PER_SECOND: Record<string, number> = {
  A3C: 7.2,
  CycleGAN: 4.4,
  'LM (batch size 5)': 545.8,
  'LM (batch size 10)': 816.5,
  'LM (batch size 20)': 1294.8,
  'LM (batch size 40)': 1809.5,
  'LM (batch size 80)': 2259.2,
  'Recommendation (batch size 512)': 11938.6,
  'Recommendation (batch size 1024)': 13601.4,
  'Recommendation (batch size 2048)': 15297.8,
  'Recommendation (batch size 4096)': 15999.2,
  'Recommendation (batch size 8192)': 23277.7,
  'ResNet-18 (batch size 16)': 517.7,
  'ResNet-18 (batch size 32)': 958.3,
  'ResNet-18 (batch size 64)': 1542.0,
  'ResNet-18 (batch size 128)': 2303.3,
  'ResNet-18 (batch size 256)': 2636.9,
  'ResNet-50 (batch size 16)': 182.3,
  'ResNet-50 (batch size 32)': 249.2,
  'ResNet-50 (batch size 64)': 281.3,
  'ResNet-50 (batch size 128)': 319.6,
  'Transformer (batch size 16)': 177.0,
  'Transformer (batch size 32)': 339.9,
  'Transformer (batch size 64)': 551.5,
  'Transformer (batch size 128)': 697.1,
  'Transformer (batch size 256)': 408.4,
};

export interface GavelRow {
  jobType: string;
  steps: number;
  gpus: number;
  arrival: number;
  /** Data-loader worker processes per GPU, when the command sets them (`-j 8`, `--workers 8`). */
  loaderWorkers?: number;
}

/**
 * The loader workers a training command asks for: PyTorch's ImageNet example takes `-j N` / `--workers N`
 * (Gavel's ResNet-50 jobs run `main.py -j 8`, one process per GPU, each with its own DataLoader).
 */
export function loaderWorkersOf(command: string): number | undefined {
  const m = /(?:^|\s)(?:-j|--workers)(?:\s+|=)(\d+)(?=\s|$)/.exec(command);
  // `-j 0` loads in the training process itself: one request at a time.
  return m ? Math.max(1, Number(m[1])) : undefined;
}

export function parseGavel(text: string, source = 'gavel'): GavelRow[] {
  const rows: GavelRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line === '') continue;
    const f = line.split('\t');
    // physical_cluster: type, command, workdir, steps flag, needs data, steps, scale, priority, SLO, arrival
    // msr: type, command, steps flag, needs data, steps, arrival, scale
    const layout = f.length === 10 ? { steps: 5, gpus: 6, arrival: 9 } : f.length === 7 ? { steps: 4, gpus: 6, arrival: 5 } : undefined;
    if (!layout) throw new Error(`${source}:${i + 1}: expected 10 (physical_cluster) or 7 (msr) tab-separated fields, found ${f.length}`);
    const num = (k: number, name: string, min: number) => {
      const v = Number(f[k]);
      if (f[k] === '' || !Number.isFinite(v) || v < min)
        throw new Error(`${source}:${i + 1}: field ${k + 1} (${name}) must be a number >= ${min}, got "${f[k]}"`);
      return v;
    };
    const workers = loaderWorkersOf(f[1]);
    rows.push({
      jobType: f[0],
      steps: num(layout.steps, 'total_steps', 0),
      gpus: num(layout.gpus, 'scale_factor', 1),
      arrival: num(layout.arrival, 'arrival_time', 0),
      ...(workers === undefined ? {} : { loaderWorkers: workers }),
    });
  }
  return rows;
}

/** `ResNet-50 (batch size 64)` → model and batch size (1 when the type names none, as CycleGAN). */
export function gavelJobType(jobType: string): { model: string; batch: number } {
  const m = /^(.*?)\s*(?:\(batch size (\d+)\))?$/.exec(jobType)!;
  const model = m[1];
  if (!MODELS[model]) throw new Error(`unknown Gavel job type "${jobType}"; known models: ${Object.keys(MODELS).join(', ')}`);
  return { model, batch: m[2] ? Number(m[2]) : 1 };
}

export function gavelWorkload(rows: GavelRow[], source: string, blockSize: number): Workload {
  const specs = rows.map((r, i): TrainingJobSpec => {
    const { model, batch } = gavelJobType(r.jobType);
    const m = MODELS[model];
    const speed = V100_SAMPLES_PER_SECOND[r.jobType];
    if (speed === undefined) throw new Error(`Gavel job type "${r.jobType}" has no V100 throughput; known: ${Object.keys(V100_SAMPLES_PER_SECOND).join(', ')}`);
    const samples = r.steps * batch;
    const epochs = m.dataset ? samples / TRAINING_DATASETS[m.dataset].samples : 1;
    const loader = r.loaderWorkers === undefined ? {} : { loaderStreams: r.loaderWorkers };
    return { id: `job${i}`, arrival: r.arrival, gpus: r.gpus, dataset: m.dataset, computeSeconds: samples / speed, epochs, ...loader };
  });
  return {
    source,
    kind: 'training',
    ...trainingJobs(specs, blockSize),
    notes: [
      ...TRAINING_NOTES,
      "dataset per job: fixed by the Gavel job type (drawn by Gavel's generator)",
      "speed: Gavel's measured V100 samples/s for the job type (simulation_throughputs.json)",
      "loader: the data-loader workers per GPU the job's command sets (ResNet-50: -j 8)",
    ],
  };
}
