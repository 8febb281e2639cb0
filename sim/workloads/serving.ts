// Model serving under an autoscaler: several models' replica counts follow a daily demand curve with
// noise; each autoscaling period new replicas are created (scale out) or the newest removed (scale in,
// as a ReplicaSet scales down). A replica is a one-slot pod that loads its model's weights (a Dataset)
// before it serves; the time from its creation to its weights loaded is its cold start.
import { z } from 'zod';
import { Rng } from '../rng.js';
import { blockCount, type SimDataset, type SimJob, type Workload } from './types.js';

/** Weights of the served models: parameters × 2 bytes (fp16/bf16 checkpoints), so tens of GB each. */
export const SERVED_MODELS: Array<{ name: string; parameters: number }> = [
  { name: 'llm-7b', parameters: 7e9 },
  { name: 'llm-8b', parameters: 8e9 },
  { name: 'vlm-11b', parameters: 11e9 },
  { name: 'llm-13b', parameters: 13e9 },
  { name: 'llm-34b', parameters: 34e9 },
  { name: 'moe-47b', parameters: 46.7e9 },
];

export const ServingParams = z
  .object({
    /** How many of SERVED_MODELS are served (the first ones). */
    models: z.number().int().min(1).max(SERVED_MODELS.length).default(SERVED_MODELS.length),
    hours: z.number().positive().default(24),
    /** Seconds between autoscaler decisions. */
    periodSeconds: z.number().positive().default(300),
    /** Replicas of the most popular model at mean demand; model k gets peakReplicas / (k + 1). */
    peakReplicas: z.number().int().positive().default(24),
    /** Relative swing of the daily demand curve, and of per-period noise. */
    amplitude: z.number().min(0).max(1).default(0.6),
    noise: z.number().min(0).default(0.1),
    minReplicas: z.number().int().min(0).default(1),
  })
  .strict();
export type ServingParams = z.infer<typeof ServingParams>;

export function servingWorkload(params: ServingParams, seed: number, blockSize: number): Workload {
  const rng = new Rng(seed);
  const horizon = params.hours * 3600;
  const models = SERVED_MODELS.slice(0, params.models);
  const datasets: SimDataset[] = models.map((m) => ({ name: m.name, bytes: m.parameters * 2 }));
  const jobs: SimJob[] = [];
  models.forEach((m, d) => {
    const base = params.peakReplicas / (d + 1);
    const phase = rng.next() * 2 * Math.PI;
    // The replicas alive, newest last: [creation time, job index].
    const alive: Array<[number, number]> = [];
    let made = 0;
    const end = (at: number) => {
      const [created, j] = alive.pop()!;
      jobs[j].stages[0].computeSeconds = at - created;
    };
    for (let t = 0; t < horizon; t += params.periodSeconds) {
      const demand = base * (1 + params.amplitude * Math.sin((2 * Math.PI * t) / 86_400 + phase)) * (1 + params.noise * (2 * rng.next() - 1));
      const target = Math.max(params.minReplicas, Math.round(demand));
      while (alive.length > target) end(t);
      while (alive.length < target) {
        alive.push([t, jobs.length]);
        const readBlocks = blockCount(datasets[d].bytes, blockSize);
        jobs.push({
          id: `${m.name}-${made++}`,
          group: m.name,
          arrival: t,
          stages: [{ name: 'serve', tasks: 1, dataset: d, readBlocks, passes: 1, rotate: false, computeSeconds: 0, overlapIO: false, after: [] }],
        });
      }
    }
    while (alive.length > 0) end(horizon);
  });
  jobs.sort((a, b) => a.arrival - b.arrival);
  const notes = [
    `serving: ${models.map((m) => `${m.name} ${((m.parameters * 2) / 1e9).toFixed(1)} GB`).join(', ')}; ${params.hours} h, autoscaler every ${params.periodSeconds} s`,
    `replicas: model k at peakReplicas/(k+1) = ${params.peakReplicas}/(k+1) at mean demand, daily swing ±${params.amplitude * 100}%, noise ±${params.noise * 100}%, at least ${params.minReplicas}; scale-in removes the newest`,
    'a replica takes one slot (GPU), loads its whole model (reads every block), then serves until scaled in; cold start = creation to weights loaded',
  ];
  return { source: 'serving', kind: 'serving', datasets, jobs, notes };
}
