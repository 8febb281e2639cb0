import { expect } from 'chai';
import { defineCommand, parseListen, UsageError } from '../../src/runtime/flags.js';

const command = defineCommand({
  name: 'demo',
  synopsis: '<thing> [flags]',
  description: 'Does a demo.',
  positionals: true,
  flags: {
    listen: { kind: 'listen', help: 'where', default: { host: '127.0.0.1', port: 80 } },
    wait: { kind: 'duration', help: 'how long', default: 90_000 },
    limit: { kind: 'size', help: 'how much' },
    mode: { kind: 'string', help: 'which', choices: ['a', 'b'], default: 'a' },
    tag: { kind: 'strings', arg: '<tag>', help: 'repeatable' },
    quick: { kind: 'boolean', help: 'hurry' },
    share: { kind: 'number', min: 0, max: 1, help: 'part', default: 0.5 },
    workers: { kind: 'count', min: 1, help: 'how many', default: 2 },
    copies: { kind: 'count', min: 1, max: 16, help: 'how many at most', default: 1 },
  },
});

describe('runtime/flags: declared once, parsed and shown one way', () => {
  it('gives typed values and defaults, plus --log-level', () => {
    const p = command.parse(['x', '--listen', '[::1]:9', '--wait', '1m30s', '--limit', '64Mi', '--tag', 'a', '--tag', 'b', '--quick', '--log-level', 'debug']);
    expect(p).to.not.equal('help');
    if (p === 'help') return;
    expect(p.positionals).to.deep.equal(['x']);
    expect(p.values).to.deep.equal({
      listen: { host: '::1', port: 9 },
      wait: 90_000,
      limit: 64 * 2 ** 20,
      mode: 'a',
      tag: ['a', 'b'],
      quick: true,
      share: 0.5,
      workers: 2,
      copies: 1,
      'log-level': 'debug',
    });
    expect(command.parse(['-h'])).to.equal('help');
  });

  it('parseOrHelp writes the help for -h and answers undefined, else the values', () => {
    let written = '';
    expect(command.parseOrHelp(['--help'], (t) => (written += t))).to.equal(undefined);
    expect(written).to.equal(`${command.help}\n`);
    expect(command.parseOrHelp(['--workers', '3'], (t) => (written += t))?.values.workers).to.equal(3);
  });

  for (const [argv, message] of [
    [['--listen', '9000'], /--listen must be <host>:<port>, e.g. 0.0.0.0:8080 or \[::1\]:8080, got "9000"/],
    [['--wait', '90'], /--wait must be a duration such as 15m, 1m30s or 500ms, got "90"/],
    [['--wait', '0s'], /--wait must be a duration/],
    [['--limit', '64MB'], /--limit must be a size such as 64Mi, 10G or 1048576, got "64MB"/],
    [['--mode', 'c'], /--mode must be one of a, b, got "c"/],
    [['--share', '2'], /--share must be a number from 0 to 1, got "2"/],
    [['--workers', '0'], /--workers must be a whole number of at least 1/],
    [['--copies', '17'], /--copies must be a whole number from 1 to 16, got "17"/],
    [['--log-level', 'loud'], /--log-level must be one of fatal, error/],
    [['--nope'], /nope/],
  ] as const) {
    it(`refuses ${argv.join(' ')} with the form it expects, and the help`, () => {
      expect(() => command.parse([...argv]))
        .to.throw(UsageError, message)
        .with.property('usage', command.help);
    });
  }

  it("renders the one layout, defaults in the flags' own syntax", () => {
    expect(command.help).to.equal(
      [
        'usage: locus demo <thing> [flags]',
        '',
        'Does a demo.',
        '',
        'flags:',
        '  --listen <host:port>  where (default 127.0.0.1:80)',
        '  --wait <duration>     how long (default 1m30s)',
        '  --limit <size>        how much',
        '  --mode <value>        which (a | b) (default a)',
        '  --tag <tag>           repeatable',
        '  --quick               hurry',
        '  --share <number>      part (default 0.5)',
        '  --workers <n>         how many (default 2)',
        '  --copies <n>          how many at most (default 1)',
        '  --log-level <level>   fatal | error | warn | info | debug | trace; debug also prints the stack of a failure (default info)',
        '  -h, --help            show this help',
      ].join('\n'),
    );
  });

  it('reads addresses with or without a host', () => {
    expect([parseListen('0.0.0.0:8080'), parseListen(':8080'), parseListen('[::]:1'), parseListen('host:70000'), parseListen('::1:80')]).to.deep.equal([
      { host: '0.0.0.0', port: 8080 },
      { host: '0.0.0.0', port: 8080 },
      { host: '::', port: 1 },
      undefined,
      undefined,
    ]);
  });
});
