// Pods and Datasets for the webhook tests, and applying a patch the way the API server does.
import jsonpatch from 'fast-json-patch';
import type { FoundDataset } from '../../src/webhook/mutate.js';
import type { Pod } from '../../src/webhook/pod.js';
import type { DatasetLookup } from '../../src/webhook/review.js';

export const NS = 'ml';

export function dataset(name: string, extra: Partial<FoundDataset> = {}): FoundDataset {
  return { name, credentials: true, readOnly: false, volume: true, configKeys: ['endpoint', 'bucket', 'region', 'prefix'], deleting: false, ...extra };
}

export const found = (...ds: FoundDataset[]): Map<string, FoundDataset> => new Map(ds.map((d) => [d.name, d]));

/** A pod as an AdmissionReview carries it: one container, the service-account volume, default scheduler. */
export function pod(labels: Record<string, string>, spec: Record<string, unknown> = {}): Pod {
  return {
    metadata: { name: 'trainer', namespace: NS, labels },
    spec: {
      volumes: [{ name: 'default-token-x', secret: { secretName: 'default-token-x' } }],
      containers: [
        {
          name: 'main',
          image: 'busybox',
          volumeMounts: [{ name: 'default-token-x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
        },
      ],
      schedulerName: 'default-scheduler',
      ...spec,
    },
  };
}

/** Applies a JSON Patch to a copy, validating every operation (as the API server would reject a bad one). */
export function applied<T>(doc: T, patch: readonly object[]): T {
  return jsonpatch.applyPatch(jsonpatch.deepClone(doc), patch as jsonpatch.Operation[], true).newDocument;
}

/** A DatasetLookup over `namespace/name` keys that records what it was asked. */
export function mapLookup(datasets: Record<string, FoundDataset>): DatasetLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async find(namespace, name) {
      asked.push(`${namespace}/${name}`);
      return datasets[`${namespace}/${name}`];
    },
  };
}

/** Pod labels naming `n` Datasets, `ds-<from>` on: the dataset.<i>.id form. */
export const datasetLabels = (n: number, from = 0): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`dataset.${i}.id`, `ds-${from + i}`]));

/** An AdmissionReview of creating pod `p` in namespace ml, as the API server sends it (dry run). */
export const podReview = (p: object, uid: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: NS,
    operation: 'CREATE',
    object: p,
    dryRun: true,
  },
});
