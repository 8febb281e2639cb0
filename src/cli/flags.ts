// Flag parsing shared by every sub-command: node's parseArgs, with usage and exit code 2 on misuse.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, readonly usage: string) {
    super(message);
  }

  /** By name, not instanceof: a loader may give a dynamically imported command its own module copy. */
  static is(err: unknown): err is UsageError {
    return err instanceof Error && err.name === 'UsageError' && typeof (err as UsageError).usage === 'string';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` against `options`; unknown flags or bad values throw a UsageError carrying `usage`. */
export function parseFlags<O extends Options>(argv: string[], options: O, usage: string, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
}

/** Reads a numeric flag, naming the flag and the expected form when it is not a number. */
export function numberFlag(value: string | undefined, flag: string, usage: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got "${value}"`, usage);
  return n;
}
