// kube-scheduler's extender wire (k8s.io/kube-scheduler/extender/v1): ExtenderArgs in,
// ExtenderFilterResult / HostPriorityList out. The envelopes have no JSON tags, so keys are Go field
// names (PascalCase); Go's decoder also accepts any casing, and so do we. Embedded objects (Pod,
// NodeList) are ordinary camelCase API JSON, which we read the same tolerant way.
import type { PodLike } from '../core/pod.js';

/** A request the extender cannot answer; the message names the field and what was expected. */
export class WireError extends Error {}

/** The value under `key`: the exact key first, else the first key equal ignoring case (as Go does). */
export function field(obj: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const k in obj) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function objectAt(v: unknown, path: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new WireError(`${path} must be an object, got ${typeName(v)}`);
  return v;
}

function stringMap(v: unknown, path: string): Record<string, string> | undefined {
  const obj = objectAt(v, path);
  if (!obj) return undefined;
  for (const k in obj) if (typeof obj[k] !== 'string') throw new WireError(`${path}["${k}"] must be a string, got ${typeName(obj[k])}`);
  return obj as Record<string, string>;
}

function optionalString(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new WireError(`${path} must be a string, got ${typeName(v)}`);
  return v;
}

/** The parts of a Pod the extender reads, with the fields' types checked. */
export function readPod(v: unknown, path: string): PodLike & { metadata: NonNullable<PodLike['metadata']> } {
  const pod = objectAt(v, path) ?? {};
  const meta = objectAt(field(pod, 'metadata'), `${path}.metadata`) ?? {};
  const spec = objectAt(field(pod, 'spec'), `${path}.spec`);
  const metadata = {
    name: optionalString(field(meta, 'name'), `${path}.metadata.name`),
    namespace: optionalString(field(meta, 'namespace'), `${path}.metadata.namespace`),
    labels: stringMap(field(meta, 'labels'), `${path}.metadata.labels`),
    annotations: stringMap(field(meta, 'annotations'), `${path}.metadata.annotations`),
    ownerReferences: readOwners(field(meta, 'ownerReferences'), `${path}.metadata.ownerReferences`),
  };
  const volumesRaw = spec ? field(spec, 'volumes') : undefined;
  if (volumesRaw === undefined || volumesRaw === null) return { metadata };
  if (!Array.isArray(volumesRaw)) throw new WireError(`${path}.spec.volumes must be an array, got ${typeName(volumesRaw)}`);
  const volumes = volumesRaw.map((raw, i) => {
    const at = `${path}.spec.volumes[${i}]`;
    const volume = objectAt(raw, at) ?? {};
    const pvc = objectAt(field(volume, 'persistentVolumeClaim'), `${at}.persistentVolumeClaim`);
    return {
      name: optionalString(field(volume, 'name'), `${at}.name`),
      persistentVolumeClaim: pvc && { claimName: optionalString(field(pvc, 'claimName'), `${at}.persistentVolumeClaim.claimName`) },
    };
  });
  return { metadata, spec: { volumes } };
}

/** The kind, name and controller flag of each owner (an Indexed Job's pods name their Job). */
function readOwners(v: unknown, path: string): NonNullable<PodLike['metadata']>['ownerReferences'] {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new WireError(`${path} must be an array, got ${typeName(v)}`);
  return v.map((raw, i) => {
    const o = objectAt(raw, `${path}[${i}]`) ?? {};
    const controller = field(o, 'controller');
    if (controller !== undefined && controller !== null && typeof controller !== 'boolean') {
      throw new WireError(`${path}[${i}].controller must be a boolean, got ${typeName(controller)}`);
    }
    return {
      kind: optionalString(field(o, 'kind'), `${path}[${i}].kind`),
      name: optionalString(field(o, 'name'), `${path}[${i}].name`),
      controller: controller as boolean | null | undefined,
    };
  });
}

export interface ExtenderArgs {
  pod: ReturnType<typeof readPod>;
  /** Candidate node names, in the scheduler's order. */
  nodeNames: string[];
  /** The full Node objects when the scheduler sent them (`nodeCacheCapable: false`); same order. */
  nodeItems?: unknown[];
}

/** Reads an ExtenderArgs body (already JSON-parsed). */
export function readExtenderArgs(body: unknown): ExtenderArgs {
  if (!isObject(body)) throw new WireError(`the body must be a JSON object (ExtenderArgs with Pod, Nodes, NodeNames), got ${typeName(body)}`);
  const pod = readPod(field(body, 'Pod'), 'Pod');
  const nodes = field(body, 'Nodes');
  if (nodes !== undefined && nodes !== null) {
    const list = objectAt(nodes, 'Nodes')!;
    const items = field(list, 'items');
    if (items === undefined || items === null) return { pod, nodeNames: [], nodeItems: [] };
    if (!Array.isArray(items)) throw new WireError(`Nodes.items must be an array of Node objects, got ${typeName(items)}`);
    const nodeNames = new Array<string>(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const meta = isObject(item) ? field(item, 'metadata') : undefined;
      const name = isObject(meta) ? field(meta, 'name') : undefined;
      if (typeof name !== 'string' || name === '') throw new WireError(`Nodes.items[${i}].metadata.name must be a non-empty string, got ${typeName(name)}`);
      nodeNames[i] = name;
    }
    return { pod, nodeNames, nodeItems: items };
  }
  const names = field(body, 'NodeNames');
  if (names === undefined || names === null) return { pod, nodeNames: [] };
  if (!Array.isArray(names)) throw new WireError(`NodeNames must be an array of node names, got ${typeName(names)}`);
  for (let i = 0; i < names.length; i++) {
    if (typeof names[i] !== 'string') throw new WireError(`NodeNames[${i}] must be a string, got ${typeName(names[i])}`);
  }
  return { pod, nodeNames: names as string[] };
}

/** ExtenderFilterResult as Go marshals it. Exactly one of Nodes / NodeNames is non-null. */
export interface ExtenderFilterResult {
  Nodes: { metadata: Record<string, never>; items: unknown[] } | null;
  NodeNames: string[] | null;
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}

export interface HostPriority {
  Host: string;
  Score: number;
}
