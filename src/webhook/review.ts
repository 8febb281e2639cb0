// One admission decision: parse the pod, look up the Datasets it names in its own namespace, let
// mutatePod decide, and record what changed as Events on the pod (without waiting for them).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebhookMetrics } from '../metrics/webhook.js';
import type { AdmissionRequest, Verdict } from './admission.js';
import { type FoundDataset, type MutateOptions, mutatePod, namesToLookUp } from './mutate.js';
import { podSchema, type Pod } from './pod.js';
import type { AuditRecorder } from './audit.js';
import { sliceProblems } from './slices.js';

/** Where Datasets come from: the API server in production, a map in tests. */
export interface DatasetLookup {
  /** The Dataset `name` in `namespace`, or undefined when there is none. */
  find(namespace: string, name: string): Promise<FoundDataset | undefined>;
}

export interface ReviewDeps {
  lookup: DatasetLookup;
  options: MutateOptions;
  log: Logger;
  metrics: WebhookMetrics;
  audit?: AuditRecorder;
  /** Most Datasets (labels plus PVC volumes) one pod may reference; default MAX_DATASETS_PER_POD. */
  maxDatasets?: number;
  /** The random part of names the webhook gives generateName-only pods (tests pass a fixed one). */
  nameSuffix?: () => string;
}

/** Default cap on the Datasets and PVCs one pod references: Datashim pods name a handful. */
export const MAX_DATASETS_PER_POD = 64;
/** Lookups in flight for one review (the process-wide bound on API calls is in kube-lookup.ts). */
const LOOKUP_CONCURRENCY = 8;

/** Raised when the lookups outlast the API server's `?timeout=`, so the answer still arrives in time. */
class LookupTimeout extends Error {}

export async function review(req: AdmissionRequest, deps: ReviewDeps, budgetMs: number): Promise<Verdict> {
  if (req.kind.kind !== 'Pod' || req.operation !== 'CREATE') return {};
  const parsed = podSchema.safeParse(req.object);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return deny(400, 'BadRequest', `pod field ${['object', ...issue.path].join('.')}: ${issue.message}`);
  }
  const pod = parsed.data;
  const namespace = req.namespace || pod.metadata?.namespace || 'default';
  const { labelled, claims } = namesToLookUp(pod, namespace);

  const names = [...labelled, ...claims];
  const max = deps.maxDatasets ?? MAX_DATASETS_PER_POD;
  // Before any lookup: one review must not fan out into thousands of API calls.
  if (names.length > max) {
    return deny(
      403,
      'Forbidden',
      `the pod names ${labelled.length} Datasets by label and ${claims.length} other PVCs, more than the ${max} a pod may reference ` +
        '(webhook --max-datasets-per-pod): split the work across pods or ask the cluster administrator to raise the limit',
    );
  }

  const found = new Map<string, FoundDataset>();
  const warnings: string[] = [];
  const failures: string[] = [];
  const lookUp = async (name: string) => {
    try {
      const ds = await deps.lookup.find(namespace, name);
      if (ds) found.set(name, ds);
    } catch (err) {
      deps.metrics.lookupErrors.inc();
      deps.log.warn({ err, namespace, dataset: name }, 'Dataset lookup failed');
      // A PVC that might be a Dataset only decides the scheduler; a labelled Dataset decides the pod.
      if (labelled.includes(name)) failures.push(`could not read Dataset "${name}" in namespace "${namespace}": ${(err as Error).message}`);
      else warnings.push(`could not check whether PVC "${name}" belongs to a Dataset; scheduler left unchanged for it`);
    }
  };
  // A few lookups at a time per review; past the deadline the workers stop taking names.
  const queue = [...names];
  let expired = false;
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined && !expired; name = queue.shift()) await lookUp(name);
  };
  const workers = Array.from({ length: Math.min(LOOKUP_CONCURRENCY, names.length) }, worker);
  await withDeadline(budgetMs, Promise.all(workers)).catch((err: unknown) => {
    if (!(err instanceof LookupTimeout)) throw err;
    expired = true;
    failures.push(`looking up Datasets in namespace "${namespace}" took longer than ${budgetMs} ms`);
  });
  if (failures.length > 0) return deny(503, 'ServiceUnavailable', `${failures.join('; ')}; the pod was not admitted, try again`);

  const mutation = mutatePod(pod, namespace, found, deps.options);
  if (mutation.denial) return deny(403, 'Forbidden', mutation.denial);
  const slices = sliceProblems(pod, namespace, found);
  if (deps.audit && (mutation.changes.length > 0 || slices.length > 0) && !req.dryRun) {
    const named = nameForEvents(pod, deps.nameSuffix ?? randomSuffix);
    if (named) mutation.patch.push({ op: 'add', path: '/metadata/name', value: named.metadata!.name });
    // Events are an audit trail, not a condition of admission: never awaited, failures only logged.
    const failed = (err: unknown) => {
      deps.metrics.eventErrors.inc();
      deps.log.warn({ err, namespace, pod: pod.metadata?.name ?? pod.metadata?.generateName }, 'recording Dataset events failed');
    };
    if (mutation.changes.length > 0) deps.audit.record(named ?? pod, namespace, mutation.changes).catch(failed);
    if (slices.length > 0) deps.audit.problems?.(named ?? pod, namespace, slices).catch(failed);
  }
  const sliceWarnings = slices.map((p) => `${p.field}: ${p.message}`);
  return { patch: mutation.patch, warnings: [...warnings, ...mutation.warnings, ...sliceWarnings] };
}

/** The alphabet and length kube-apiserver's name generator uses (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATED_BASE = 58;

function randomSuffix(): string {
  return Array.from(randomBytes(5), (b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}

/**
 * A pod with only a `generateName` and no owner would get its name after the webhooks run, leaving
 * its Events nothing to point at: the webhook names it the way the API server would (a clash is
 * refused as AlreadyExists, as it would be for the server's own choice).
 */
function nameForEvents(pod: Pod, suffix: () => string): Pod | undefined {
  const meta = pod.metadata;
  if (!meta || meta.name || !meta.generateName || (meta.ownerReferences ?? []).length > 0) return undefined;
  return { ...pod, metadata: { ...meta, name: `${meta.generateName.slice(0, MAX_GENERATED_BASE)}${suffix()}` } };
}

function deny(code: number, reason: string, message: string): Verdict {
  return { denial: { code, reason, message } };
}

function withDeadline<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LookupTimeout()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
