// Every sub-command declares its flags once, by kind; this module parses them (node's parseArgs),
// checks them with one message per kind, and renders the one help layout:
//   usage: locus <name> …  /  description  /  flags:  /  --flag <arg>  help (default …)  /  -h, --help
import { parseArgs } from 'node:util';
import type { Level } from 'pino';
import { UsageError } from './errors.js';
import type { Listen } from './serve.js';
import { formatBytes, formatDuration, parseBytes, parseDuration } from './units.js';

export { UsageError };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const satisfies readonly Level[];

/** What each kind of flag parses to. Durations are milliseconds, sizes bytes. */
interface Kinds {
  string: string;
  strings: string[];
  boolean: boolean;
  duration: number;
  size: number;
  listen: Listen;
  count: number;
  number: number;
  level: Level;
}
export type FlagKind = keyof Kinds;

export interface FlagSpec<K extends FlagKind = FlagKind> {
  kind: K;
  help: string;
  /** Placeholder in the help (default from the kind: <duration>, <size>, <host:port>, <n>, …). */
  arg?: string;
  default?: Kinds[K];
  /** For `number` and `count`: the accepted range (a count's least is 0 by default); `duration`: the least ms (default 1: not zero). */
  min?: number;
  max?: number;
  /** For `string`: the accepted values. */
  choices?: readonly string[];
}

type Flags = Record<string, FlagSpec>;
type Value<F extends FlagSpec> = F extends { default: unknown }
  ? Kinds[F['kind']]
  : F['kind'] extends 'boolean' | 'strings'
    ? Kinds[F['kind']]
    : Kinds[F['kind']] | undefined;
export type Values<F extends Flags> = { -readonly [N in keyof F]: Value<F[N]> };

/** The flags every sub-command has. */
export const COMMON_FLAGS = {
  'log-level': { kind: 'level', help: `${LOG_LEVELS.join(' | ')}; debug also prints the stack of a failure`, default: 'info' },
} as const satisfies Flags;

/** The flags of every sub-command that talks to a cluster. */
export const KUBE_FLAGS = {
  kubeconfig: { kind: 'string', arg: '<file>', help: "kubeconfig (default: KUBECONFIG, the pod's service account, ~/.kube/config)" },
  context: { kind: 'string', arg: '<name>', help: 'kubeconfig context to use' },
} as const satisfies Flags;

const PLACEHOLDER: Record<FlagKind, string> = {
  string: '<value>',
  strings: '<value>',
  boolean: '',
  duration: '<duration>',
  size: '<size>',
  listen: '<host:port>',
  count: '<n>',
  number: '<number>',
  level: '<level>',
};

/** The form each kind takes, for error messages and the syntax test. */
export const FORMS: Record<FlagKind, string> = {
  string: 'a value',
  strings: 'a value',
  boolean: '',
  duration: 'a duration such as 15m, 1m30s or 500ms',
  size: 'a size such as 64Mi, 10G or 1048576',
  listen: '<host>:<port>, e.g. 0.0.0.0:8080 or [::1]:8080',
  count: 'a whole number',
  number: 'a number',
  level: `one of ${LOG_LEVELS.join(', ')}`,
};

export interface CommandSpec<F extends Flags> {
  name: string;
  /** What follows `locus <name>` in the usage line (default `[flags]`). */
  synopsis?: string | string[];
  description: string;
  flags: F;
  /** Accepts positional arguments (named in the synopsis). */
  positionals?: boolean;
}

export interface Parsed<F extends Flags> {
  values: Values<F & typeof COMMON_FLAGS>;
  positionals: string[];
}

export interface Command<F extends Flags> {
  name: string;
  help: string;
  /** The flags' values, or 'help' for -h/--help; wrong flags throw a UsageError naming the flag. */
  parse(argv: string[]): Parsed<F> | 'help';
  /** As `parse`, but -h/--help writes the help and answers undefined: the sub-command then exits 0. */
  parseOrHelp(argv: string[], write?: (text: string) => void): Parsed<F> | undefined;
  /** Throws a UsageError with this command's help. */
  fail(message: string): never;
}

export function defineCommand<const F extends Flags>(spec: CommandSpec<F>): Command<F> {
  const flags: Flags = { ...spec.flags, ...COMMON_FLAGS };
  const help = renderHelp(spec, flags);
  const fail = (message: string): never => {
    throw new UsageError(message, help);
  };
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, f]) => [
      name,
      { type: f.kind === 'boolean' ? ('boolean' as const) : ('string' as const), multiple: f.kind === 'strings' },
    ]),
  );
  const command: Command<F> = {
    name: spec.name,
    help,
    fail,
    parseOrHelp(argv, write = (text) => process.stdout.write(text)) {
      const parsed = command.parse(argv);
      if (parsed !== 'help') return parsed;
      write(`${help}\n`);
      return undefined;
    },
    parse(argv) {
      let parsed;
      try {
        parsed = parseArgs({
          args: argv,
          options: { ...options, help: { type: 'boolean', short: 'h' } },
          strict: true,
          allowPositionals: spec.positionals ?? false,
        });
      } catch (err) {
        return fail((err as Error).message);
      }
      if (parsed.values.help) return 'help';
      const values: Record<string, unknown> = {};
      for (const [name, f] of Object.entries(flags)) {
        const raw = (parsed.values as Record<string, string | string[] | boolean | undefined>)[name];
        values[name] = raw === undefined ? (f.default ?? (f.kind === 'boolean' ? false : f.kind === 'strings' ? [] : undefined)) : convert(name, f, raw, fail);
      }
      return { values: values as Values<F & typeof COMMON_FLAGS>, positionals: parsed.positionals };
    },
  };
  return command;
}

function convert(name: string, f: FlagSpec, raw: string | string[] | boolean, fail: (m: string) => never): unknown {
  if (f.kind === 'boolean' || f.kind === 'strings') return raw;
  const text = raw as string;
  const bad = (): never => fail(`--${name} must be ${f.kind === 'string' ? `one of ${f.choices?.join(', ')}` : FORMS[f.kind]}, got "${text}"`);
  switch (f.kind) {
    case 'string':
      if (f.choices && !f.choices.includes(text)) bad();
      return text;
    case 'duration': {
      const ms = parseDuration(text);
      return ms !== undefined && ms >= (f.min ?? 1) ? ms : bad();
    }
    case 'size': {
      const bytes = parseBytes(text);
      return bytes !== undefined && bytes > 0 ? bytes : bad();
    }
    case 'listen':
      return parseListen(text) ?? bad();
    case 'count':
      return /^\d+$/.test(text) && Number(text) >= (f.min ?? 0) && Number(text) <= (f.max ?? Infinity)
        ? Number(text)
        : fail(`--${name} must be a whole number ${f.max !== undefined ? `from ${f.min ?? 0} to ${f.max}` : `of at least ${f.min ?? 0}`}, got "${text}"`);
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n) || n < (f.min ?? -Infinity) || n > (f.max ?? Infinity)) {
        return fail(`--${name} must be a number${f.min !== undefined && f.max !== undefined ? ` from ${f.min} to ${f.max}` : ''}, got "${text}"`);
      }
      return n;
    }
    case 'level':
      return (LOG_LEVELS as readonly string[]).includes(text) ? text : bad();
  }
}

/** `0.0.0.0:8080`, `[::1]:8080`, `:8080` (every address) → host and port; undefined when malformed. */
export function parseListen(text: string): Listen | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) > 65535) return undefined;
  const host = m[1].replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(m[2]) };
}

export function formatListen(at: Listen): string {
  return at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}

function formatDefault(f: FlagSpec): string | undefined {
  const d = f.default;
  if (d === undefined || f.kind === 'boolean') return undefined;
  switch (f.kind) {
    case 'duration':
      return formatDuration(d as number);
    case 'size':
      return formatBytes(d as number);
    case 'listen':
      return formatListen(d as Listen);
    case 'strings':
      return (d as string[]).join(', ') || undefined;
    default:
      return String(d) || undefined;
  }
}

function renderHelp(spec: CommandSpec<Flags>, flags: Flags): string {
  const synopsis = ([] as string[]).concat(spec.synopsis ?? '[flags]');
  const usage = synopsis.map((s, i) => `${i === 0 ? 'usage: ' : '       '}locus ${spec.name} ${s}`);
  const rows = Object.entries(flags).map(([name, f]) => {
    const arg = f.kind === 'boolean' ? '' : ` ${f.arg ?? PLACEHOLDER[f.kind]}`;
    const d = formatDefault(f);
    const choices = f.kind === 'string' && f.choices ? ` (${f.choices.join(' | ')})` : '';
    return [`--${name}${arg}`, `${f.help}${choices}${d === undefined ? '' : ` (default ${d})`}`];
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const lines = rows.map(([left, right]) => `  ${left.padEnd(width)}${indent(right, width + 2)}`);
  return `${usage.join('\n')}\n\n${spec.description.trim()}\n\nflags:\n${lines.join('\n')}`;
}

/** Continuation lines of a help text (written with `\n`) line up under its first line. */
function indent(text: string, by: number): string {
  return text.split('\n').join(`\n${' '.repeat(by)}`);
}
