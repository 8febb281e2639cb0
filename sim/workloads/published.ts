// Workloads modelled on published experiments, with the speed-ups those experiments report, so a report
// can put the simulator's figure beside the published one. Parameters come from the sources where they
// state them; everything else is an assumption named in the notes (and in the README).
import { Rng, Zipf } from '../rng.js';
import { stageDag } from './dag.js';
import { V100_SAMPLES_PER_SECOND } from './gavel.js';
import { TRAINING_DATASETS, trainingJobs } from './training.js';
import { blockCount, type SimDataset, type SimJob, type Workload } from './types.js';

const HOARD_SOURCE = 'Pinto et al., "Hoard: A Distributed Data Caching System to Accelerate Deep Learning Training on the Cloud", arXiv:1812.00669 (2018)';
const DATASHIM_SOURCE = 'Koutsovasilis et al., "A Holistic Approach to Data Access for Cloud-Native Analytics and Machine Learning", IEEE CLOUD 2021';

/** Assumed AlexNet rate of one GPU of that era (the abstract names neither GPU nor rate). */
const ALEXNET_SAMPLES_PER_SECOND = 2000;
/** Epochs of the reference AlexNet schedule (Krizhevsky et al. 2012 trained ~90 epochs). */
const ALEXNET_EPOCHS = 90;

/**
 * Hoard: AlexNet on ImageNet (150 GB, as the paper states) over 16 GPUs (4 nodes × 4), data on a
 * 10 Gb/s NFS server (the cluster preset `hoard`). One job; its workers read their shard each epoch.
 */
export function hoardWorkload(blockSize: number): Workload {
  const samples = TRAINING_DATASETS.imagenet.samples;
  // The public ImageNet archive (147.9 GB) stands for the paper's 150 GB.
  const { jobs, datasets } = trainingJobs(
    [
      {
        id: 'alexnet',
        arrival: 0,
        gpus: 16,
        dataset: 'imagenet',
        epochs: ALEXNET_EPOCHS,
        computeSeconds: (samples * ALEXNET_EPOCHS) / ALEXNET_SAMPLES_PER_SECOND,
      },
    ],
    blockSize,
  );
  jobs[0].group = 'AlexNet training';
  return {
    source: 'hoard',
    kind: 'training',
    jobs,
    datasets,
    notes: [
      'Hoard (arXiv:1812.00669): AlexNet, ImageNet 150 GB, 16 GPUs on 4 nodes, 10 Gb/s NFS; published 2.1x with the cache',
      `assumed: ${ALEXNET_SAMPLES_PER_SECOND} images/s per GPU, ${ALEXNET_EPOCHS} epochs, the cache filled during the first epoch (Hoard can also fill it before the job)`,
    ],
    published: { source: HOARD_SOURCE, claims: [{ group: 'AlexNet training', speedup: 2.1, what: 'Hoard cache vs 10 Gb/s NFS' }] },
  };
}

/** Scan jobs of the datashim workload: tables, queries, and a scan's per-slot speed (assumed). */
const SQL = { tables: 4, tableBytes: 50e9, queries: 40, everySeconds: 90, zipf: 1, scanBytesPerSecond: 200e6, taskOverheadSeconds: 0.5 };
/** Training jobs of the datashim workload: ResNet-50 (batch 64) on ImageNet, at Gavel's V100 rate. */
const DL = { jobs: 4, gpus: 4, epochs: 3, everySeconds: 900, jobType: 'ResNet-50 (batch size 64)' };

/**
 * Datashim: Spark SQL-like scans of a few tables and deep-learning training on a small cluster, each
 * reading its Dataset from an object store, with and without node caching and locality (preset `datashim`).
 */
export function datashimWorkload(seed: number, blockSize: number): Workload {
  const rng = new Rng(seed);
  const zipf = new Zipf(SQL.tables, SQL.zipf);
  const datasets: SimDataset[] = Array.from({ length: SQL.tables }, (_, t) => ({ name: `table-${t}`, bytes: SQL.tableBytes }));
  const jobs: SimJob[] = [];
  for (let q = 0; q < SQL.queries; q++) {
    const table = zipf.draw(rng);
    const tasks = blockCount(SQL.tableBytes, blockSize);
    jobs.push({
      id: `query-${q}`,
      group: 'Spark SQL',
      arrival: q * SQL.everySeconds,
      stages: stageDag(`query-${q}`, [
        {
          name: 'scan',
          tasks,
          dataset: table,
          readBlocks: tasks,
          passes: 1,
          rotate: false,
          overlapIO: false,
          needs: [],
          computeSeconds: SQL.taskOverheadSeconds + SQL.tableBytes / tasks / SQL.scanBytesPerSecond,
        },
      ]),
    });
  }
  const samples = TRAINING_DATASETS.imagenet.samples;
  const training = trainingJobs(
    Array.from({ length: DL.jobs }, (_, i) => ({
      id: `train-${i}`,
      arrival: i * DL.everySeconds,
      gpus: DL.gpus,
      dataset: 'imagenet',
      epochs: DL.epochs,
      computeSeconds: (samples * DL.epochs) / V100_SAMPLES_PER_SECOND[DL.jobType],
    })),
    blockSize,
  );
  const imagenet = datasets.length;
  datasets.push(...training.datasets);
  for (const job of training.jobs) {
    job.group = 'DL training';
    for (const s of job.stages) s.dataset += imagenet;
    jobs.push(job);
  }
  jobs.sort((a, b) => a.arrival - b.arrival);
  return {
    source: 'datashim',
    kind: 'mixed',
    datasets,
    jobs,
    notes: [
      'Datashim (CLOUD 2021): Spark SQL and DL training reading object storage, with caching and locality on a small cluster; published +50 % (SQL) and +190 % (DL)',
      `assumed: ${SQL.queries} scans of ${SQL.tables} tables of ${SQL.tableBytes / 1e9} GB (Zipf ${SQL.zipf}) every ${SQL.everySeconds} s at ${SQL.scanBytesPerSecond / 1e6} MB/s per slot; ` +
        `${DL.jobs} ${DL.jobType} jobs × ${DL.gpus} GPUs × ${DL.epochs} epochs on ImageNet every ${DL.everySeconds} s (Gavel's V100 rate; ` +
        "the cluster's loaderStreams per GPU, since the paper states no loader settings)",
    ],
    published: {
      source: DATASHIM_SOURCE,
      claims: [
        { group: 'Spark SQL', speedup: 1.5, what: 'caching + scheduling vs object storage alone (+50 %)' },
        { group: 'DL training', speedup: 2.9, what: 'caching + scheduling vs object storage alone (+190 %)' },
      ],
    },
  };
}
