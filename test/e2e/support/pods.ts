// Pods for a cluster without kubelets: they bind (spec.nodeName) but never run, and are deleted with grace 0.
import { create, get, remove, type Obj } from './api.js';
import { until } from './wait.js';

export interface PodOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  schedulerName?: string;
  cpu?: string;
}

export function pod(namespace: string, name: string, opts: PodOptions = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: opts.labels, annotations: opts.annotations },
    spec: {
      ...(opts.schedulerName ? { schedulerName: opts.schedulerName } : {}),
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: opts.cpu ?? '100m', memory: '64Mi' } } }],
    },
  };
}

export const podPath = (namespace: string, name = '') => `/api/v1/namespaces/${namespace}/pods${name ? `/${name}` : ''}`;

export const createPod = (p: Obj) => create(podPath(p.metadata.namespace!, ''), p);

/** Waits until the pod is bound and returns its node. */
export async function boundNode(namespace: string, name: string, timeoutMs = 30_000): Promise<string> {
  return until(
    `pod ${namespace}/${name} to be bound`,
    async () => {
      const p = await get(podPath(namespace, name));
      return (p.spec.nodeName as string | undefined) || undefined;
    },
    { timeoutMs },
  );
}

/** Deletes every pod in the namespace and waits until they are gone. */
export async function deleteAllPods(namespace: string): Promise<void> {
  const list = await get<{ items: Obj[] }>(podPath(namespace));
  await Promise.all(list.items.map((p) => remove(podPath(namespace, p.metadata.name))));
  await until(`pods in ${namespace} to be gone`, async () => (await get<{ items: Obj[] }>(podPath(namespace))).items.length === 0);
}
