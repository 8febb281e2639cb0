// The NodeCache object (locus.dev/v1alpha1, cluster-scoped, one per node): its zod schema, the source
// crds/nodecache.yaml is generated from. The agent writes these objects, the extender reads them, the
// simulator produces them; src/inventory/nodecache.ts converts them to and from core snapshots.
import { z } from 'zod';
import { describeIssues, objectName } from './fields.js';
import { API_VERSION } from './group.js';

export const NODECACHE_KIND = 'NodeCache';
export const NODECACHE_PLURAL = 'nodecaches';

const count = z.number().int().nonnegative();

export const nodeCacheDatasetSchema = z.object({
  namespace: objectName.max(253),
  name: objectName.max(253),
  blockSize: z.number().int().positive().optional().describe('Bytes per block of the catalog the block set refers to.'),
  catalogVersion: z
    .string()
    .optional()
    .describe("The Dataset's status.catalog.version the block indices refer to; where it differs from the current one only bytes count."),
  /** Bytes of this Dataset held on the node. */
  bytes: count,
  blockCount: count.optional().describe('Blocks in that catalog (the universe the block set is encoded against).'),
  blocks: z.string().optional().describe('The cached block indices, base64 of a bitset or of runs, whichever is smaller.'),
});

export const nodeCacheStatusSchema = z.object({
  epoch: z
    .string()
    .min(1, 'must be a non-empty string, new on every agent restart or cache wipe')
    .describe('New on every agent restart or cache wipe; a new epoch replaces whatever the extender held.'),
  seq: z.number().int().nonnegative().describe('Increases with every write within an epoch; a write whose seq goes backwards is ignored.'),
  capacityBytes: count.optional(),
  usedBytes: count.optional(),
  updatedAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("When the agent took the snapshot (RFC 3339). Inventories older than the extender's --ttl count as empty."),
  datasetCount: count.optional().describe('Number of entries in datasets (for kubectl get).'),
  datasets: z.array(nodeCacheDatasetSchema).default([]).describe('Per Dataset, the bytes and blocks cached on the node.'),
  peer: z
    .object({
      url: z.url().describe("The agent's S3 address other agents read this node's blocks from (peer fill)."),
      zone: z.string().optional().describe("The node's topology.kubernetes.io/zone; only agents in the same zone ask this one."),
    })
    .optional()
    .describe('Where agents of the same zone read blocks this node holds, instead of the object store.'),
});

/** What a warm item is for: a pod the scheduler could not place, or (an index of) a suspended Job. */
const warmTargetSchema = z.object({
  namespace: objectName.max(63),
  name: objectName.max(253),
  uid: z.string().min(1).max(64),
});

export const nodeCacheWarmItemSchema = z.object({
  pod: warmTargetSchema.optional().describe('The pending pod whose slices this node warms.'),
  job: warmTargetSchema
    .extend({ index: z.number().int().nonnegative().optional().describe('The completion index, for an Indexed Job.') })
    .optional()
    .describe('The suspended Job (one index of it, when Indexed) whose slices this node warms.'),
  datasets: z
    .array(
      z.object({
        namespace: objectName.max(63),
        name: objectName.max(253),
        slice: z.string().max(4096).optional().describe('The part read (locus.dev/slice syntax); absent: the whole Dataset.'),
      }),
    )
    .max(64),
  bytes: count.describe('Bytes of these slices the node missed when the item was planned.'),
});

export const nodeCacheSpecSchema = z.object({
  nodeName: z.string().min(1).describe('The node this cache is on; equal to metadata.name.'),
  warm: z
    .array(nodeCacheWarmItemSchema)
    .max(1024)
    .optional()
    .describe(
      "Queued work whose slices the node's agent fetches ahead and pins, after those of the pods bound to it. Written by the leading extender (warm-ahead); oldest work first.",
    ),
});

export const nodeCacheSchema = z.object({
  apiVersion: z.literal(API_VERSION).optional(),
  kind: z.literal(NODECACHE_KIND).optional(),
  metadata: z.looseObject({
    name: objectName,
    resourceVersion: z.string().optional(),
  }),
  spec: nodeCacheSpecSchema,
  status: nodeCacheStatusSchema.optional(),
});

export type NodeCacheDataset = z.infer<typeof nodeCacheDatasetSchema>;
export type NodeCacheStatus = z.infer<typeof nodeCacheStatusSchema>;
export type NodeCache = z.infer<typeof nodeCacheSchema>;
export type NodeCacheWarmItem = z.infer<typeof nodeCacheWarmItemSchema>;

/** A NodeCache that cannot be turned into a snapshot; the message names the field and the fix. */
export class NodeCacheError extends Error {}

/** Parses an object as a NodeCache, throwing a NodeCacheError that names each bad field. */
export function parseNodeCache(obj: unknown): NodeCache {
  const result = nodeCacheSchema.safeParse(obj);
  if (result.success) return result.data;
  const name = (obj as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  throw new NodeCacheError(`NodeCache ${typeof name === 'string' ? `"${name}"` : '(unnamed)'}: ${describeIssues(result.error)}`);
}
