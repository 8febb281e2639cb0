// Trace loaders on the committed samples, their errors, and the synthetic generator.
import { expect } from 'chai';
import { buildCluster, PRESETS } from '../../sim/cluster.js';
import { gavelJobType, loaderWorkersOf, parseGavel } from '../../sim/workloads/gavel.js';
import { loadWorkload } from '../../sim/workloads/index.js';
import { parsePollux } from '../../sim/workloads/pollux.js';
import { parseSwim } from '../../sim/workloads/swim.js';
import { parseSyntheticSpec, syntheticWorkload } from '../../sim/workloads/synthetic.js';
import { stageDag } from '../../sim/workloads/dag.js';

const spark = buildCluster(PRESETS.spark);
const gpu = buildCluster(PRESETS.gpu);

describe('sim: trace loaders', () => {
  it('reads the shipped SWIM FB-2010 hours 0–11 with input paths: one dataset per label, map then reduce', () => {
    const w = loadWorkload('swim-fb2010', spark, 1);
    expect(w.jobs).to.have.length(13483);
    expect(w.jobs[0].arrival).to.equal(1);
    expect(w.jobs[w.jobs.length - 1].arrival).to.be.below(43200);
    // job1 reads 20,791,551,476 bytes of inputPath2 and shuffles 12,295,202,125: scaled by 100/3000.
    const job1 = w.jobs[1];
    const input = Math.round(20791551476 / 30);
    expect(job1.stages.map((s) => s.name)).to.deep.equal(['map', 'reduce']);
    expect(job1.stages[0].tasks).to.equal(Math.ceil(input / spark.blockSize));
    expect(job1.stages[1].after).to.deep.equal([0]);
    expect(w.datasets[job1.stages[0].dataset].name).to.equal('inputpath2');
    expect(w.datasets[job1.stages[0].dataset].bytes).to.be.at.least(input);
  });

  it('assigns Zipf datasets to SWIM files without paths, and says so', () => {
    const w = loadWorkload('swim-fb2009', spark, 1);
    expect(w.jobs).to.have.length(600);
    expect(w.notes.join(' ')).to.match(/drawn Zipf/);
    expect(loadWorkload('swim-fb2009', spark, 1).jobs).to.deep.equal(w.jobs);
  });

  it('names the line and field of a bad SWIM row', () => {
    expect(() => parseSwim('job0\t1\t1\t2\n', 'x.tsv')).to.throw(/x\.tsv:1: expected 6 or 8/);
    expect(() => parseSwim('job0\t1\t1\t-5\t0\t0\n', 'x.tsv')).to.throw(/field 4 \(map_input_bytes\)/);
  });

  it('reads both Gavel layouts and maps job types to datasets', () => {
    const physical = loadWorkload('gavel', gpu, 1);
    expect(physical.jobs).to.have.length(96);
    expect(physical.datasets.map((d) => d.name)).to.include.members(['wikitext2', 'cifar10']);
    const msr = parseGavel('ResNet-50 (batch size 64)\tcd %s/x && python3 main.py --data_dir=%s/imagenet/pytorch\t--num_minibatches\t1\t1000\t12.5\t4\n');
    expect(msr[0]).to.deep.equal({ jobType: 'ResNet-50 (batch size 64)', steps: 1000, gpus: 4, arrival: 12.5 });
    expect(gavelJobType('CycleGAN')).to.deep.equal({ model: 'CycleGAN', batch: 1 });
    expect(() => gavelJobType('GPT (batch size 8)')).to.throw(/unknown Gavel job type/);
  });

  describe('loader workers a Gavel command asks for', () => {
    const cases: Array<[string, number | undefined]> = [
      ['python3 main.py -j 8 -a resnet50 -b 64 %s/imagenet/', 8], // Gavel's ResNet-50 jobs
      ['python3 main.py --workers 6 -a resnet50 %s/imagenet/', 6],
      ['python3 main.py --workers=12 %s/imagenet/', 12],
      ['python3 main.py -j 0 %s/imagenet/', 1], // 0: loads in the training process, one request at a time
      ['python3 main.py --data_dir=%s/cifar10 --batch_size 128', undefined], // not stated: the cluster's
      ['python3 train.py -jobs 8 -data x', undefined],
    ];
    for (const [command, workers] of cases) it(command, () => expect(loaderWorkersOf(command)).to.equal(workers));
  });

  it("gives Gavel's ResNet-50 workers the trace's 8 loader streams and leaves the others to the cluster", () => {
    const w = loadWorkload('gavel', gpu, 1);
    const imagenet = w.datasets.findIndex((d) => d.name === 'imagenet');
    const stages = w.jobs.map((j) => j.stages[0]);
    const resnet50 = stages.filter((s) => s.dataset === imagenet);
    expect(resnet50).to.have.length(18);
    for (const s of resnet50) expect(s.loaderStreams).to.equal(8);
    for (const s of stages.filter((x) => x.dataset !== imagenet)) expect(s.loaderStreams).to.equal(undefined);
    const row =
      'ResNet-50 (batch size 64)\tpython3 main.py -j 8 -a resnet50 -b 64 %s/imagenet/\timage_classification/imagenet\t--num_minibatches\t1\t500\t2\t1\t-1\t7\n';
    expect(parseGavel(row)[0]).to.deep.equal({ jobType: 'ResNet-50 (batch size 64)', steps: 500, gpus: 2, arrival: 7, loaderWorkers: 8 });
  });

  it('reads Pollux workloads: one task per GPU, epochs as passes, each worker its own shard', () => {
    const w = loadWorkload('pollux', gpu, 1);
    expect(w.jobs).to.have.length(160);
    const first = w.jobs.find((j) => j.id === 'cifar10-0')!;
    expect(first.stages[0]).to.include({ tasks: 6, passes: 100, rotate: false, overlapIO: true });
    expect(() => parsePollux('name,time,application,num_replicas\nx,1,gpt,1\n', 'p.csv')).to.throw(/p\.csv:2: unknown application "gpt"/);
    expect(() => parsePollux('name,time\n', 'p.csv')).to.throw(/column "application"/);
  });

  it('generates synthetic workloads deterministically, with a clear error for bad parameters', () => {
    const params = parseSyntheticSpec('jobs=300,rate=2,datasets=10,zipf=1.2');
    const a = syntheticWorkload(params, 4, spark.blockSize);
    expect(syntheticWorkload(params, 4, spark.blockSize)).to.deep.equal(a);
    expect(a.jobs).to.have.length(300);
    // Poisson arrivals at 2/s: about 150 s for 300 jobs.
    expect(a.jobs[299].arrival).to.be.within(110, 190);
    // Zipf: the most popular dataset is read by more jobs than the least popular.
    const uses = new Array(10).fill(0);
    for (const j of a.jobs) uses[j.stages[0].dataset]++;
    expect(uses[0]).to.be.greaterThan(uses[9]);
    expect(() => parseSyntheticSpec('jobs=0')).to.throw(/jobs/);
    expect(() => parseSyntheticSpec('color=3')).to.throw(/parameters: jobs/);
  });

  it('orders stages by their dependencies and rejects cycles', () => {
    const base = { tasks: 1, dataset: -1, readBlocks: 0, passes: 1, rotate: false, computeSeconds: 1, overlapIO: false };
    const dag = stageDag('j', [
      { ...base, name: 'b', needs: ['a'] },
      { ...base, name: 'a', needs: [] },
    ]);
    expect(dag.map((s) => [s.name, s.after])).to.deep.equal([
      ['a', []],
      ['b', [0]],
    ]);
    expect(() =>
      stageDag('j', [
        { ...base, name: 'a', needs: ['b'] },
        { ...base, name: 'b', needs: ['a'] },
      ]),
    ).to.throw(/cycle/);
  });
});
