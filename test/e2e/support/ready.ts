// Waiting for a Locus process the suite started to answer /readyz (its informers synced, its listeners
// up), failing at once with its output when it exits instead.
import type { Tracked } from './process.js';
import { until } from './wait.js';

/** Waits until `proc` answers 200 on `<url>/readyz`. */
export async function untilReady(proc: Tracked, url: string, what = proc.name): Promise<void> {
  await until(
    `${what} to be ready`,
    async () => {
      if (!proc.running()) throw new Error(`${what} exited: ${proc.log().slice(-2000)}`);
      return (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true;
    },
    { timeoutMs: 60_000 },
  );
}
