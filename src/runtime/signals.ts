// How a server process ends: on SIGTERM or SIGINT (or when something it runs fails), once.
export type StopReason = 'SIGTERM' | 'SIGINT' | 'failed';

/**
 * Resolves with the signal that asked the process to stop, or 'failed' when `failure` rejects.
 * The handlers are removed once it resolves, so a second signal gets Node's default (exit).
 */
export function untilStopped(failure?: Promise<unknown>): Promise<StopReason> {
  return new Promise<StopReason>((resolve) => {
    const stop = (reason: StopReason) => {
      process.off('SIGTERM', onTerm).off('SIGINT', onInt);
      resolve(reason);
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.once('SIGTERM', onTerm).once('SIGINT', onInt);
    failure?.then(
      () => undefined,
      () => stop('failed'),
    );
  });
}

/** Calls `reload` on every SIGHUP until the returned function is called. */
export function onReloadSignal(reload: () => void): () => void {
  process.on('SIGHUP', reload);
  return () => process.off('SIGHUP', reload);
}

/** Waits `ms` (e.g. while a Service stops routing here), then resolves. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
