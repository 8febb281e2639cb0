// The pods bound to this node, watched with the field selector spec.nodeName=<node>, so the agent
// lists and watches only its own node's pods, never the cluster's. A pod counts until it is deleted
// (or marked for deletion) or has finished (Succeeded, Failed).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodLike } from '../core/pod.js';
import type { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import type { KubeObject } from '../kube/object.js';
import { PODS } from '../kube/resources.js';

type Pod = KubeObject & PodLike & { status?: { phase?: string } };

export interface BoundPodsHandler {
  set(key: string, pod: PodLike): void;
  remove(key: string): void;
}

/** Watches the pods bound to `node` and tells `handler` which count (the caller starts it, in the background: prefetch is no condition of serving). */
export function watchBoundPods(kc: KubeConfig, client: KubeClient, node: string, handler: BoundPodsHandler, log: Logger): Informer<Pod> {
  const informer = new Informer<Pod>(kc, client, {
    resource: PODS,
    fieldSelector: `spec.nodeName=${node}`,
    onRestart: (err) => log.warn({ err }, 'pod watch failed; restarting'),
    onHandlerError: (err) => log.error({ err }, 'bound pod not handled'),
  });
  const key = (pod: Pod) => `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
  const seen = (pod: Pod) => (gone(pod) ? handler.remove(key(pod)) : handler.set(key(pod), pod));
  return informer
    .on('add', seen)
    .on('update', seen)
    .on('delete', (pod) => handler.remove(key(pod)));
}

function gone(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || !!pod.metadata.deletionTimestamp;
}
