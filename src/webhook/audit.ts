// The audit trail Datashim promised administrators: one Event per Dataset on each pod the webhook
// changed, naming the Dataset and what was done, so `kubectl get events` shows who reads what.
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/object.js';
import type { Mutation } from './mutate.js';
import type { Pod } from './pod.js';
import type { Problem } from '../core/types.js';
import { SLICE_EVENT_REASON } from './slices.js';

export const EVENT_REASON = 'DatasetAttached';
export const EVENT_COMPONENT = 'locus-webhook';

export interface AuditRecorder {
  record(pod: Pod, namespace: string, changes: Mutation['changes']): Promise<void>;
  /** Warning Events for what the pod's author got wrong but the pod is admitted with (a malformed slice). */
  problems?(pod: Pod, namespace: string, problems: Problem[]): Promise<void>;
}

export function kubeAuditRecorder(kube: Pick<KubeClient, 'createEvent'>): AuditRecorder {
  return {
    async record(pod, namespace, changes) {
      const target = eventTarget(pod, namespace);
      if (!target) return;
      await Promise.all(
        changes.map(({ dataset, actions }) =>
          kube.createEvent({
            regarding: target.object,
            type: 'Normal',
            reason: EVENT_REASON,
            message: `${target.prefix}Dataset "${dataset}": ${actions.join('; ')}`,
            component: EVENT_COMPONENT,
          }),
        ),
      );
    },
    async problems(pod, namespace, problems) {
      const target = eventTarget(pod, namespace);
      if (!target) return;
      await Promise.all(
        problems.map((p) =>
          kube.createEvent({
            regarding: target.object,
            type: 'Warning',
            reason: SLICE_EVENT_REASON,
            message: `${target.prefix}${p.field}: ${p.message}`,
            component: EVENT_COMPONENT,
          }),
        ),
      );
    },
  };
}

/**
 * The object the Events are about. At admission a pod made by a controller has only a
 * `generateName` (its name is chosen after the webhooks run), so its Events go to the controller
 * that owns it, with the pod's name prefix in the message.
 */
function eventTarget(pod: Pod, namespace: string): { object: KubeObject; prefix: string } | undefined {
  const name = pod.metadata?.name;
  if (name) return { object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } }, prefix: '' };
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return undefined;
  return {
    object: { apiVersion: owner.apiVersion, kind: owner.kind, metadata: { name: owner.name, namespace, uid: owner.uid } },
    prefix: `pod ${pod.metadata?.generateName ?? ''}*: `,
  };
}
