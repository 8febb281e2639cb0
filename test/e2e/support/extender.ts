// `locus extender` against the test cluster, on the port the locus-scheduler config is pointed at.
import { cluster } from './env.js';
import { startLocus, type Tracked } from './process.js';
import { until } from './wait.js';

export const extenderUrl = (path: string) => `http://127.0.0.1:${cluster.ports.extender}${path}`;

/** Starts the extender with `extra` flags and waits until /readyz says its informers have synced. */
export async function startExtender(extra: string[] = []): Promise<Tracked> {
  const proc = startLocus('extender', ['--kubeconfig', cluster.kubeconfig, '--listen', `127.0.0.1:${cluster.ports.extender}`, ...extra]);
  await until(
    'the extender to be ready',
    async () => {
      if (!proc.running()) throw new Error(`locus extender exited: ${proc.log().slice(-2000)}`);
      return (await fetch(extenderUrl('/readyz'))).ok;
    },
    { timeoutMs: 60_000 },
  );
  return proc;
}

/** The value of `locus_extender_index{quantity="<quantity>"}` from /metrics. */
export async function indexGauge(quantity: string): Promise<number> {
  const text = await (await fetch(extenderUrl('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`locus_extender_index{quantity="${quantity}"}`));
  if (!line) throw new Error(`/metrics has no locus_extender_index{quantity="${quantity}"}`);
  return Number(line.split(' ').pop());
}
