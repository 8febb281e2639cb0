// What an ARCHIVE Dataset needs, decided without I/O: where its files are staged, whether that has
// happened for the current spec, and, once it has, the object-store Dataset it then is.
import type { ArchiveStatus, Dataset } from '../api/dataset.js';
import { objectStoreLocation, type ObjectStoreLocation } from '../api/storage.js';
import { notOk, ok, type ConditionInput } from './conditions.js';
import type { OperatorConfig } from './config.js';
import { stableJson } from './stable-json.js';

export interface ArchivePlan {
  url: string;
  extract: boolean;
  target: ObjectStoreLocation;
  /**
   * `staging`: the operator's staging store, whose keys it copies into the Dataset's Secret (as
   * Datashim gives pods the keys of its staging store); `dataset`: the bucket and keys the Dataset names.
   */
  keys: 'staging' | 'dataset';
  /** Identity of what is staged where; another id means staging again. */
  id: string;
}

export type ArchiveObservation =
  | { state: 'queued'; id: string }
  | { state: 'running'; id: string; phase: 'downloading' | 'uploading'; bytes: number; totalBytes?: number; objects: number }
  | { state: 'done'; id: string; objects: number; bytes: number; detected: string; at: string }
  | { state: 'failed'; id: string; reason: string; message: string; retryAt?: string };

/** Undefined for other Datasets; an error when there is nowhere to stage the archive. */
export function archivePlan(ds: Dataset, config: OperatorConfig): ArchivePlan | { error: string } | undefined {
  const local = ds.spec.local;
  const topLevel = ds.spec.type === 'ARCHIVE';
  if (!topLevel && local?.type !== 'ARCHIVE') return undefined;
  const url = (topLevel ? ds.spec.url : local?.url) ?? '';
  const extract = (topLevel ? ds.spec.extract : local?.extract) === 'true';
  const namespace = ds.metadata.namespace ?? '';
  let target: ObjectStoreLocation;
  let keys: ArchivePlan['keys'];
  if (local?.type === 'ARCHIVE' && local.endpoint && local.bucket) {
    target = objectStoreLocation(local);
    keys = 'dataset';
  } else if (config.archiveStore) {
    const store = config.archiveStore;
    target = { endpoint: store.endpoint, region: store.region, bucket: store.bucket, prefix: `${store.prefix}${namespace}/${ds.metadata.name}/` };
    keys = 'staging';
  } else {
    return {
      error:
        'the operator has no staging store for archives: start it with --archive-endpoint, --archive-bucket and --archive-secret, ' +
        'or name the bucket to unpack into in spec.local (type ARCHIVE, url, endpoint, bucket, secret-name)',
    };
  }
  return { url, extract, target, keys, id: stableJson({ url, extract, target }) };
}

/** The record status.archive keeps of a finished staging. */
function archiveStatus(plan: ArchivePlan, done: Extract<ArchiveObservation, { state: 'done' }>): ArchiveStatus {
  return { id: plan.id, url: plan.url, extract: plan.extract, objects: done.objects, bytes: done.bytes, stagedAt: done.at };
}

/**
 * The staged archive as the object-store Dataset it is: read-only (as Datashim mounts its archives),
 * with the keys the Dataset names, or none when they are the staging store's (the reconcile gets those).
 */
export function stagedView(ds: Dataset, plan: ArchivePlan): Dataset {
  const { endpoint, region, bucket, prefix } = plan.target;
  const own = plan.keys === 'dataset' ? ds.spec.local : undefined;
  const keys = own
    ? { 'secret-name': own['secret-name'], 'secret-namespace': own['secret-namespace'], accessKeyID: own.accessKeyID, secretAccessKey: own.secretAccessKey }
    : {};
  const local = Object.fromEntries(
    Object.entries({ type: 'S3', endpoint, region, bucket, prefix, readonly: 'true', ...keys }).filter(([, v]) => v !== undefined),
  );
  return { ...ds, spec: { local: local as NonNullable<Dataset['spec']['local']>, cache: ds.spec.cache } };
}

export interface ArchiveState {
  /** Not staged yet for this spec: no volume and no listing until it is. */
  pending: boolean;
  /** Failed in a way only a spec change mends. */
  lasting: boolean;
  condition: ConditionInput;
  /** What status.archive records once staged. */
  record?: ArchiveStatus;
}

/** Where the staging of `plan` stands: recorded in status, finished this round, or under way. */
export function archiveState(ds: Dataset, plan: ArchivePlan, seen: ArchiveObservation | undefined): ArchiveState {
  const recorded = ds.status?.archive;
  if (recorded?.id === plan.id) return { pending: false, lasting: false, condition: staged(plan, recorded.objects, recorded.bytes), record: recorded };
  if (seen?.state === 'done' && seen.id === plan.id) {
    return { pending: false, lasting: false, condition: staged(plan, seen.objects, seen.bytes), record: archiveStatus(plan, seen) };
  }
  const lasting = seen?.state === 'failed' && seen.id === plan.id && seen.retryAt === undefined;
  return { pending: true, lasting, condition: stagingCondition(plan, seen) };
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** The ArchiveStaged condition of a staging not finished. */
function stagingCondition(plan: ArchivePlan, seen: ArchiveObservation | undefined): ConditionInput {
  const where = `s3://${plan.target.bucket}/${plan.target.prefix}`;
  if (!seen || seen.id !== plan.id || seen.state === 'queued') {
    return { type: 'ArchiveStaged', status: 'Unknown', reason: 'Queued', message: `${plan.url} waits to be downloaded into ${where}` };
  }
  switch (seen.state) {
    case 'running':
      return {
        type: 'ArchiveStaged',
        status: 'Unknown',
        reason: seen.phase === 'downloading' ? 'Downloading' : 'Uploading',
        message:
          seen.phase === 'downloading'
            ? `downloaded ${mib(seen.bytes)}${seen.totalBytes !== undefined ? ` of ${mib(seen.totalBytes)}` : ''} of ${plan.url}`
            : `${seen.objects} files (${mib(seen.bytes)}) written to ${where}`,
      };
    case 'failed':
      return notOk('ArchiveStaged', seen.reason, `${seen.message}${seen.retryAt ? `; trying again at ${seen.retryAt}` : ''}`);
    case 'done':
      return staged(plan, seen.objects, seen.bytes);
  }
}

const staged = (plan: ArchivePlan, objects: number, bytes: number): ConditionInput =>
  ok(
    'ArchiveStaged',
    'Staged',
    `${plan.url} ${plan.extract ? 'extracted' : 'copied'} into s3://${plan.target.bucket}/${plan.target.prefix}: ${objects} objects, ${bytes} bytes`,
  );
