// `locus sim` end to end on a small trace: files written, table printed, flags checked.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/runtime/flags.js';
import { run } from '../../src/cli/sim.js';

/** Runs `locus sim` with what it prints to stdout captured. */
async function printing(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => {
    out.push(s);
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await run(argv), out: out.join('') };
  } finally {
    process.stdout.write = write;
  }
}

describe('sim: locus sim', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'locus-sim-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('writes report.json and a self-contained report.html, and prints the table', async () => {
    const { code, out } = await printing(['--trace', 'gavel-small', '--policies', 'default,locality,no-cache', '--seed', '3', '--out', dir]);
    expect(code).to.equal(0);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.schema).to.equal('locus.dev/sim-report/v1');
    expect(report.policies.map((p: { policy: string }) => p.policy)).to.deep.equal(['default', 'locality', 'no-cache']);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)).to.have.length(4); // a training trace adds the GPU-utilisation chart
    expect(html).to.not.match(/<script|<link|src="http/);
    expect(out)
      .to.match(/\| locality +\|/)
      .and.match(/bound: compulsory misses only/);
  });

  it('rejects an unknown policy and a missing trace with the fix', async () => {
    try {
      await run(['--trace', 'gavel-small', '--policies', 'magic']);
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(UsageError);
      expect((err as Error).message).to.match(/unknown policy "magic"; known: default, locality/);
    }
    await run([]).then(
      () => expect.fail('should throw'),
      (err) => expect((err as Error).message).to.match(/--trace is required/),
    );
    await run(['--trace', 'nope.bin', '--out', dir]).then(
      () => expect.fail('should throw'),
      (err) => expect((err as Error).message).to.match(/neither a shipped trace/),
    );
  });
});

describe('sim: locus sim --warm', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'locus-sim-warm-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('prints and writes the warm table (JSON and HTML); an unknown option is refused with the known ones', async () => {
    const { code, out } = await printing(['--trace', 'serving:models=2,hours=3', '--policies', 'locality', '--warm', 'prefetch,peer', '--out', dir]);
    expect(code).to.equal(0);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.warm.options).to.deep.equal(['prefetch', 'peer']);
    expect(report.warm.spec).to.deep.equal({
      podStartSeconds: 5,
      prefetchConcurrency: 2,
      prefetchPodBudgetGiB: 64,
      pinShare: 0.5,
      warmAheadShare: 0.05,
      zoneCopies: 1,
    });
    expect(report.warm.comparisons[0].rows.map((r: { variant: string }) => r.variant)).to.deep.equal(['base', '+prefetch', '+peer', '+prefetch+peer']);
    expect(out).to.match(/Warm cache, locality: what each option adds \(pod start-up 5 s in every run\):/);
    expect(await readFile(join(dir, 'report.html'), 'utf8')).to.match(/<h2>Warm cache, locality: what each option adds/);
    await run(['--trace', 'gavel-small', '--warm', 'magic']).then(
      () => expect.fail('should throw'),
      (err) => expect((err as Error).message).to.match(/--warm: unknown option "magic"; known: prefetch, warm-ahead, pin, peer \(or all\)/),
    );
  });
});

describe('sim: reports without --warm are unchanged', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'locus-sim-warm-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('serving:models=2,hours=3, every policy, seed 2: report.json byte-identical to the one made before the warm cache existed', async () => {
    // The fixture was written by `locus sim` of the tree before sim/warm.ts; regenerate it only for a change
    // meant to move every report.
    await printing(['--trace', 'serving:models=2,hours=3', '--policies', 'all', '--seed', '2', '--out', dir]);
    const fixture = await readFile(new URL('./fixtures/serving-before-warm.report.json', import.meta.url), 'utf8');
    expect(await readFile(join(dir, 'report.json'), 'utf8')).to.equal(fixture);
  });
});
