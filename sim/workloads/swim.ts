// SWIM Facebook MapReduce traces (FB-2009, FB-2010): one job per line, tab-separated, 6 fields, or
// 8 (9 with a trailing tab) when an anonymized input path is given. A job becomes a Spark-style
// map stage (one task per input block) followed by a reduce stage sized by its shuffle bytes.
import { Rng, Zipf } from '../rng.js';
import { stageDag, type StageNode } from './dag.js';
import { blockCount, type SimDataset, type SimJob, type Workload } from './types.js';

export interface SwimRow {
  id: string;
  submit: number;
  inputBytes: number;
  shuffleBytes: number;
  outputBytes: number;
  /** `inputPathN`, or undefined in files without paths. */
  inputPath?: string;
}

export interface SwimOptions {
  blockSize: number;
  /** Every byte count is multiplied by this (SWIM's replay rule: target machines / traced machines). */
  byteScale: number;
  /** For files without input paths: jobs draw their input among this many datasets, Zipf-popular. */
  datasets: number;
  zipf: number;
  seed: number;
  /** Map throughput of one slot, bytes/s, and fixed start-up time of any task, s. */
  mapBytesPerSecond: number;
  reduceBytesPerSecond: number;
  taskOverheadSeconds: number;
  /** Shuffle bytes per reduce task, and the most reduce tasks a job gets. */
  reduceBytesPerTask: number;
  maxReducers: number;
  /** Keep only jobs submitted before this time (s). */
  until: number;
}

export const SWIM_DEFAULTS = {
  datasets: 200,
  zipf: 1.1,
  mapBytesPerSecond: 200e6,
  reduceBytesPerSecond: 100e6,
  taskOverheadSeconds: 0.5,
  reduceBytesPerTask: 1 << 30,
  maxReducers: 200,
  until: Infinity,
} satisfies Partial<SwimOptions>;

/** Parses the text of a SWIM file; errors name the line and the field. */
export function parseSwim(text: string, source = 'swim'): SwimRow[] {
  const rows: SwimRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line === '') continue;
    const f = line.split('\t');
    if (f.length !== 6 && f.length !== 8 && f.length !== 9) {
      throw new Error(
        `${source}:${i + 1}: expected 6 or 8 tab-separated fields (id, submit s, gap s, input, shuffle, output bytes[, input path, output path]), found ${f.length}`,
      );
    }
    const num = (k: number, name: string) => {
      const v = Number(f[k]);
      if (f[k] === '' || !Number.isFinite(v) || v < 0)
        throw new Error(`${source}:${i + 1}: field ${k + 1} (${name}) must be a non-negative number, got "${f[k]}"`);
      return v;
    };
    rows.push({
      id: f[0],
      submit: num(1, 'submit_time_seconds'),
      inputBytes: num(3, 'map_input_bytes'),
      shuffleBytes: num(4, 'shuffle_bytes'),
      outputBytes: num(5, 'reduce_output_bytes'),
      inputPath: f.length > 6 && f[6] !== '' ? f[6] : undefined,
    });
  }
  return rows;
}

export function swimWorkload(rows: SwimRow[], source: string, opts: SwimOptions): Workload {
  const kept = rows.filter((r) => r.submit < opts.until);
  const withPaths = kept.length > 0 && kept.every((r) => r.inputPath !== undefined);
  const labelOf = datasetLabels(kept, withPaths, opts);
  // A label's size is the largest read of it (the trace has no sizes); reads take its first blocks.
  const size = new Map<string, number>();
  for (let i = 0; i < kept.length; i++) {
    const bytes = Math.round(kept[i].inputBytes * opts.byteScale);
    if (bytes > 0) size.set(labelOf[i], Math.max(size.get(labelOf[i]) ?? 0, bytes));
  }
  const datasets: SimDataset[] = [];
  const indexOf = new Map<string, number>();
  for (const [label, bytes] of size) {
    indexOf.set(label, datasets.length);
    datasets.push({ name: label.toLowerCase(), bytes });
  }
  const jobs: SimJob[] = kept.map((r, i) => {
    const input = Math.round(r.inputBytes * opts.byteScale);
    const shuffle = r.shuffleBytes * opts.byteScale;
    const output = r.outputBytes * opts.byteScale;
    const readBlocks = input > 0 ? blockCount(input, opts.blockSize) : 1;
    const stages: StageNode[] = [
      {
        name: 'map',
        tasks: readBlocks,
        dataset: input > 0 ? indexOf.get(labelOf[i])! : -1,
        readBlocks,
        passes: 1,
        rotate: false,
        computeSeconds: opts.taskOverheadSeconds + input / readBlocks / opts.mapBytesPerSecond,
        overlapIO: false,
        needs: [],
      },
    ];
    if (shuffle > 0) {
      const reducers = Math.min(opts.maxReducers, Math.max(1, Math.ceil(shuffle / opts.reduceBytesPerTask)));
      stages.push({
        name: 'reduce',
        tasks: reducers,
        dataset: -1,
        readBlocks: 0,
        passes: 1,
        rotate: false,
        computeSeconds: opts.taskOverheadSeconds + (shuffle + output) / reducers / opts.reduceBytesPerSecond,
        overlapIO: false,
        needs: ['map'],
      });
    }
    return { id: r.id, arrival: r.submit, stages: stageDag(r.id, stages) };
  });
  const notes = [
    `byte counts scaled by ${opts.byteScale.toPrecision(3)} (target nodes / traced machines, SWIM's replay rule)`,
    "a dataset's size is the largest read of it in the trace; a job reads its first blocks",
    'a map task reads one block, and its pod declares it (locus.dev/slice: blocks <i>)',
    withPaths
      ? "dataset identity: the trace's anonymized input path"
      : `dataset identity: not in this trace; drawn Zipf(${opts.zipf}) over ${opts.datasets} datasets (seed ${opts.seed})`,
  ];
  return { source, kind: 'spark', datasets, jobs, notes };
}

function datasetLabels(rows: SwimRow[], withPaths: boolean, opts: SwimOptions): string[] {
  if (withPaths) return rows.map((r) => r.inputPath!);
  const rng = new Rng(opts.seed);
  const zipf = new Zipf(opts.datasets, opts.zipf);
  return rows.map(() => `swim-dataset-${zipf.draw(rng)}`);
}
