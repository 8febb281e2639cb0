// Every sub-command's --help: one layout, and every flag in the one syntax of durations, sizes and
// addresses (`--listen host:port`, `15m`, `64Mi`), with defaults that parse in that syntax.
import { expect } from 'chai';
import { commands, main } from '../../src/cli/main.js';
import { parseListen } from '../../src/runtime/flags.js';
import { parseBytes, parseDuration } from '../../src/runtime/units.js';

async function help(command: string): Promise<string> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    expect(await main([command, '--help'])).to.equal(0);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

interface FlagLine {
  name: string;
  arg: string;
  text: string;
}

/** The flag lines of a help text, continuation lines joined to their flag. */
function flagLines(text: string): FlagLine[] {
  const body = text.split('\nflags:\n')[1];
  const flags: FlagLine[] = [];
  for (const line of body.trimEnd().split('\n')) {
    const m = /^ {2}(-h, )?--([a-z0-9-]+)(?: (<[^>]+>))? {2,}(.*)$/.exec(line);
    if (m) flags.push({ name: m[2], arg: m[3] ?? '', text: m[4] });
    else flags[flags.length - 1].text += ` ${line.trim()}`;
  }
  return flags;
}

const DURATION_NAMES = /(^|-)(ttl|interval|delay|timeout|warning|valid-for)$/;
const SIZE_NAMES = /(^|-)(size|capacity|body-limit)$/;

describe("cli: every sub-command's help", () => {
  for (const command of Object.keys(commands)) {
    describe(command, () => {
      let text = '';
      before(async () => {
        text = await help(command);
      });

      it('has the one layout: usage, description, flags:, -h, --help last', () => {
        const lines = text.trimEnd().split('\n');
        expect(lines[0]).to.match(new RegExp(`^usage: locus ${command} `));
        const blank = lines.indexOf('');
        expect(lines[blank + 1], 'a description after the usage')
          .to.match(/^\S/)
          .and.not.equal('flags:');
        expect(lines, 'a flags: heading').to.include('flags:');
        expect(lines[lines.indexOf('flags:') - 1]).to.equal('');
        expect(lines[lines.length - 1]).to.match(/^ {2}-h, --help {2,}show this help$/);
        expect(flagLines(text).map((f) => f.name)).to.include('log-level');
      });

      it('spells durations, sizes and addresses one way, with defaults that parse', () => {
        for (const f of flagLines(text)) {
          const where = `${command} --${f.name}`;
          const def = /\(default ([^)]+)\)/.exec(f.text)?.[1];
          // A hostPort (a port number Kubernetes publishes on the node, not an address this process binds) keeps Kubernetes' name.
          const hostPort = /(^|-)host-port$/.test(f.name) && f.arg === '<n>';
          if (!hostPort) expect(f.name, `${where}: addresses are --listen <host:port>`).not.to.match(/(^|-)(host|port|addr|address)$/);
          if (/(^|-)listen$/.test(f.name)) {
            expect(f.arg, where).to.equal('<host:port>');
            if (def) expect(parseListen(def), `${where} default ${def}`).to.not.equal(undefined);
          }
          if (DURATION_NAMES.test(f.name) || f.arg === '<duration>') {
            expect(f.arg, where).to.equal('<duration>');
            if (def) expect(parseDuration(def), `${where} default ${def}`).to.be.greaterThan(0);
          }
          if (SIZE_NAMES.test(f.name) || f.arg === '<size>') {
            expect(f.arg, where).to.equal('<size>');
            if (def) expect(parseBytes(def), `${where} default ${def}`).to.be.greaterThan(0);
          }
          expect(f.arg, `${where}: no unit-less placeholders`).not.to.match(/<(seconds|bytes|days|ms|addr|port)>/);
          expect(f.text, `${where}: the unit is in the value, not the help`).not.to.match(
            /\b(in )?(seconds|milliseconds|minutes|days)\b(?! (of|after|before))/,
          );
          expect(f.text, `${where}: a required flag says so once`).not.to.match(/required.*required/);
        }
      });
    });
  }

  it('certs does not claim --dns is required (--ip alone works)', async () => {
    const text = await help('certs');
    expect(text.split('\n')[0]).to.match(/\[--dns <name>\.\.\.\]/);
    expect(flagLines(text).find((f) => f.name === 'dns')!.text).not.to.match(/required/);
  });

  it('the extender reads its defaults from the shared settings', async () => {
    const { NODECACHE_TTL_MS, AGENT_REFRESH_MS, SCORING_CREDITS } = await import('../../src/runtime/settings.js');
    const flags = flagLines(await help('extender'));
    const def = (name: string) => /\(default ([^)]+)\)/.exec(flags.find((f) => f.name === name)!.text)![1];
    expect(parseDuration(def('ttl'))).to.equal(NODECACHE_TTL_MS);
    expect(parseDuration(def('agent-refresh-interval'))).to.equal(AGENT_REFRESH_MS);
    expect(Number(def('zone-credit'))).to.equal(SCORING_CREDITS.zoneCredit);
    expect(Number(def('region-credit'))).to.equal(SCORING_CREDITS.regionCredit);
  });
});
