// One admission decision: parse the pod, look up the Datasets it names in its own namespace, let
// mutatePod decide, and record what changed as Events on the pod (without waiting for them).
import type { Logger } from 'pino';
import type { WebhookMetrics } from '../metrics/webhook.js';
import type { AdmissionRequest, Verdict } from './admission.js';
import { type FoundDataset, type MutateOptions, mutatePod, namesToLookUp } from './mutate.js';
import { podSchema } from './pod.js';
import type { AuditRecorder } from './audit.js';

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
}

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

  const found = new Map<string, FoundDataset>();
  const warnings: string[] = [];
  const failures: string[] = [];
  await withDeadline(budgetMs, Promise.all([...labelled, ...claims].map(async (name) => {
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
  }))).catch((err: unknown) => {
    if (!(err instanceof LookupTimeout)) throw err;
    failures.push(`looking up Datasets in namespace "${namespace}" took longer than ${budgetMs} ms`);
  });
  if (failures.length > 0) return deny(503, 'ServiceUnavailable', `${failures.join('; ')}; the pod was not admitted, try again`);

  const mutation = mutatePod(pod, namespace, found, deps.options);
  if (mutation.denial) return deny(403, 'Forbidden', mutation.denial);
  if (deps.audit && mutation.changes.length > 0 && !req.dryRun) {
    // Events are an audit trail, not a condition of admission: never awaited, failures only logged.
    deps.audit.record(pod, namespace, mutation.changes).catch((err: unknown) => {
      deps.metrics.eventErrors.inc();
      deps.log.warn({ err, namespace, pod: pod.metadata?.name ?? pod.metadata?.generateName }, 'recording Dataset events failed');
    });
  }
  return { patch: mutation.patch, warnings: [...warnings, ...mutation.warnings] };
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
