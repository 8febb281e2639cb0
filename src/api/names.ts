// Names: the rule every Kubernetes object name follows, and the names of what the operator creates
// for a Dataset and pods use (the contract between the operator, which creates these objects, and
// the webhook, which points pods at them). Plain constants and functions, so src/core may use them.

/** A Kubernetes object name (RFC 1123 subdomain): Datasets, Secrets, namespaces and nodes are named so. */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const OBJECT_NAME = new RegExp(OBJECT_NAME_PATTERN);
/** What a bad name is told, with an example of a good one. */
export const OBJECT_NAME_HINT = 'must be a lower-case RFC 1123 name, e.g. "my-dataset"';

/** PVC, in the Dataset's namespace: named after the Dataset. */
export const pvcName = (dataset: string): string => dataset;

/** ConfigMap with endpoint, bucket, region, prefix (never credentials): named after the Dataset. */
export const configMapName = (dataset: string): string => dataset;

/** Secret with accessKeyID / secretAccessKey, for object-store Datasets. */
export const credentialsSecretName = (dataset: string): string => `${dataset}-credentials`;

/**
 * PersistentVolume for NFS and HOST Datasets: cluster-scoped, so it must hold the namespace in a way
 * no other namespace/name pair can spell. Namespaces are RFC 1123 labels (no "."), so the first "."
 * after `locus.` ends the namespace: `tenant-a/b-c` → `locus.tenant-a.b-c`, `tenant/a-b-c` →
 * `locus.tenant.a-b-c` (joining with "-" made both `locus-tenant-a-b-c`). Past the 253-character
 * limit, `locus.<uid>` (no second "."), unique too.
 */
export const pvName = (namespace: string, dataset: string, uid: string): string => {
  const name = `locus.${namespace}.${dataset}`;
  return name.length <= 253 ? name : `locus.${uid}`;
};

/** Where the webhook mounts a Dataset's volume in every container. */
export const mountPath = (dataset: string): string => `/mnt/datasets/${dataset}`;

export const SECRET_KEYS = ['accessKeyID', 'secretAccessKey'] as const;

/** Finalizer the operator holds until it has removed what it created. */
export const FINALIZER = 'locus.dev/cleanup';

/** Label on every object the operator creates: the owning Dataset's uid (label values cannot hold `ns/name`). */
export const OWNER_UID_LABEL = 'locus.dev/dataset-uid';

/** Annotation on every object the operator creates: `<namespace>/<name>` of its Dataset. */
export const DATASET_ANNOTATION = 'locus.dev/dataset';
