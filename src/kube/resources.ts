// The resource types Locus reads and writes: how each is addressed on the API server's REST paths.
import type { ObjectRef } from './object.js';

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Updates of the main resource ignore `status`; only `/status` writes it. */
  statusSubresource: boolean;
}

const core = (plural: string, kind: string, namespaced: boolean, statusSubresource: boolean): ResourceType =>
  ({ group: '', version: 'v1', plural, kind, namespaced, statusSubresource });

export const NODES = core('nodes', 'Node', false, true);
export const PODS = core('pods', 'Pod', true, true);
export const SECRETS = core('secrets', 'Secret', true, false);
export const CONFIG_MAPS = core('configmaps', 'ConfigMap', true, false);
export const PERSISTENT_VOLUME_CLAIMS = core('persistentvolumeclaims', 'PersistentVolumeClaim', true, true);
export const PERSISTENT_VOLUMES = core('persistentvolumes', 'PersistentVolume', false, true);
export const EVENTS = core('events', 'Event', true, false);
export const NAMESPACES = core('namespaces', 'Namespace', false, true);

export const LOCUS_GROUP = 'locus.dev';
export const LOCUS_VERSION = 'v1alpha1';

export const DATASETS: ResourceType = {
  group: LOCUS_GROUP, version: LOCUS_VERSION, plural: 'datasets', kind: 'Dataset', namespaced: true, statusSubresource: true,
};
export const NODE_CACHES: ResourceType = {
  group: LOCUS_GROUP, version: LOCUS_VERSION, plural: 'nodecaches', kind: 'NodeCache', namespaced: false, statusSubresource: true,
};

export const ALL_RESOURCES: readonly ResourceType[] = [
  NODES, PODS, SECRETS, CONFIG_MAPS, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, EVENTS, NAMESPACES, DATASETS, NODE_CACHES,
];

/** `v1` or `group/version`, as objects carry it in `apiVersion`. */
export function apiVersionOf(res: ResourceType): string {
  return res.group === '' ? res.version : `${res.group}/${res.version}`;
}

/** `/api/v1` or `/apis/group/version`. */
export function groupVersionPath(res: ResourceType): string {
  return res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
}

/**
 * The REST path of a collection (no name) or of one object, optionally of a subresource.
 * A namespaced type without a namespace addresses the collection across all namespaces.
 */
export function resourcePath(res: ResourceType, ref: ObjectRef = {}, subresource?: string): string {
  let path = groupVersionPath(res);
  if (res.namespaced && ref.namespace) path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  path += `/${res.plural}`;
  if (ref.name !== undefined) {
    if (res.namespaced && !ref.namespace) throw new Error(`${res.kind} "${ref.name}" is namespaced: pass metadata.namespace`);
    path += `/${encodeURIComponent(ref.name)}`;
    if (subresource) path += `/${subresource}`;
  }
  return path;
}
