// Datasets as the API server has them: one GET per name, only ever in the pod's own namespace.
import { datasetEndpoint } from '../api/agent-endpoint.js';
import type { Dataset } from '../api/dataset.js';
import { configMapData, localStorage, type Storage } from '../api/storage.js';
import type { KubeClient } from '../kube/client.js';
import type { Informer } from '../kube/informer.js';
import { DATASETS } from '../kube/resources.js';
import type { FoundDataset } from './mutate.js';
import type { DatasetLookup } from './review.js';

/** Dataset GETs in flight for the whole webhook, whatever the number of reviews under way. */
export const MAX_PARALLEL_GETS = 16;

export function kubeDatasetLookup(kube: Pick<KubeClient, 'get'>, maxParallel = MAX_PARALLEL_GETS): DatasetLookup {
  const slots = semaphore(maxParallel);
  return {
    async find(namespace, name) {
      const obj = await slots(() => kube.get(DATASETS, { namespace, name }));
      // The CRD's schema validated it on write; read it as the shared Dataset type.
      return obj && foundDataset(obj as unknown as Dataset);
    },
  };
}

/**
 * Datasets from a watch cache of all Datasets, so admitting a pod costs no API call. A name the
 * cache lacks goes to `direct`: the Dataset may have been created a moment ago, in the same
 * `kubectl apply` as the pod, and the watch not have delivered it yet.
 */
export function cachedDatasetLookup(cache: Pick<Informer, 'hasSynced' | 'get'>, direct: DatasetLookup): DatasetLookup {
  return {
    async find(namespace, name) {
      const obj = cache.hasSynced() ? cache.get({ namespace, name }) : undefined;
      return obj ? foundDataset(obj as unknown as Dataset) : direct.find(namespace, name);
    },
  };
}

/**
 * What the mutation needs of a Dataset, derived from the storage mapping the operator creates its
 * objects from, so the env the webhook references are the ConfigMap keys the operator writes.
 */
export function foundDataset(ds: Dataset): FoundDataset {
  const name = ds.metadata.name;
  const local = ds.spec?.local;
  // Catalog entries and archives become object stores (a bucket and prefix) once the operator has
  // resolved or staged them; archives are read-only, as Datashim mounts them.
  const resolvedLater = !local || local.type === 'ARCHIVE';
  const storage: Storage = resolvedLater
    ? {
        kind: 'object-store',
        location: { endpoint: '', region: '', bucket: '', prefix: '' },
        readonly: local !== undefined || ds.spec?.type === 'ARCHIVE' || ds.spec?.remote?.readonly === 'true',
      }
    : localStorage(local);
  // The agents' address when the operator decided pods read through them (transparent caching too);
  // '' names no endpoint (the agents' upstream is the default store); undefined: not resolved yet.
  const endpoint =
    storage.kind !== 'object-store'
      ? undefined
      : (ds.status?.resolved?.agent ?? (resolvedLater && !ds.status?.resolved ? undefined : (datasetEndpoint(ds) ?? '')));
  return {
    name,
    credentials: storage.kind === 'object-store',
    readOnly: 'readonly' in storage && storage.readonly,
    volume: local?.type !== 'H3',
    configKeys: Object.keys(configMapData(storage)),
    deleting: Boolean(ds.metadata.deletionTimestamp),
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(storage.kind === 'object-store' ? { flags: datashimFlags(ds, storage.readonly) } : {}),
  };
}

/** The switches Datashim's operator writes beside the keys, read back by its pods as env; "false" when unset, as there. */
function datashimFlags(ds: Dataset, readonly: boolean): Record<string, string> {
  const local = ds.spec?.local;
  const label = ds.metadata.labels?.['remove-on-delete'];
  return {
    readonly: String(readonly),
    extract: ds.spec?.extract ?? local?.extract ?? 'false',
    provision: local?.provision ?? 'false',
    'remove-on-delete': label === 'true' || local?.removeOnDelete === 'true' ? 'true' : 'false',
  };
}

/** Runs at most `n` of the functions it is given at once; the rest wait in order. */
function semaphore(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
