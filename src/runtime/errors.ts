// How a sub-command's failure reaches its user: one line saying what went wrong, a hint saying what
// to do, and the stack only when asked for (--log-level debug).

/** A failure the user can fix; `hint` says how. */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  constructor(
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Wrong flags: the message and the command's help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }

  /** By name, not instanceof: a loader may give a dynamically imported command its own module copy. */
  static is(err: unknown): err is UsageError {
    return err instanceof Error && err.name === 'UsageError' && typeof (err as UsageError).usage === 'string';
  }
}

/** Hints for errors raised below the CLI that are the user's to fix, by error name. */
const HINTS: Record<string, string> = {
  KubeConfigError: 'pass --kubeconfig <file> (and --context <name>), set KUBECONFIG, or run in a pod with a service account',
};

/** The lines `locus <command>` prints for `err`: message, hint, and the stack when `debug`. */
export function describeFailure(command: string, err: unknown, debug: boolean): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const hint = (e as Partial<UserError>).hint ?? HINTS[e.name] ?? (debug ? undefined : 'run again with --log-level debug to see where it failed');
  const lines = [`locus ${command}: ${e.message}`];
  if (hint) lines.push(`  hint: ${hint}`);
  if (debug) {
    lines.push(e.stack ?? '');
    for (let cause = e.cause; cause instanceof Error; cause = cause.cause) lines.push(`caused by: ${cause.stack ?? cause.message}`);
  }
  return `${lines.join('\n')}\n`;
}
