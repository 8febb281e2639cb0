// Pollux workload CSVs: `name,time,application,num_replicas,batch_size`, one job per line.
// Epoch targets per application are Pollux's own (simulator/applications.py); speeds are assumed.
import { TRAINING_DATASETS, TRAINING_NOTES, trainingJobs, type TrainingJobSpec } from './training.js';
import type { Workload } from './types.js';

const APPLICATIONS: Record<string, { dataset: string; epochs: number; samplesPerSecond: number }> = {
  bert: { dataset: 'squad', epochs: 2, samplesPerSecond: 30 },
  cifar10: { dataset: 'cifar10', epochs: 100, samplesPerSecond: 3000 },
  deepspeech2: { dataset: 'voxforge', epochs: 80, samplesPerSecond: 40 },
  imagenet: { dataset: 'imagenet', epochs: 90, samplesPerSecond: 400 },
  ncf: { dataset: 'movielens-1m', epochs: 10, samplesPerSecond: 1_000_000 },
  yolov3: { dataset: 'pascal-voc', epochs: 50, samplesPerSecond: 40 },
};

export interface PolluxRow {
  name: string;
  time: number;
  application: string;
  replicas: number;
}

export function parsePollux(text: string, source = 'pollux'): PolluxRow[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const header = lines[0]?.split(',');
  const col = (name: string) => {
    const k = header?.indexOf(name) ?? -1;
    if (k < 0) throw new Error(`${source}:1: header must name the column "${name}" (expected name,time,application,num_replicas,batch_size)`);
    return k;
  };
  const c = { name: col('name'), time: col('time'), application: col('application'), replicas: col('num_replicas') };
  const rows: PolluxRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const f = lines[i].split(',');
    const time = Number(f[c.time]);
    const replicas = Number(f[c.replicas]);
    if (!Number.isFinite(time) || time < 0) throw new Error(`${source}:${i + 1}: time must be a non-negative number of seconds, got "${f[c.time]}"`);
    if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`${source}:${i + 1}: num_replicas must be a positive integer, got "${f[c.replicas]}"`);
    if (!APPLICATIONS[f[c.application]]) {
      throw new Error(`${source}:${i + 1}: unknown application "${f[c.application]}"; known: ${Object.keys(APPLICATIONS).join(', ')}`);
    }
    rows.push({ name: f[c.name], time, application: f[c.application], replicas });
  }
  return rows;
}

export function polluxWorkload(rows: PolluxRow[], source: string, blockSize: number): Workload {
  const specs = rows.map((r): TrainingJobSpec => {
    const app = APPLICATIONS[r.application];
    const samples = TRAINING_DATASETS[app.dataset].samples * app.epochs;
    return { id: r.name, arrival: r.time, gpus: r.replicas, dataset: app.dataset, computeSeconds: samples / app.samplesPerSecond, epochs: app.epochs };
  });
  return {
    source,
    kind: 'training',
    ...trainingJobs(specs, blockSize),
    notes: [...TRAINING_NOTES, "dataset per job: Pollux's application (assigned by its generator from a job-size class)"],
  };
}
