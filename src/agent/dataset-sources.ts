// Where the agent learns which bucket/prefix belongs to which Dataset: the cluster's Dataset objects
// (watched), or a file for agents running without the operator.
import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { z } from 'zod';
import { datasetEndpoint, readThroughAgent } from '../api/agent-endpoint.js';
import { isObjectStore, parseDataset, PATTERNS } from '../api/dataset.js';
import { describeIssues, objectName as name } from '../api/fields.js';
import { datasetCatalog } from '../inventory/dataset-catalog.js';
import type { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import { DATASETS } from '../kube/resources.js';
import type { DatasetSource } from './catalogs.js';

const fileSchema = z.object({
  datasets: z.array(
    z.object({
      namespace: name,
      name,
      bucket: z.string().regex(new RegExp(PATTERNS.bucket), 'must be an S3 bucket name'),
      prefix: z.string().default(''),
      blockSize: z.number().int().positive().optional(),
      zoneCopies: z.number().int().min(1).max(16).optional(),
    }),
  ),
});

/** Datasets from a YAML or JSON file: `datasets: [{namespace, name, bucket, prefix, blockSize?, zoneCopies?}]`. */
export async function datasetsFromFile(path: string): Promise<DatasetSource[]> {
  const parsed = fileSchema.safeParse(YAML.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${describeIssues(parsed.error)}`);
  return parsed.data.datasets;
}

/**
 * The DatasetSource of a Dataset object the agent fronts: an object-store Dataset whose endpoint is
 * one of `endpoints` (the agent's upstream, or the agent's own Service address for Datasets read
 * through it), or names none. Undefined for any other Dataset.
 */
export function datasetSource(obj: unknown, endpoints: readonly string[]): DatasetSource | undefined {
  const r = parseDataset(obj);
  if (!r.ok) return undefined;
  const { metadata, spec, status } = r.dataset;
  if (spec.local && !isObjectStore(spec.local)) return undefined;
  const bucket = status?.resolved?.bucket ?? spec.local?.bucket;
  if (!bucket) return undefined;
  if (!readThroughAgent(datasetEndpoint(r.dataset), endpoints)) return undefined;
  const source: DatasetSource = {
    namespace: metadata.namespace ?? 'default',
    name: metadata.name,
    bucket,
    prefix: status?.resolved?.prefix ?? spec.local?.prefix ?? '',
  };
  if (spec.cache?.blockSize) source.blockSize = spec.cache.blockSize;
  if (spec.cache?.zoneCopies) source.zoneCopies = spec.cache.zoneCopies;
  if (status?.catalog) {
    source.catalog = { version: status.catalog.version, blockSize: status.catalog.blockSize };
    // The prefixes as the extender reads them, so a `prefix` slice names the same blocks here.
    const { prefixes, prefixesTruncated } = datasetCatalog(r.dataset).catalog;
    if (prefixes) source.catalog.prefixes = prefixes;
    if (prefixesTruncated) source.catalog.prefixesTruncated = true;
  }
  const created = Date.parse((obj as { metadata?: { creationTimestamp?: string } }).metadata?.creationTimestamp ?? '');
  if (Number.isFinite(created)) source.claimedAt = created;
  return source;
}

/** Watches Dataset objects and hands the agent the current list after every change. */
export class ClusterDatasets {
  private readonly informer: Informer;

  constructor(kc: KubeConfig, client: KubeClient, endpoints: readonly string[], onChange: (sources: DatasetSource[]) => void, log: Logger) {
    this.informer = new Informer(kc, client, {
      resource: DATASETS,
      onRestart: (err) => log.warn({ err }, 'Dataset watch failed; restarting'),
    });
    const update = () => onChange(this.informer.list().flatMap((o) => datasetSource(o, endpoints) ?? []));
    this.informer.on('add', update).on('update', update).on('delete', update);
  }

  start(): Promise<void> {
    this.informer.start();
    return this.informer.waitForSync();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
