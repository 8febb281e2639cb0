// The report's data and words: the cumulative local share, JCT by job-size class, the summary table, and
// the sentence for bounds that coincide. Runs are built by hand so each figure can be checked by arithmetic.
import { expect } from 'chai';
import fc from 'fast-check';
import { buildCluster, PRESETS, type Cluster } from '../../sim/cluster.js';
import type { RunResult } from '../../sim/engine.js';
import { withSpeedups, policyMetrics, type PolicyMetrics } from '../../sim/metrics.js';
import type { PublishedComparison } from '../../sim/report/groups.js';
import { buildReport, type Report } from '../../sim/report/json.js';
import { chartSpecs } from '../../sim/report/html.js';
import { boundNotes, cacheSentence, ORACLE_ROW, publishedNotes, summaryHeader, summaryRows, summaryTable } from '../../sim/report/table.js';
import type { Workload } from '../../sim/workloads/types.js';

const GiB = 2 ** 30;
const cluster: Cluster = buildCluster({ ...PRESETS.spark, nodes: 4, cacheGiBPerNode: 10 });

/** One job per entry of `inputGiB`, reading that many GiB of its own dataset in one map stage. */
function workload(inputGiB: number[], kind: Workload['kind'] = 'synthetic'): Workload {
  return {
    source: 'hand-made',
    kind,
    notes: [],
    datasets: inputGiB.map((g, i) => ({ name: `d${i}`, bytes: g * GiB })),
    jobs: inputGiB.map((g, i) => ({
      id: `j${i}`,
      arrival: i,
      stages: [
        {
          name: 'map',
          tasks: 1,
          dataset: i,
          readBlocks: Math.ceil((g * GiB) / cluster.blockSize),
          passes: 1,
          rotate: false,
          computeSeconds: 1,
          overlapIO: false,
          after: [],
        },
      ],
    })),
  };
}

function run(policy: string, jct: number[], local: number[], remote: number[]): RunResult {
  const arrival = Float64Array.from(jct, (_, i) => i);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    policy,
    arrival,
    finish: Float64Array.from(jct, (t, i) => i + t),
    tasks: jct.length,
    blockReads: 1,
    blockHits: 0,
    localBytes: sum(local),
    remoteBytes: sum(remote),
    makespan: jct.length + Math.max(...jct),
    ready: arrival,
    computeSeconds: 0,
    slotSeconds: 0,
    bucketSeconds: 10,
    localSeries: local,
    remoteSeries: remote,
    peakBusy: new Int32Array(cluster.spec.nodes),
    inventoryWrites: 0,
  };
}

function report(w: Workload, runs: RunResult[], opts: { distinctGiB: number; compulsory: number; clairvoyant: (p: string) => number }): Report {
  const requested = runs[0].localBytes + runs[0].remoteBytes;
  const metrics = runs.map((r) => policyMetrics(r, opts.compulsory, opts.clairvoyant(r.policy) * requested));
  return buildReport({
    cluster,
    workload: w,
    seed: 1,
    compulsory: opts.compulsory,
    runs,
    tasksTotal: w.jobs.length,
    reads: { requestedBytes: requested, distinctBytes: opts.distinctGiB * GiB, blockReads: 1 },
    policies: withSpeedups(metrics),
  });
}

describe('sim: report data and summary', () => {
  it("cumulative local share: local over all bytes read from the start, ending at the run's hit ratio", () => {
    const bytes = fc.array(fc.nat(1_000_000), { maxLength: 300 });
    fc.assert(
      fc.property(bytes, bytes, (local, remote) => {
        // the two series may end at different buckets (a policy that never reads locally has no local series)
        const n = Math.max(local.length, remote.length);
        const r = report(workload([1]), [run('default', [1], local, remote)], { distinctGiB: 1, compulsory: 0, clairvoyant: () => 0 });
        const { bucketSeconds, cumulative } = r.localShare;
        const factor = bucketSeconds / 10;
        expect(cumulative.default).to.have.length(Math.ceil(n / factor));
        let l = 0;
        let all = 0;
        cumulative.default.forEach((share, i) => {
          for (let k = i * factor; k < Math.min((i + 1) * factor, n); k++) {
            l += local[k] ?? 0;
            all += (local[k] ?? 0) + (remote[k] ?? 0);
          }
          if (all === 0) expect(share).to.equal(null);
          else expect(share).to.be.closeTo(l / all, 1e-5);
        });
        if (all > 0) expect(cumulative.default.at(-1)).to.be.closeTo(r.policies[0].hitRatio, 1e-5);
      }),
    );
  });

  it("groups jobs by input bytes in decades and gives each policy's mean JCT per class", () => {
    const w = workload([0.5, 0.25, 3, 50, 400]);
    const r = report(w, [run('default', [2, 4, 10, 20, 40], [0], [1]), run('locality', [1, 2, 10, 18, 40], [1], [0])], {
      distinctGiB: 1,
      compulsory: 0,
      clairvoyant: () => 0,
    });
    expect(r.jctBySize.map((c) => [c.label, c.jobs])).to.deep.equal([
      ['< 1 GiB', 2],
      ['1–10 GiB', 1],
      ['10–100 GiB', 1],
      ['≥ 100 GiB', 1],
    ]);
    expect(r.jctBySize[0].meanJctSeconds).to.deep.equal({ default: 3, locality: 1.5 });
    expect(r.jctBySize[2].meanJctSeconds).to.deep.equal({ default: 20, locality: 18 });
    // a class with no job is left out
    expect(
      report(workload([0.5, 400]), [run('default', [1, 2], [0], [1])], { distinctGiB: 1, compulsory: 0, clairvoyant: () => 0 }).jctBySize.map((c) => c.label),
    ).to.deep.equal(['< 1 GiB', '≥ 100 GiB']);
  });

  describe('the sentence for bounds that coincide', () => {
    const runs = () => [run('default', [1], [1], [9]), run('locality', [1], [3], [7])];

    it('says the cache never binds when the distinct data fit in it', () => {
      const r = report(workload([1]), runs(), { distinctGiB: 30, compulsory: 0.4, clairvoyant: () => 0.4 });
      expect(boundNotes(r)).to.deep.equal([
        'The clairvoyant bound equals the compulsory bound (40.0% of bytes) for every policy, so "of compulsory" and "of clairvoyant" show the same figures. ' +
          "The cache never binds: the 32.2 GB of distinct data the trace reads fit in the cluster's 42.9 GB of cache (4 × 10 GiB), so even a clairvoyant eviction misses only first reads.",
      ]);
      expect(summaryTable(r)).to.contain('\n\nThe clairvoyant bound equals the compulsory bound');
    });

    it('names the policies when only some coincide, and gives the other reason when the data do not fit', () => {
      const r = report(workload([1]), runs(), { distinctGiB: 50, compulsory: 0.4, clairvoyant: (p) => (p === 'default' ? 0.4 : 0.35) });
      expect(boundNotes(r)).to.have.length(1);
      expect(boundNotes(r)[0]).to.match(/compulsory bound \(40\.0% of bytes\) for default, so .* a clairvoyant eviction keeps every block that is read again/);
    });

    it('says nothing when the bounds differ as printed', () => {
      const r = report(workload([1]), runs(), { distinctGiB: 50, compulsory: 0.4, clairvoyant: () => 0.3 });
      expect(boundNotes(r)).to.deep.equal([]);
      expect(summaryTable(r)).to.not.contain('equals');
    });

    it('says when the oracle reaches a bound', () => {
      const r = report(workload([1]), runs(), { distinctGiB: 50, compulsory: 0.4, clairvoyant: () => 0.3 });
      const oracle: PolicyMetrics & { label: string } = { ...r.policies[1], policy: 'oracle', label: 'reference: block-aware oracle', hitRatio: 0.4 };
      expect(boundNotes({ ...r, oracle, bounds: { ...r.bounds, oracleHitRatio: 0.4 } })).to.deep.equal([
        'The block-aware oracle reaches the compulsory bound (40.0% of bytes): knowing the live caches, it reads every block locally after its first read, ' +
          'so "of oracle" and "of compulsory" show the same figures.',
      ]);
      expect(boundNotes({ ...r, oracle, bounds: { ...r.bounds, oracleHitRatio: 0.3 } })[0]).to.match(
        /oracle's local share \(30\.0%\) equals the clairvoyant bound for every policy/,
      );
    });
  });

  it('adds a table per job group and the published speed-ups beside the simulated ones, when the workload has them', () => {
    const r = report(workload([1, 2]), [run('default', [2, 4], [1], [9]), run('no-cache', [4, 8], [0], [10])], {
      distinctGiB: 50,
      compulsory: 0.4,
      clairvoyant: () => 0.3,
    });
    expect(summaryTable(r)).to.not.contain('By job group');
    const groups = [{ group: 'SQL', jobs: 2, meanJctSeconds: { default: 3, 'no-cache': 6 }, vsNoCache: { default: 2, 'no-cache': 1 } }];
    const published = { source: 'a paper', claims: [{ group: 'SQL', what: 'cache vs none', published: 1.5, simulated: { default: 2, 'no-cache': 1 } }] };
    const text = summaryTable({ ...r, groups, published });
    expect(text).to.match(/By job group: mean JCT \(s\) and speed-up over no-cache:\n\n\| group \| jobs \| +default \| +no-cache \|/);
    expect(text).to.match(/\| SQL +\| +2 \| +3\.0 \(2\.00×\) \| +6\.0 \(1\.00×\) \|/);
    expect(text).to.contain('Published (a paper) beside simulated: speed-up over no-cache:');
    expect(text).to.match(/\| SQL +\| +1\.50× \| +2\.00× \| cache vs none +\|/);
  });

  it('prints a table of equal-width lines with short headers, and an oracle column and row only with an oracle', () => {
    const r = report(workload([1]), [run('default', [1], [1], [9]), run('locality', [1], [3], [7])], {
      distinctGiB: 50,
      compulsory: 0.4,
      clairvoyant: () => 0.3,
    });
    const lines = summaryTable(r)
      .split('\n')
      .filter((l) => l.startsWith('|'));
    expect(new Set(lines.map((l) => l.length)).size).to.equal(1);
    const header = lines[0]
      .split('|')
      .slice(1, -1)
      .map((h) => h.trim());
    expect(header).to.not.include('of oracle');
    for (const h of header) expect(h.length, h).to.be.at.most(14);
    const oracle = { ...r.policies[1], policy: 'oracle', label: 'reference: block-aware oracle', oracleShare: 1 };
    const withOracle = summaryTable({ ...r, oracle, bounds: { ...r.bounds, oracleHitRatio: 0.3 } })
      .split('\n')
      .filter((l) => l.startsWith('|'));
    expect(withOracle[0]).to.contain('| of oracle |');
    expect(withOracle.at(-1)).to.match(new RegExp(`^\\| ${ORACLE_ROW} .*\\| +100\\.0% \\|`));
  });

  describe('training and serving figures', () => {
    /** Two policies on `kind` work; locality computes 90% of its slot time, default 60%; serving cold starts from `ready`. */
    function work(kind: Workload['kind']): Report {
      const withCompute = (r: RunResult, computeSeconds: number, ready: number[]): RunResult => ({
        ...r,
        computeSeconds,
        slotSeconds: 100,
        ready: Float64Array.from(ready),
      });
      const runs = [withCompute(run('default', [10, 20, 30], [1], [9]), 60, [5, 11, 32]), withCompute(run('locality', [8, 12, 30], [5], [5]), 90, [1, 3, 5])];
      const requested = 10;
      const metrics = runs.map((r) => policyMetrics(r, 0.5, 0.5 * requested, kind === 'serving'));
      return buildReport({
        cluster,
        workload: workload([1, 1, 1], kind),
        seed: 1,
        compulsory: 0.5,
        runs,
        tasksTotal: 3,
        reads: { requestedBytes: requested, distinctBytes: 5 * GiB, blockReads: 1 },
        policies: withSpeedups(metrics),
      });
    }
    const column = (r: Report, name: string) => {
      const k = summaryHeader(r).indexOf(name);
      return k < 0 ? undefined : summaryRows(r).map((row) => row[k]);
    };

    it('adds a GPU util column for training, serving and mixed work only', () => {
      expect(column(work('synthetic'), 'GPU util')).to.equal(undefined);
      expect(column(work('spark'), 'GPU util')).to.equal(undefined);
      for (const kind of ['training', 'serving', 'mixed'] as const) {
        expect(column(work(kind), 'GPU util'), kind).to.deep.equal(['60.00%', '90.00%', '–']);
      }
    });

    it('adds the cold start p50/p99 column for serving only: creation to weights loaded', () => {
      expect(column(work('training'), 'cold p50/p99 s')).to.equal(undefined);
      // default's replicas waited 5, 10 and 30 s (ready - arrival, arrivals 0, 1, 2): p50 10, p99 by interpolation 29.6
      expect(column(work('serving'), 'cold p50/p99 s')).to.deep.equal(['10.0 / 29.6', '2.0 / 3.0', '–']);
    });

    it('keeps the table rectangular with short headers whatever columns the trace adds', () => {
      for (const kind of ['synthetic', 'training', 'serving'] as const) {
        const r = work(kind);
        for (const row of summaryRows(r)) expect(row, kind).to.have.length(summaryHeader(r).length);
        for (const h of summaryHeader(r)) expect(h.length, h).to.be.at.most(14);
        const lines = summaryTable(r)
          .split('\n')
          .filter((l) => l.startsWith('|'));
        expect(new Set(lines.map((l) => l.length)).size, kind).to.equal(1);
      }
    });

    it('draws GPU utilisation for training and cold starts for serving, on axes that do not start at 0', () => {
      const training = chartSpecs(work('training'));
      expect(training.coldStart).to.equal(undefined);
      const gpu = JSON.stringify(training.gpu);
      expect(gpu).to.contain('"zero":false').and.contain('"share":0.6').and.contain('"share":0.9');
      const serving = chartSpecs(work('serving'));
      expect(serving.gpu).to.equal(undefined);
      const cold = JSON.stringify(serving.coldStart);
      expect(cold).to.contain('"type":"log"');
      expect(cold).to.contain('{"policy":"default","quantile":"p99","seconds":29.6}');
      expect(chartSpecs(work('spark'))).to.not.have.any.keys('gpu', 'coldStart');
    });
  });

  it('states the cache beside the working set in a sentence', () => {
    const r = report(workload([1]), [run('default', [1], [1], [9])], { distinctGiB: 50, compulsory: 0.4, clairvoyant: () => 0.3 });
    // 4 nodes × 10 GiB = 42.9 GB of cache for 53.7 GB of distinct data: 0.8×
    expect(r.cache.cacheToWorkingSet).to.be.closeTo(0.8, 1e-6);
    expect(cacheSentence(r)).to.equal(
      "Cache: the cluster's 42.9 GB of cache is 0.80× the working set (53.7 GB of distinct data read): " +
        'it cannot hold the working set, so capacity binds and eviction matters.',
    );
    const roomy = report(workload([1]), [run('default', [1], [1], [9])], { distinctGiB: 0.25, compulsory: 0.4, clairvoyant: () => 0.3 });
    expect(cacheSentence(roomy)).to.match(/is 160× the working set \(0\.3 GB .*\): it can hold the whole working set/);
    expect(summaryTable(roomy)).to.contain("\n\nCache: the cluster's 42.9 GB of cache is 160×");
  });

  it('states the gap between each published speed-up and the simulated one', () => {
    const r = report(workload([1]), [run('default', [1], [1], [9])], { distinctGiB: 50, compulsory: 0.4, clairvoyant: () => 0.3 });
    expect(publishedNotes(r)).to.deep.equal([]);
    const published: PublishedComparison = {
      source: 'a paper',
      claims: [
        { group: 'SQL', what: 'w', published: 1.5, simulated: { default: 1.8, locality: 2.1, 'no-cache': 1 } },
        { group: 'DL', what: 'w', published: 2.9, simulated: { default: 1.01, random: 1.02, 'no-cache': 1 } },
        { group: 'same', what: 'w', published: 2, simulated: { locality: 2.04 } },
      ],
    };
    expect(publishedNotes({ ...r, published })).to.deep.equal([
      'SQL: published 1.50×, simulated 2.10× (locality) — the simulated speed-up is 1.40× the published figure; the README (Training, serving and published experiments) explains the gap.',
      'DL: published 2.90×, simulated 1.02× (random) — the simulated speed-up reaches 35% of it; the README (Training, serving and published experiments) explains the gap.',
      'same: published 2.00×, simulated 2.04× (locality) — the simulated speed-up matches it; the README (Training, serving and published experiments) explains the gap.',
    ]);
  });
});
