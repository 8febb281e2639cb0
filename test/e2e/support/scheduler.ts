// The second kube-scheduler, `locus-scheduler`, run with the repo's own v1beta1 configuration. Only
// addresses change for the test (kubeconfig, healthz/metrics, extender URL), plus leader election off:
// the test identity (system:kube-scheduler) may only hold the default scheduler's lease, and one
// replica needs none, so the two schedulers never wait on each other.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { cluster } from './env.js';
import { start, type Tracked } from './process.js';
import { until } from './wait.js';

interface SchedulerConfig {
  apiVersion: string;
  kind: string;
  clientConnection?: { kubeconfig?: string };
  leaderElection?: Record<string, unknown>;
  healthzBindAddress?: string;
  metricsBindAddress?: string;
  profiles?: { schedulerName?: string }[];
  extenders?: { urlPrefix: string; httpTimeout?: string }[];
}

/** The KubeSchedulerConfiguration (v1beta1) in `file`, also when it is wrapped in a ConfigMap. */
export function readSchedulerConfig(file: string): SchedulerConfig {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as Record<string, unknown> | null;
    if (!obj) continue;
    const candidates =
      obj.kind === 'ConfigMap'
        ? Object.values((obj.data ?? {}) as Record<string, string>).flatMap((text) => parseAllDocuments(text).map((d) => d.toJS()))
        : [obj];
    const found = candidates.find((c) => c?.kind === 'KubeSchedulerConfiguration' && c.apiVersion === 'kubescheduler.config.k8s.io/v1beta1');
    if (found) return found as SchedulerConfig;
  }
  throw new Error(`${file} holds no kubescheduler.config.k8s.io/v1beta1 KubeSchedulerConfiguration`);
}

/** The config with only its addresses pointed at the test cluster and extender. */
export function forTestCluster(config: SchedulerConfig, extenderPort: number, healthPort: number): SchedulerConfig {
  return {
    ...config,
    clientConnection: { ...config.clientConnection, kubeconfig: 'scheduler.kubeconfig' },
    leaderElection: { leaderElect: false },
    healthzBindAddress: `127.0.0.1:${healthPort}`,
    metricsBindAddress: `127.0.0.1:${healthPort}`,
    extenders: config.extenders?.map((e) => {
      const url = new URL(e.urlPrefix);
      url.protocol = 'http:';
      url.host = `127.0.0.1:${extenderPort}`;
      return { ...e, urlPrefix: url.toString().replace(/\/$/, '') };
    }),
  };
}

/** Starts `locus-scheduler` from the repo config in `file` and waits for its healthz. */
export async function startLocusScheduler(file: string): Promise<{ proc: Tracked; config: SchedulerConfig }> {
  const config = forTestCluster(readSchedulerConfig(file), cluster.ports.extender, cluster.ports.locusScheduler);
  writeFileSync(join(cluster.state, 'locus-scheduler.yaml'), stringify(config));
  const proc = start('locus-scheduler', join(cluster.bin, 'kube-scheduler'), ['--config=locus-scheduler.yaml', '--secure-port=0', '--v=2'], {
    cwd: cluster.state,
  });
  await until(
    'locus-scheduler healthz',
    async () => {
      if (!proc.running()) throw new Error(`locus-scheduler exited: ${proc.log().slice(-2000)}`);
      const res = await fetch(`http://127.0.0.1:${cluster.ports.locusScheduler}/healthz`);
      return res.ok;
    },
    { timeoutMs: 60_000 },
  );
  return { proc, config };
}
