// Kubeconfigs that act as a Locus ServiceAccount: the admin impersonates it, so a Locus process started
// by a test runs with exactly the RBAC that deploy/ grants that ServiceAccount (there is no token
// controller to issue it a token of its own).
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { cluster } from './env.js';

/** Writes to `file` the admin kubeconfig acting as ServiceAccount `namespace/name`; returns `file`. */
export function kubeconfigAs(namespace: string, name: string, file: string): string {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const current = kc.getCurrentUser()?.name;
  kc.loadFromOptions({
    clusters: kc.clusters,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
    users: kc.users.map((u) => (u.name === current ? { ...u, impersonateUser: `system:serviceaccount:${namespace}:${name}` } : u)),
  });
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}
