// Deep-learning training jobs: each GPU worker is a one-slot task that reads its shard of the job's
// dataset once per epoch (the same shard each epoch, as with a fixed shard per worker), reading ahead of
// its computing through a bounded prefetch buffer.
// The traces give no dataset sizes and no speeds; the tables below are the stated assumptions.
import { blockCount, type SimDataset, type SimJob, type StageSpec } from './types.js';

export interface DatasetModel {
  /** Approximate size of the public dataset, bytes. */
  bytes: number;
  /** Training samples per epoch. */
  samples: number;
  /**
   * Each sample is its own object (a JPEG, a WAV), fetched by one request, so its mean size is
   * bytes / samples; false: the dataset ships as a few large files (pickled batches, text, CSV, JSON)
   * read in big sequential requests, with no per-sample request cost.
   */
  perSampleObjects: boolean;
}

/** Public datasets the Gavel and Pollux jobs read; sizes of the usual distribution archives. */
export const TRAINING_DATASETS: Record<string, DatasetModel> = {
  cifar10: { bytes: 170.5e6, samples: 50_000, perSampleObjects: false }, // 5 pickled batch files of 10,000 images
  imagenet: { bytes: 147.9e9, samples: 1_281_167, perSampleObjects: true }, // one JPEG per image, ~115 KB mean
  multi30k: { bytes: 20e6, samples: 29_000, perSampleObjects: false }, // sentence-per-line text files
  wikitext2: { bytes: 13e6, samples: 59_675, perSampleObjects: false }, // one text file per split
  'movielens-20m': { bytes: 198.7e6, samples: 138_493, perSampleObjects: false }, // CSV files
  monet2photo: { bytes: 300e6, samples: 6_287, perSampleObjects: true }, // one JPEG per image
  squad: { bytes: 35.2e6, samples: 88_641, perSampleObjects: false }, // one JSON file per split
  voxforge: { bytes: 11e9, samples: 90_000, perSampleObjects: true }, // one WAV per utterance
  'movielens-1m': { bytes: 24e6, samples: 5_000_000, perSampleObjects: false }, // .dat rating files
  'pascal-voc': { bytes: 2.9e9, samples: 16_551, perSampleObjects: true }, // one JPEG (+ XML) per image
};

export interface TrainingJobSpec {
  id: string;
  arrival: number;
  gpus: number;
  /** A key of TRAINING_DATASETS, or undefined for a job that reads no dataset. */
  dataset?: string;
  /** Total single-GPU compute, seconds. */
  computeSeconds: number;
  epochs: number;
  /** Data-loader worker processes per GPU, where the trace's command states them; else the cluster's. */
  loaderStreams?: number;
}

/** Epochs simulated at most per job; longer jobs keep their compute time, spread over fewer passes. */
export const MAX_PASSES = 100;

/** A per-sample-object dataset's mean request size; nothing for one read as big files. */
export function sampleBytesOf(model: DatasetModel): { sampleBytes?: number } {
  return model.perSampleObjects ? { sampleBytes: model.bytes / model.samples } : {};
}

/** Builds the datasets (in first-use order) and jobs of a training workload. */
export function trainingJobs(specs: TrainingJobSpec[], blockSize: number): { datasets: SimDataset[]; jobs: SimJob[] } {
  const datasets: SimDataset[] = [];
  const indexOf = new Map<string, number>();
  const jobs = specs.map((s): SimJob => {
    const passes = Math.max(1, Math.min(MAX_PASSES, Math.round(s.epochs)));
    let dataset = -1;
    let readBlocks = 0;
    if (s.dataset !== undefined) {
      const model = TRAINING_DATASETS[s.dataset];
      if (!model) throw new Error(`job ${s.id}: unknown training dataset "${s.dataset}"`);
      if (!indexOf.has(s.dataset)) {
        indexOf.set(s.dataset, datasets.length);
        datasets.push({ name: s.dataset, bytes: model.bytes, ...sampleBytesOf(model) });
      }
      dataset = indexOf.get(s.dataset)!;
      readBlocks = blockCount(model.bytes, blockSize);
    }
    const stage: StageSpec = {
      name: 'train',
      tasks: s.gpus,
      dataset,
      readBlocks,
      passes,
      rotate: false,
      computeSeconds: s.computeSeconds / s.gpus / passes,
      overlapIO: true,
      ...(s.loaderStreams === undefined ? {} : { loaderStreams: s.loaderStreams }),
      after: [],
    };
    return { id: s.id, arrival: s.arrival, stages: [stage] };
  });
  jobs.sort((a, b) => a.arrival - b.arrival);
  return { datasets, jobs };
}

export const TRAINING_NOTES = [
  'dataset sizes: approximate sizes of the public datasets (the traces carry none)',
  'compute: per-model samples/s on one GPU, linear scaling over GPUs; one pod per GPU; epochs capped at ' + MAX_PASSES,
  "input: a dataset stored as one object per sample is fetched one sample per request by the loader's streams (the job's data-loader workers where its command states them, else the cluster's loaderStreams), each request paying the store's first-byte latency",
  'input: each worker reads its shard each epoch, block by block, through a bounded prefetch buffer; a block is computed once read, so a slow read idles the GPU',
];
