// Where the control plane that scripts/e2e.sh started lives: paths and ports, read once from its environment.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the end-to-end suite through scripts/e2e.sh (npm run test:e2e), which starts the control plane`);
  }
  return value;
}

const port = (name: string): number => Number(required(name));

const state = required('K8S_STATE');

export const cluster = {
  root: resolve('.'),
  scripts: required('LOCUS_K8S_SCRIPTS'),
  bin: required('K8S_BIN'),
  state,
  kubeconfig: join(state, 'admin.kubeconfig'),
  api: `https://127.0.0.1:${port('K8S_API_PORT')}`,
  caFile: join(state, 'pki', 'ca.crt'),
  tokenFile: join(state, 'admin.token'),
  /** Serving certificate for 127.0.0.1 signed by the cluster CA, for HTTPS servers the apiserver calls. */
  loopbackCert: join(state, 'pki', 'loopback.crt'),
  loopbackKey: join(state, 'pki', 'loopback.key'),
  ports: {
    locusScheduler: port('LOCUS_E2E_LOCUS_SCHED_PORT'),
    extender: port('LOCUS_E2E_EXTENDER_PORT'),
    webhook: port('LOCUS_E2E_WEBHOOK_PORT'),
    metrics: port('LOCUS_E2E_METRICS_PORT'),
  },
  nodes: required('K8S_NODES').split(/\s+/).filter(Boolean),
};

if (!existsSync(cluster.kubeconfig)) throw new Error(`${cluster.kubeconfig} is missing: the control plane is not up`);
