// Gavel traces: 10-field `physical_cluster` lines or 7-field `msr` lines (tab-separated), one job each.
// The job type fixes the model, and the model the dataset (see the trace README).
import { TRAINING_DATASETS, TRAINING_NOTES, trainingJobs, type TrainingJobSpec } from './training.js';
import type { Workload } from './types.js';

/** Model name at the start of the job type → dataset and assumed single-GPU samples/s. */
const MODELS: Record<string, { dataset?: string; samplesPerSecond: number }> = {
  'ResNet-18': { dataset: 'cifar10', samplesPerSecond: 3000 },
  'ResNet-50': { dataset: 'imagenet', samplesPerSecond: 400 },
  Transformer: { dataset: 'multi30k', samplesPerSecond: 1500 },
  LM: { dataset: 'wikitext2', samplesPerSecond: 2000 },
  Recommendation: { dataset: 'movielens-20m', samplesPerSecond: 50_000 },
  CycleGAN: { dataset: 'monet2photo', samplesPerSecond: 10 },
  A3C: { samplesPerSecond: 50 },
};

export interface GavelRow {
  jobType: string;
  steps: number;
  gpus: number;
  arrival: number;
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
      if (f[k] === '' || !Number.isFinite(v) || v < min) throw new Error(`${source}:${i + 1}: field ${k + 1} (${name}) must be a number >= ${min}, got "${f[k]}"`);
      return v;
    };
    rows.push({ jobType: f[0], steps: num(layout.steps, 'total_steps', 0), gpus: num(layout.gpus, 'scale_factor', 1), arrival: num(layout.arrival, 'arrival_time', 0) });
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
    const samples = r.steps * batch;
    const epochs = m.dataset ? samples / TRAINING_DATASETS[m.dataset].samples : 1;
    return { id: `job${i}`, arrival: r.arrival, gpus: r.gpus, dataset: m.dataset, computeSeconds: samples / m.samplesPerSecond, epochs };
  });
  return { source, kind: 'training', ...trainingJobs(specs, blockSize), notes: [...TRAINING_NOTES, 'dataset per job: fixed by the Gavel job type (drawn by Gavel\'s generator)'] };
}
