import { expect } from 'chai';
import { main } from '../../src/cli/main.js';

/** Runs main with stdout/stderr captured. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    err += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

describe('cli/main', () => {
  it('prints usage and exits 2 without a command', async () => {
    const r = await run([]);
    expect(r.code).to.equal(2);
    expect(r.out).to.match(/usage: locus <command>/);
  });

  it('--help lists every sub-command and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).to.equal(0);
    for (const c of ['extender', 'explain', 'operator', 'webhook', 'certs', 'agent', 'sim']) expect(r.out).to.include(`  ${c}`);
  });

  it('an unknown command prints usage and exits 2', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).to.equal(2);
    expect(r.err)
      .to.match(/unknown command "frobnicate"/)
      .and.match(/usage: locus/);
  });

  for (const command of ['extender', 'operator', 'webhook', 'certs', 'agent', 'sim', 'explain']) {
    it(`${command}: an unknown flag prints the command's usage and exits 2`, async () => {
      const r = await run([command, '--no-such-flag']);
      expect(r.code).to.equal(2);
      expect(r.err)
        .to.match(/no-such-flag/)
        .and.match(/usage/i);
    });
  }
});
