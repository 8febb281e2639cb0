// `locus sim` end to end on a small trace: files written, table printed, flags checked.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/runtime/flags.js';
import { run } from '../../src/cli/sim.js';

describe('sim: locus sim', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'locus-sim-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('writes report.json and a self-contained report.html, and prints the table', async () => {
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => {
      out.push(s);
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await run(['--trace', 'gavel-small', '--policies', 'default,locality,no-cache', '--seed', '3', '--out', dir])).to.equal(0);
    } finally {
      process.stdout.write = write;
    }
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.schema).to.equal('locus.dev/sim-report/v1');
    expect(report.policies.map((p: { policy: string }) => p.policy)).to.deep.equal(['default', 'locality', 'no-cache']);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)).to.have.length(4); // a training trace adds the GPU-utilisation chart
    expect(html).to.not.match(/<script|<link|src="http/);
    expect(out.join(''))
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
