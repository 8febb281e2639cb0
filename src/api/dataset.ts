// The Dataset resource (`datasets.locus.dev/v1alpha1`): zod schema and types shared by the operator,
// the webhook, the agent and the extender, and the source crds/dataset.yaml is generated from.
// `spec.local`/`spec.remote` keep Datashim's field names and string-typed flags ("true"/"false") so
// its manifests apply unchanged.
import { z } from 'zod';
import { OBJECT_NAME_PATTERN } from './names.js';

export const KIND = 'Dataset';
export const PLURAL = 'datasets';

/** 16 MiB: the block size the node agents cache in unless a Dataset names its own. */
export const DEFAULT_BLOCK_SIZE = 16 * 1024 * 1024;

/** H3 is Datashim's: accepted so its manifests apply, and refused by the operator (Locus has no H3 driver). */
export const DATASET_TYPES = ['COS', 'S3', 'NFS', 'HOST', 'ARCHIVE', 'H3'] as const;
export type DatasetType = (typeof DATASET_TYPES)[number];

/** Kubernetes' HostPathType values; `CreateNew` is accepted as Datashim's documented alias of DirectoryOrCreate. */
export const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice', 'CreateNew'] as const;

// Field patterns, in the syntax both JavaScript and the API server's (Go RE2) regular expressions read alike.
export const PATTERNS = {
  endpoint: '^https?://[^\\s/]+(/.*)?$',
  bucket: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
  /** A bucket, optionally followed by Datashim's `/<folder>`. */
  bucketPath: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$',
  url: '^https?://\\S+$',
  absolutePath: '^/.*$',
  table: '^[^/\\s]+/[^/\\s]+$',
  catalogURI: '^thrift://[^\\s/:]+:[0-9]+/?$',
} as const;

/** An optional field that may also arrive as null (the CRD marks it nullable): null reads as absent. */
const opt = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional()).meta({ nullable: true });
const flag = z.enum(['true', 'false']);
const str = (pattern: string, hint: string) => z.string().regex(new RegExp(pattern), hint);
/** An RFC 3339 time as the API server checks it (format date-time); read as the string it is. */
const timestamp = z.string().meta({ format: 'date-time' });

const RAW_KEY = 'Accepted for Datashim compatibility; moved into the owned Secret <name>-credentials (use secret-name instead).';

/** Object-store fields common to `spec.local` (COS/S3/ARCHIVE) and `spec.remote`. */
const objectStore = {
  endpoint: opt(str(PATTERNS.endpoint, 'must be a URL such as http://minio.storage:9000')).describe(
    'Object store URL, e.g. http://minio.storage:9000 (COS, S3, ARCHIVE).',
  ),
  region: opt(z.string()).describe('Object store region; may be empty.'),
  readonly: opt(flag).describe('Mount read-only ("true") or read-write ("false", the default).'),
  'secret-name': opt(str(OBJECT_NAME_PATTERN, "must be the name of a Secret in the Dataset's namespace")).describe(
    "Secret in the Dataset's namespace with keys accessKeyID and secretAccessKey.",
  ),
  'secret-namespace': opt(z.string()).describe("Must equal the Dataset's namespace; Secrets of other namespaces are never read."),
  accessKeyID: opt(z.string()).describe(RAW_KEY),
  secretAccessKey: opt(z.string()).describe(RAW_KEY),
};

/** Fields each type needs: the zod check below and the CRD's anyOf branches (requiredByTypeSchema). */
export const REQUIRED_BY_TYPE: Record<DatasetType, readonly string[]> = {
  COS: ['endpoint', 'bucket'],
  S3: ['endpoint', 'bucket'],
  NFS: ['server', 'share'],
  HOST: ['path'],
  ARCHIVE: ['url'],
  H3: ['storageUri'],
};

/**
 * REQUIRED_BY_TYPE as OpenAPI v3 that Kubernetes 1.20 understands (no CEL): for each set of required
 * fields, either they are present or the type is one that does not need them. Of failing anyOf
 * branches the API server reports the one that ran the most checks, the first on a tie: so each
 * `required` branch comes first and checks `type` as often as the branch after it, and a bad spec is
 * rejected naming the field ("spec.local.bucket: Required value").
 */
function requiredByTypeSchema(): object[] {
  const sets = new Map<string, readonly string[]>();
  for (const fields of Object.values(REQUIRED_BY_TYPE)) sets.set(fields.join(), fields);
  return [...sets.values()].map((fields) => ({
    anyOf: [
      { required: [...fields], properties: { type: { minLength: 1 } } },
      { properties: { type: { enum: DATASET_TYPES.filter((t) => REQUIRED_BY_TYPE[t].join() !== fields.join()) } } },
    ],
  }));
}

export const LocalSpec = z
  .object({
    type: z.enum(DATASET_TYPES).describe('COS and S3 need endpoint and bucket; NFS server and share; HOST path; ARCHIVE url.'),
    ...objectStore,
    bucket: opt(
      str(PATTERNS.bucketPath, 'must be an S3 bucket name (3-63 lower-case letters, digits, "." and "-"), optionally followed by /<folder>'),
    ).describe('Bucket name, optionally /<folder> as Datashim writes it (COS, S3; for ARCHIVE the bucket it is staged in).'),
    prefix: opt(z.string()).describe('Only objects under this key prefix belong to the Dataset.'),
    provision: opt(flag).describe('Create the bucket when it does not exist ("true"), with the Dataset\'s keys.'),
    removeOnDelete: opt(flag).describe('Datashim deletes the bucket with the Dataset; accepted, Locus never deletes data (condition Unsupported).'),
    server: opt(z.string().min(1)).describe('NFS server host name or address.'),
    share: opt(str(PATTERNS.absolutePath, 'must be an absolute export path such as /exports/data')).describe('NFS export path, e.g. /exports/data.'),
    path: opt(str(PATTERNS.absolutePath, 'must be an absolute path on the node')).describe('Absolute directory on the node (HOST).'),
    hostPathType: opt(z.enum(HOST_PATH_TYPES)).describe("Kubernetes HostPathType; CreateNew is Datashim's alias of DirectoryOrCreate."),
    permissions: opt(z.enum(['', 'ReadOnly', 'ReadWrite'])).describe("HOST, H3: ReadOnly mounts read-only (Datashim's form of readonly)."),
    createDirPVC: opt(flag).describe('NFS: give the Dataset a directory of its own on the share ("true"), made by the operator.'),
    storageUri: opt(z.string()).describe('H3 (Datashim): accepted; Locus has no H3 driver and refuses the type.'),
    url: opt(str(PATTERNS.url, 'must be an http(s) URL of the archive')).describe('Archive URL (ARCHIVE).'),
    format: opt(z.string()).describe('Archive media type, e.g. application/x-tar.'),
    extract: opt(flag).describe('Whether the archive is extracted.'),
  })
  .superRefine((local, ctx) => {
    if (local.prefix !== undefined && local.bucket?.includes('/')) {
      ctx.addIssue({
        code: 'custom',
        path: ['prefix'],
        message: 'give the folder either in bucket (<bucket>/<folder>, as Datashim writes it) or in prefix, not both',
      });
    }
    for (const field of REQUIRED_BY_TYPE[local.type]) {
      if (local[field as keyof typeof local] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `is required for type ${local.type}` });
      }
    }
  })
  .meta({ description: "Where the data lives (Datashim's spec.local).", allOf: requiredByTypeSchema() });
export type LocalSpec = z.infer<typeof LocalSpec>;

export const RemoteSpec = z
  .object({
    type: z.literal('CatalogEntry'),
    table: str(PATTERNS.table, 'must be "<database>/<table>", e.g. default/books').describe('<database>/<table> in the Hive metastore, e.g. default/books.'),
    catalogURI: opt(str(PATTERNS.catalogURI, 'must be thrift://<host>:<port> of a Hive metastore')).describe(
      "Hive metastore, thrift://<host>:<port>; defaults to the operator's --hive-metastore.",
    ),
    mountAllowed: opt(flag),
    ...objectStore,
    endpoint: objectStore.endpoint.describe("Object store URL of the table's bucket."),
  })
  .describe("A catalog entry resolved to a bucket and prefix (Datashim's spec.remote).");
export type RemoteSpec = z.infer<typeof RemoteSpec>;

export const CacheSpec = z
  .object({
    blockSize: z
      .number()
      .int()
      .min(1024 * 1024)
      .max(1024 * 1024 * 1024)
      .optional()
      .describe('Block size in bytes for the catalog and the node agents (default 16 MiB).'),
    sizeHintBytes: z.number().int().min(0).optional().describe('Expected size, used when the operator cannot list the Dataset (NFS, HOST).'),
    readThrough: z
      .boolean()
      .optional()
      .describe(
        "Read through the node cache agents without changing the endpoint (true), or never (false); unset: the namespace's locus.dev/read-through label, then the operator's --read-through-default.",
      ),
    zoneCopies: z
      .number()
      .int()
      .min(1)
      .max(16)
      .optional()
      .describe("Copies of each block the agents of one zone keep when capacity is tight; default the agents' --zone-copies."),
  })
  .describe('Hints for the node caches and the scheduler extender.');
export type CacheSpec = z.infer<typeof CacheSpec>;

export const DatasetSpec = z
  .object({
    local: LocalSpec.optional(),
    remote: RemoteSpec.optional(),
    cache: CacheSpec.optional(),
    // Datashim's ARCHIVE form sits at the top of spec.
    type: opt(z.enum(['ARCHIVE'])).describe("ARCHIVE (Datashim's place for it): the operator downloads url and stages it in its staging bucket."),
    url: opt(str(PATTERNS.url, 'must be an http(s) URL of the archive')).describe('Archive URL, with type ARCHIVE.'),
    format: opt(z.string()).describe('Archive media type, e.g. application/x-tar; kept, the content is recognised by its bytes.'),
    extract: opt(flag).describe('With type ARCHIVE: "true" unpacks a tar or tar.gz into one object per file.'),
  })
  .superRefine((s, ctx) => {
    const set = [s.local && 'spec.local', s.remote && 'spec.remote', s.type && 'spec.type'].filter(Boolean);
    if (set.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [s.type ? 'type' : 'local'],
        message:
          'set exactly one of spec.local (a bucket, NFS share, host path or archive), spec.remote (a catalog entry) or spec.type: ARCHIVE with spec.url' +
          (set.length > 1 ? `; this spec sets ${set.join(' and ')}` : ''),
      });
    }
    if (s.type === 'ARCHIVE' && s.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required for type ARCHIVE' });
    for (const f of ['url', 'format', 'extract'] as const) {
      if (s[f] !== undefined && s.type === undefined) ctx.addIssue({ code: 'custom', path: [f], message: 'belongs with spec.type: ARCHIVE' });
    }
  })
  // The CRD can say "at least one" (OpenAPI `not` is refused in a structural schema's value checks); "not two" is zod's.
  .meta({
    description: 'Exactly one of local, remote, or type ARCHIVE with url.',
    minProperties: 1,
    anyOf: [{ required: ['local'] }, { required: ['remote'] }, { required: ['type', 'url'] }],
  });
export type DatasetSpec = z.infer<typeof DatasetSpec>;

export const Condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: timestamp,
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof Condition>;

/**
 * The catalog records at most this many top-level prefixes (the first in key order), each at most
 * MAX_CATALOG_PREFIX_LENGTH bytes, so a Dataset's status stays small (~100 KB at worst) for every
 * extender that watches it; past the bound `prefixesTruncated` is set.
 */
export const MAX_CATALOG_PREFIXES = 1000;
export const MAX_CATALOG_PREFIX_LENGTH = 128;

export const CatalogPrefix = z
  .object({
    prefix: z.string().min(1).max(MAX_CATALOG_PREFIX_LENGTH),
    firstBlock: z.number().int().min(0),
    lastBlock: z.number().int().min(0),
  })
  .describe('A top-level key prefix (relative to the Dataset\'s own prefix, ending in "/") and the blocks its objects fill, both ends inclusive.');
export type CatalogPrefix = z.infer<typeof CatalogPrefix>;

export const CatalogStatus = z
  .object({
    objectCount: z.number().int().min(0),
    totalBytes: z.number().int().min(0),
    blockSize: z.number().int().positive(),
    blockCount: z.number().int().min(0),
    version: z.string(),
    refreshedAt: timestamp,
    prefixes: z
      .array(CatalogPrefix)
      .max(MAX_CATALOG_PREFIXES)
      .optional()
      .describe('Top-level prefixes in key order, for pods that declare a slice as `prefix <p>,…`.'),
    prefixesTruncated: z.boolean().optional().describe('True when the Dataset has more top-level prefixes (or longer ones) than the catalog records.'),
  })
  .describe('Key-ordered listing summary; block i is the i-th blockSize block of the concatenated objects.');
export type CatalogStatus = z.infer<typeof CatalogStatus>;

export const UsageStatus = z
  .object({
    pods: z.number().int().min(0),
    podNames: z.array(z.string()),
  })
  .describe('Pods that use this Dataset (by labels or PVC), for the data-access audit.');
export type UsageStatus = z.infer<typeof UsageStatus>;

export const ArchiveStatus = z
  .object({
    id: z.string(),
    url: z.string(),
    extract: z.boolean(),
    objects: z.number().int().min(0),
    bytes: z.number().int().min(0),
    stagedAt: timestamp,
  })
  .describe('The archive the operator staged (ARCHIVE Datasets): what, how many objects and bytes, when.');
export type ArchiveStatus = z.infer<typeof ArchiveStatus>;

export const PHASES = ['Pending', 'Ready', 'Failed'] as const;
export type Phase = (typeof PHASES)[number];

export const DatasetStatus = z.object({
  phase: z.enum(PHASES).optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z
    .array(Condition)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  resolved: z
    .object({
      bucket: z.string(),
      prefix: opt(z.string()),
      endpoint: opt(z.string()),
      agent: opt(z.string()).describe("The node cache agents' address pods read the Dataset through; absent: pods read the object store directly."),
    })
    .optional()
    .describe('Bucket and prefix the Dataset reads (from the catalog for spec.remote), and the agents it is read through.'),
  catalog: CatalogStatus.optional(),
  usage: UsageStatus.optional(),
  archive: ArchiveStatus.optional(),
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

/** COS, S3 and ARCHIVE (read from the bucket it is staged in, which status.resolved names once it is). */
export function isObjectStore(local: LocalSpec): boolean {
  return local.type === 'COS' || local.type === 'S3' || local.type === 'ARCHIVE';
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
