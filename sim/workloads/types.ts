// What every trace loader produces: datasets with sizes, and jobs made of stages of one-slot tasks.

/** A Dataset the workload reads; its blocks are fixed-size slices of `bytes` (the last one shorter). */
export interface SimDataset {
  name: string;
  bytes: number;
  /** Mean size of one read request (a sample stored as its own object); absent: read as big objects, no per-request cost. */
  sampleBytes?: number;
}

/**
 * A set of identical tasks (pods of one slot: a Spark task, a training worker on one GPU).
 * Task i reads its share of `readBlocks` blocks of the dataset (the first ones, in order) once per
 * pass; with `rotate`, the shares move by one task each pass, so every worker sees the whole input
 * over several epochs (as a data loader that reshuffles across workers does).
 */
export interface StageSpec {
  name: string;
  tasks: number;
  /** Index into Workload.datasets, or -1 for a stage that reads no dataset (a reduce stage). */
  dataset: number;
  readBlocks: number;
  passes: number;
  rotate: boolean;
  /** Compute time of one task for one pass, in seconds. */
  computeSeconds: number;
  /** Reading overlaps computing (a training input pipeline) instead of preceding it (a map task). */
  overlapIO: boolean;
  /**
   * Concurrent sample requests of one task: its data loader's worker processes, where the job states
   * them (a training command's `-j 8`); absent: the cluster's `loaderStreams`.
   */
  loaderStreams?: number;
  /** Indices of stages (of the same job) that must finish before this one starts. */
  after: number[];
}

export interface SimJob {
  id: string;
  /** What kind of work it is where a workload mixes kinds (e.g. `Spark SQL`, `DL training`); reported per group. */
  group?: string;
  /** Submission time, seconds from the start of the trace. */
  arrival: number;
  stages: StageSpec[];
}

export interface Workload {
  /** What was loaded, e.g. `swim:FB-2010…tsv`. */
  source: string;
  kind: 'spark' | 'training' | 'synthetic' | 'serving' | 'mixed';
  datasets: SimDataset[];
  /** Sorted by arrival. */
  jobs: SimJob[];
  /** Modelling choices the trace forced (sizes assumed, scaling applied), shown in the report. */
  notes: string[];
  /** For a workload modelled on a published experiment: its source and the speed-ups it reports, per job group. */
  published?: PublishedResult;
}

export interface PublishedResult {
  source: string;
  /** Each: jobs of `group` ran `speedup`× faster with caching (and locality) than without, as published. */
  claims: Array<{ group: string; speedup: number; what: string }>;
}

/** Block range [from, to) that task `task` reads on pass `pass` of a stage (never empty). */
export function taskBlocks(stage: StageSpec, task: number, pass: number): [number, number] {
  const shard = stage.rotate ? (task + pass) % stage.tasks : task;
  const from = Math.floor((shard * stage.readBlocks) / stage.tasks);
  const to = Math.floor(((shard + 1) * stage.readBlocks) / stage.tasks);
  return to > from ? [from, to] : [Math.min(from, stage.readBlocks - 1), Math.min(from, stage.readBlocks - 1) + 1];
}

export function blockCount(bytes: number, blockSize: number): number {
  return Math.max(1, Math.ceil(bytes / blockSize));
}

/** Size of block `b` of a dataset of `bytes` bytes. */
export function blockBytes(bytes: number, blockSize: number, b: number): number {
  return Math.min(blockSize, bytes - b * blockSize);
}
