// Datasets as the API server has them: one GET per name, only ever in the pod's own namespace.
import type { Dataset } from '../dataset/schema.js';
import { isObjectStore } from '../dataset/schema.js';
import type { KubeClient } from '../kube/client.js';
import { DATASETS } from '../kube/resources.js';
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

/** What the mutation needs of a Dataset; a remote (catalog) Dataset resolves to an object store. */
export function foundDataset(ds: Dataset): FoundDataset {
  const local = ds.spec?.local;
  const source = local ?? ds.spec?.remote;
  return {
    name: ds.metadata.name,
    credentials: local ? isObjectStore(local) : source !== undefined,
    readOnly: source?.readonly === 'true',
  };
}
