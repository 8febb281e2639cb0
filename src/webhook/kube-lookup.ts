// Datasets as the API server has them: one GET per name, only ever in the pod's own namespace.
import type { Dataset } from '../dataset/schema.js';
import type { KubeClient } from '../kube/client.js';
import type { Informer } from '../kube/informer.js';
import { DATASETS } from '../kube/resources.js';
import { desiredConfigMap, localStorage, type Storage } from '../operator/desired.js';
import type { FoundDataset } from './mutate.js';
import type { DatasetLookup } from './review.js';

export function kubeDatasetLookup(kube: Pick<KubeClient, 'get'>): DatasetLookup {
  return {
    async find(namespace, name) {
      const obj = await kube.get(DATASETS, { namespace, name });
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
 * What the mutation needs of a Dataset, derived from what the operator creates for it (the same
 * pure functions), so the env the webhook references are the ConfigMap keys the operator writes.
 */
export function foundDataset(ds: Dataset): FoundDataset {
  const name = ds.metadata.name;
  const storage: Storage = ds.spec?.local
    ? localStorage(ds.spec.local)
    // A catalog entry resolves to a bucket and prefix: an object store.
    : { kind: 'object-store', location: { endpoint: '', region: '', bucket: '', prefix: '' }, readonly: ds.spec?.remote?.readonly === 'true' };
  const configMap = desiredConfigMap({ namespace: ds.metadata.namespace ?? '', name, uid: '' }, storage);
  return {
    name,
    credentials: storage.kind === 'object-store',
    readOnly: 'readonly' in storage && storage.readonly,
    volume: storage.kind !== 'archive',
    configKeys: Object.keys((configMap.data ?? {}) as Record<string, string>),
    deleting: Boolean(ds.metadata.deletionTimestamp),
  };
}
