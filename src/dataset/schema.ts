// The Dataset resource (`datasets.locus.dev/v1alpha1`): zod schema and types shared by the operator,
// the webhook and the extender. It mirrors crds/dataset.yaml; `spec.local`/`spec.remote` keep
// Datashim's field names and string-typed flags ("true"/"false") so its manifests apply unchanged.
import { z } from 'zod';

export const GROUP = 'locus.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'Dataset';
export const PLURAL = 'datasets';

/** 16 MiB: the block size the node agents cache in unless a Dataset names its own. */
export const DEFAULT_BLOCK_SIZE = 16 * 1024 * 1024;

export const DATASET_TYPES = ['COS', 'S3', 'NFS', 'HOST', 'ARCHIVE'] as const;
export type DatasetType = (typeof DATASET_TYPES)[number];

/** Kubernetes' HostPathType values; `CreateNew` is accepted as Datashim's documented alias of DirectoryOrCreate. */
export const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice', 'CreateNew'] as const;

// Patterns shared with crds/dataset.yaml (test/dataset/crd.test.ts checks they agree).
export const PATTERNS = {
  endpoint: '^https?://[^\\s/]+(/.*)?$',
  bucket: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
  url: '^https?://\\S+$',
  absolutePath: '^/.*$',
  table: '^[^/\\s]+/[^/\\s]+$',
  catalogURI: '^thrift://[^\\s/:]+:[0-9]+/?$',
  objectName: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
} as const;

/** An optional field that may also arrive as null (the CRD marks optional strings nullable): null reads as absent. */
const opt = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional());
const flag = z.enum(['true', 'false']);
const str = (pattern: string, hint: string) => z.string().regex(new RegExp(pattern), hint);

/** Object-store fields common to `spec.local` (COS/S3/ARCHIVE) and `spec.remote`. */
const objectStore = {
  endpoint: opt(str(PATTERNS.endpoint, 'must be a URL such as http://minio.storage:9000')),
  region: opt(z.string()),
  readonly: opt(flag),
  'secret-name': opt(str(PATTERNS.objectName, 'must be the name of a Secret in the Dataset\'s namespace')),
  'secret-namespace': opt(z.string()),
  accessKeyID: opt(z.string()),
  secretAccessKey: opt(z.string()),
};

/** Fields each type needs, as the CRD's anyOf branches require them. */
export const REQUIRED_BY_TYPE: Record<DatasetType, readonly string[]> = {
  COS: ['endpoint', 'bucket'],
  S3: ['endpoint', 'bucket'],
  NFS: ['server', 'share'],
  HOST: ['path'],
  ARCHIVE: ['url'],
};

export const LocalSpec = z.object({
  type: z.enum(DATASET_TYPES),
  ...objectStore,
  bucket: opt(str(PATTERNS.bucket, 'must be an S3 bucket name: 3-63 lower-case letters, digits, "." and "-"')),
  prefix: opt(z.string()),
  provision: opt(flag),
  server: opt(z.string().min(1)),
  share: opt(str(PATTERNS.absolutePath, 'must be an absolute export path such as /exports/data')),
  path: opt(str(PATTERNS.absolutePath, 'must be an absolute path on the node')),
  hostPathType: opt(z.enum(HOST_PATH_TYPES)),
  url: opt(str(PATTERNS.url, 'must be an http(s) URL of the archive')),
  format: opt(z.string()),
  extract: opt(flag),
}).superRefine((local, ctx) => {
  for (const field of REQUIRED_BY_TYPE[local.type]) {
    if (local[field as keyof typeof local] === undefined) {
      ctx.addIssue({ code: 'custom', path: [field], message: `is required for type ${local.type}` });
    }
  }
});
export type LocalSpec = z.infer<typeof LocalSpec>;

export const RemoteSpec = z.object({
  type: z.literal('CatalogEntry'),
  table: str(PATTERNS.table, 'must be "<database>/<table>", e.g. default/books'),
  catalogURI: opt(str(PATTERNS.catalogURI, 'must be thrift://<host>:<port> of a Hive metastore')),
  mountAllowed: opt(flag),
  ...objectStore,
});
export type RemoteSpec = z.infer<typeof RemoteSpec>;

export const CacheSpec = z.object({
  /** Block size the catalogue and the node agents use for this Dataset. */
  blockSize: z.number().int().min(1024 * 1024).max(1024 * 1024 * 1024).optional(),
  /** Expected size in bytes, for Datasets the operator cannot list (NFS, HOST) or before the first listing. */
  sizeHintBytes: z.number().int().min(0).optional(),
});
export type CacheSpec = z.infer<typeof CacheSpec>;

export const DatasetSpec = z
  .object({ local: LocalSpec.optional(), remote: RemoteSpec.optional(), cache: CacheSpec.optional() })
  .refine((s) => (s.local === undefined) !== (s.remote === undefined), {
    path: ['local'],
    message: 'set exactly one of spec.local (a bucket, NFS share, host path or archive) or spec.remote (a catalog entry)',
  });
export type DatasetSpec = z.infer<typeof DatasetSpec>;

export const Condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof Condition>;

/** The catalogue the extender reads: block i is the i-th `blockSize` block of the key-ordered objects. */
export const CatalogStatus = z.object({
  objectCount: z.number().int().min(0),
  totalBytes: z.number().int().min(0),
  blockSize: z.number().int().positive(),
  blockCount: z.number().int().min(0),
  version: z.string(),
  refreshedAt: z.string(),
});
export type CatalogStatus = z.infer<typeof CatalogStatus>;

export const UsageStatus = z.object({
  pods: z.number().int().min(0),
  podNames: z.array(z.string()),
});
export type UsageStatus = z.infer<typeof UsageStatus>;

export const PHASES = ['Pending', 'Ready', 'Failed'] as const;
export type Phase = (typeof PHASES)[number];

export const DatasetStatus = z.object({
  phase: z.enum(PHASES).optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z.array(Condition).optional(),
  /** Bucket and prefix the Dataset resolves to (for spec.remote: from the catalog). */
  resolved: z.object({ bucket: z.string(), prefix: opt(z.string()), endpoint: opt(z.string()) }).optional(),
  catalog: CatalogStatus.optional(),
  usage: UsageStatus.optional(),
});
export type DatasetStatus = z.infer<typeof DatasetStatus>;

const Metadata = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  deletionTimestamp: z.union([z.string(), z.date()]).nullish(),
  finalizers: z.array(z.string()).nullish(),
  labels: z.record(z.string(), z.string()).nullish(),
  annotations: z.record(z.string(), z.string()).nullish(),
});

export const Dataset = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: Metadata,
  spec: DatasetSpec,
  status: DatasetStatus.optional(),
});
export type Dataset = z.infer<typeof Dataset>;

/** COS and S3 always, and ARCHIVE when it names the bucket it is staged in. */
export function isObjectStore(local: LocalSpec): boolean {
  return local.type === 'COS' || local.type === 'S3' || (local.type === 'ARCHIVE' && local.bucket !== undefined);
}

export type ParseResult = { ok: true; dataset: Dataset } | { ok: false; problems: { field: string; message: string }[] };

/** Parses an object from the API server, naming each bad field as a path (`spec.local.bucket`). */
export function parseDataset(obj: unknown): ParseResult {
  const r = Dataset.safeParse(obj);
  if (r.success) return { ok: true, dataset: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'spec', message: i.message })),
  };
}
