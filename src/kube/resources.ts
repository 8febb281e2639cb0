// The resource types Locus reads and writes: how each is addressed on the API server's REST paths.
import { KIND as DATASET_KIND, PLURAL as DATASET_PLURAL } from '../api/dataset.js';
import { GROUP, VERSION } from '../api/group.js';
import { NODECACHE_KIND, NODECACHE_PLURAL } from '../api/nodecache.js';
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

const core = (plural: string, kind: string, namespaced: boolean, statusSubresource: boolean): ResourceType => ({
  group: '',
  version: 'v1',
  plural,
  kind,
  namespaced,
  statusSubresource,
});

export const NODES = core('nodes', 'Node', false, true);
export const PODS = core('pods', 'Pod', true, true);
export const SECRETS = core('secrets', 'Secret', true, false);
export const CONFIG_MAPS = core('configmaps', 'ConfigMap', true, false);
export const PERSISTENT_VOLUME_CLAIMS = core('persistentvolumeclaims', 'PersistentVolumeClaim', true, true);
export const PERSISTENT_VOLUMES = core('persistentvolumes', 'PersistentVolume', false, true);
export const EVENTS = core('events', 'Event', true, false);
export const NAMESPACES = core('namespaces', 'Namespace', false, true);

/** Read by the extender for the completions of Indexed Jobs (the shard count of their pods). */
export const JOBS: ResourceType = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true, statusSubresource: true };

/** The extender's leader election (warm-ahead is planned by one replica). */
export const LEASES: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
  statusSubresource: false,
};

export const DATASETS: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: DATASET_PLURAL,
  kind: DATASET_KIND,
  namespaced: true,
  statusSubresource: true,
};
export const NODE_CACHES: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: NODECACHE_PLURAL,
  kind: NODECACHE_KIND,
  namespaced: false,
  statusSubresource: true,
};

export const ALL_RESOURCES: readonly ResourceType[] = [
  NODES,
  PODS,
  SECRETS,
  CONFIG_MAPS,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  EVENTS,
  NAMESPACES,
  JOBS,
  LEASES,
  DATASETS,
  NODE_CACHES,
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
