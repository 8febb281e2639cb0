// core/v1 Events as `kubectl describe` shows them: the object they are about, why, and who said so.
import type { KubeObject } from './object.js';

export interface EventInput {
  /** The object the event is about (needs apiVersion, kind, metadata.name; uid when known). */
  regarding: KubeObject;
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, machine-readable (e.g. `ProvisionFailed`). */
  reason: string;
  message: string;
  /** Reporting component, e.g. `locus-operator`. */
  component: string;
}

let sequence = 0;

/** RFC 3339 to the second, as Event timestamps are written. */
export const eventTime = (now: Date): string => now.toISOString().replace(/\.\d+Z$/, 'Z');

/** Events with the same key are repeats of one another (client-go's aggregation key, simplified). */
export function eventKey(input: EventInput): string {
  const { metadata, kind } = input.regarding;
  return JSON.stringify([metadata.uid ?? `${kind}/${metadata.namespace ?? ''}/${metadata.name}`, input.type, input.reason, input.message, input.component]);
}

export function eventFor(input: EventInput, now: Date): KubeObject {
  const { metadata, apiVersion, kind } = input.regarding;
  const time = eventTime(now);
  // Unique per process and time, like the name client-go's recorder picks (`<object>.<hex nanoseconds>`).
  const suffix = (BigInt(now.getTime()) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString(16);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${metadata.name}.${suffix}`, namespace: metadata.namespace ?? 'default' },
    involvedObject: {
      apiVersion,
      kind,
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
    },
    type: input.type,
    reason: input.reason,
    message: input.message,
    source: { component: input.component },
    reportingComponent: input.component,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}
