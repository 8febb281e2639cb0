// The one place Locus finds its cluster: --kubeconfig, then KUBECONFIG, then the pod's service account,
// then ~/.kube/config (the order controllers conventionally use, so a pod never picks up a stray file).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

export interface LoadKubeConfigOptions {
  /** Path given with --kubeconfig; wins over everything else. */
  kubeconfig?: string;
  /** Context to use instead of the file's current-context (--context). */
  context?: string;
  /** Home directory for ~/.kube/config (default os.homedir()). */
  home?: string;
  /** Prefix of the service-account directory, for tests (client-node's loadFromCluster pathPrefix). */
  inClusterPrefix?: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where the configuration came from, for a startup log line. */
export type KubeConfigSource = 'flag' | 'env' | 'in-cluster' | 'home';

export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): { kc: KubeConfig; source: KubeConfigSource } {
  const env = process.env;
  const kc = new KubeConfig();
  let source: KubeConfigSource;
  if (opts.kubeconfig) {
    loadFiles(kc, [opts.kubeconfig], '--kubeconfig');
    source = 'flag';
  } else if (env.KUBECONFIG) {
    loadFiles(kc, env.KUBECONFIG.split(process.platform === 'win32' ? ';' : ':').filter(Boolean), 'KUBECONFIG');
    source = 'env';
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(`${opts.inClusterPrefix ?? ''}${SERVICE_ACCOUNT_TOKEN}`)) {
    kc.loadFromCluster(opts.inClusterPrefix ?? '');
    source = 'in-cluster';
  } else {
    const file = join(opts.home ?? homedir(), '.kube', 'config');
    if (!existsSync(file)) {
      throw new KubeConfigError(
        `no Kubernetes configuration found: looked at --kubeconfig, KUBECONFIG, the pod's service account and ~/.kube/config (${file})`,
      );
    }
    loadFiles(kc, [file], '~/.kube/config');
    source = 'home';
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none';
      throw new KubeConfigError(`context "${opts.context}" is not in the kubeconfig (contexts: ${known}); fix --context`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new KubeConfigError(`the kubeconfig from ${source} has no current cluster: set current-context or pass --context`);
  }
  return { kc, source };
}

/** Loads the first file and merges the rest, as kubectl does with a KUBECONFIG list. */
function loadFiles(kc: KubeConfig, files: string[], origin: string): void {
  files.forEach((file, i) => {
    if (!existsSync(file)) throw new KubeConfigError(`${origin}: kubeconfig file "${file}" does not exist`);
    try {
      if (i === 0) {
        kc.loadFromFile(file);
      } else {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more, true);
      }
    } catch (err) {
      throw new KubeConfigError(`${origin}: cannot read kubeconfig "${file}": ${(err as Error).message}`);
    }
  });
}
