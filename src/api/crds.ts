// The CustomResourceDefinitions in crds/, generated from the zod schemas (`npm run gen:crds`), so the
// API server checks what Locus parses and the two cannot drift. Kubernetes wants a *structural*
// OpenAPI v3 schema as 1.20 understands it: every node typed, value checks (anyOf/allOf) untyped,
// no `$schema`, no `additionalProperties` beside `properties`, no CEL. The zod schemas carry what JSON
// Schema cannot infer (descriptions, nullable, list types, the per-type anyOf branches) as metadata.
import { stringify } from 'yaml';
import { z } from 'zod';
import { Dataset, KIND as DATASET_KIND, PLURAL as DATASET_PLURAL } from './dataset.js';
import { GROUP, VERSION } from './group.js';
import { NODECACHE_KIND, NODECACHE_PLURAL, nodeCacheSchema } from './nodecache.js';

type Json = Record<string, unknown>;

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  description?: string;
  format?: 'int64';
  priority?: number;
}

interface Resource {
  file: string;
  /** Where the schema is defined, for the header of the generated file. */
  source: string;
  /** What the resource is, for people reading the manifest. */
  about: string;
  schema: z.ZodType;
  kind: string;
  plural: string;
  shortName: string;
  scope: 'Namespaced' | 'Cluster';
  columns: PrinterColumn[];
}

const RESOURCES: readonly Resource[] = [
  {
    file: 'crds/dataset.yaml',
    source: 'src/api/dataset.ts',
    about: `Dataset: a bucket, NFS share, host path, archive or catalog table, made usable by pods.
spec.local / spec.remote keep Datashim's field names and string flags ("true"/"false"), so a
Datashim manifest applies after changing only apiVersion. Per-type required fields are anyOf
branches, so a bad spec is rejected by \`kubectl apply\` with the field named. Rules the schema
cannot express (secret-namespace must equal the Dataset's namespace) are reported by the operator
in status.conditions. Optional strings are nullable: Datashim manifests write empty values such as
\`region: ""\`, which some API servers hand to validation as null.`,
    schema: Dataset,
    kind: DATASET_KIND,
    plural: DATASET_PLURAL,
    shortName: 'ds',
    scope: 'Namespaced',
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.local.type', description: 'Storage type of spec.local (empty for catalog entries)' },
      { name: 'Table', type: 'string', jsonPath: '.spec.remote.table', description: 'Catalog table of spec.remote', priority: 1 },
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
      { name: 'Pods', type: 'integer', jsonPath: '.status.usage.pods', description: 'Pods that use this Dataset' },
      { name: 'Bytes', type: 'integer', jsonPath: '.status.catalog.totalBytes', priority: 1 },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
  {
    file: 'crds/nodecache.yaml',
    source: 'src/api/nodecache.ts',
    about: `NodeCache: what one node's cache agent holds, one object per node, named after the node and owned
by it (so it goes when the node goes). The agent writes \`status\` as a full snapshot on every change;
the extender's informers read it.`,
    schema: nodeCacheSchema,
    kind: NODECACHE_KIND,
    plural: NODECACHE_PLURAL,
    shortName: 'nc',
    scope: 'Cluster',
    columns: [
      { name: 'Used', type: 'integer', format: 'int64', description: 'Bytes the cache holds.', jsonPath: '.status.usedBytes' },
      { name: 'Capacity', type: 'integer', format: 'int64', description: 'Bytes the cache may hold.', jsonPath: '.status.capacityBytes' },
      { name: 'Datasets', type: 'integer', description: 'Datasets with cached blocks on the node.', jsonPath: '.status.datasetCount' },
      { name: 'Seq', type: 'integer', priority: 1, jsonPath: '.status.seq' },
      { name: 'Epoch', type: 'string', priority: 1, jsonPath: '.status.epoch' },
      { name: 'Updated', type: 'date', description: 'When the agent last wrote this snapshot.', jsonPath: '.status.updatedAt' },
    ],
  },
];

/** The CRD object of one resource. */
function crdOf(r: Resource): Json {
  const singular = r.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${r.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: r.scope,
      names: { kind: r.kind, listKind: `${r.kind}List`, plural: r.plural, singular, shortNames: [r.shortName] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: r.columns,
          schema: { openAPIV3Schema: openApiSchema(r.schema) },
        },
      ],
    },
  };
}

/** The structural OpenAPI v3 schema of a resource's zod schema, as its CRD declares it. */
export function openApiSchema(schema: z.ZodType): Json {
  // Input: what clients send, so fields with zod defaults stay optional.
  const json = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'any' }) as Json;
  // (Unrepresentable parts come out untyped, which structural() refuses outside metadata.)
  // The API server owns these; metadata is checked by its own rules, not the CRD's.
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = json.properties as Json;
  json.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...rest };
  json.required = (json.required as string[]).filter((k) => k !== 'metadata');
  return structural(json, 'openAPIV3Schema', false);
}

// Keys in the order a person reads them: what the node is, what it accepts, what it holds.
const ORDER = [
  'type',
  'format',
  'nullable',
  'enum',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'description',
  'minProperties',
  'required',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'anyOf',
  'allOf',
  'items',
  'properties',
];
const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * One JSON Schema node made structural. `inValueCheck`: inside anyOf/allOf, where Kubernetes wants
 * no types. Throws on what a CRD cannot hold, so a zod change the API server would refuse fails here.
 */
function structural(node: Json, path: string, inValueCheck: boolean): Json {
  for (const key of ['oneOf', 'not', '$ref', 'const']) {
    if (key in node) throw new Error(`${path}: "${key}" has no place in a Kubernetes 1.20 structural schema`);
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case '$schema':
      case 'default': // The API server stores what was written; defaults are the reader's (zod).
        break;
      case 'additionalProperties':
        if (!node.properties && value && typeof value === 'object' && Object.keys(value).length > 0) {
          out[key] = structural(value as Json, `${path}.additionalProperties`, inValueCheck);
        }
        break;
      case 'properties':
        out[key] = Object.fromEntries(Object.entries(value as Record<string, Json>).map(([k, v]) => [k, structural(v, `${path}.${k}`, inValueCheck)]));
        break;
      case 'items':
        out[key] = structural(value as Json, `${path}[]`, inValueCheck);
        break;
      case 'anyOf':
      case 'allOf':
        out[key] = (value as Json[]).map((v, i) => structural(v, `${path}.${key}[${i}]`, true));
        break;
      case 'pattern':
        out[key] = unescapeSlashes(value as string);
        break;
      default:
        out[key] = value;
    }
  }
  if (out.type === 'integer') integerBounds(out);
  // zod adds the pattern it checks date-times with; the API server checks the format itself.
  if (out.format === 'date-time') delete out.pattern;
  if (!inValueCheck && typeof out.type !== 'string') throw new Error(`${path}: a structural schema gives every field a type`);
  for (const key of ['type', 'description', 'nullable', 'additionalProperties']) {
    if (inValueCheck && key in out) throw new Error(`${path}: "${key}" is not allowed inside anyOf/allOf of a structural schema`);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => rank(a) - rank(b)));
}

function rank(key: string): number {
  const i = ORDER.indexOf(key);
  return i < 0 ? ORDER.length : i;
}

/** Integers are 64-bit; zod's safe-integer bounds say nothing, and `> m` on integers is `>= m + 1`. */
function integerBounds(out: Json): void {
  out.format ??= 'int64';
  if (out.minimum === -SAFE) delete out.minimum;
  if (out.maximum === SAFE) delete out.maximum;
  if (out.exclusiveMinimum === true) {
    out.minimum = (out.minimum as number) + 1;
    delete out.exclusiveMinimum;
  }
  if (out.exclusiveMaximum === true) {
    out.maximum = (out.maximum as number) - 1;
    delete out.exclusiveMaximum;
  }
}

/** A JavaScript RegExp's source escapes `/`; RE2 needs no escape there, so the manifest shows the pattern as written. */
function unescapeSlashes(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\' && pattern[i + 1] === '/') continue;
    if (pattern[i] === '\\') out += pattern[i++];
    out += pattern[i];
  }
  return out;
}

function header(r: Resource): string {
  const lines = [...r.about.split('\n'), '', `Generated from ${r.source} by \`npm run gen:crds\`: edit the zod schema there, not this file.`];
  return lines.map((l) => (l ? `# ${l}` : '#')).join('\n');
}

/** Every CRD manifest: the path it is written to and its text. */
export function crdFiles(): { path: string; text: string }[] {
  return RESOURCES.map((r) => ({ path: r.file, text: `${header(r)}\n${stringify(crdOf(r), { lineWidth: 0 })}` }));
}
