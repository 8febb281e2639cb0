// Prometheus metrics of the operator, on a registry of its own.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { componentRegistry } from './registry.js';

export interface OperatorMetrics {
  registry: Registry;
  /** Reconciles by result: ok, requeue (transient condition), conflict (stale write, retried), error. */
  reconciles: Counter<'result'>;
  reconcileDuration: Histogram;
  /** Bucket listings and catalog lookups by kind (s3, hive) and result (ok, failed). */
  catalogRefreshes: Counter<'kind' | 'result'>;
  /** Informer watches restarted after an error, per resource. */
  informerRestarts: Counter<'resource'>;
}

export interface OperatorGauges {
  /** Pods using each Dataset (`ns/name` → count), read at scrape time. */
  podsPerDataset(): Map<string, number>;
  queueDepth(): number;
}

export function createOperatorMetrics(gauges: OperatorGauges, opts: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = componentRegistry('operator', opts.defaultMetrics);
  new Gauge({
    name: 'locus_operator_dataset_pods',
    help: 'Pods that use each Dataset (by Datashim labels or a PVC named after it): the data-access audit.',
    labelNames: ['namespace', 'dataset'] as const,
    registers: [registry],
    collect() {
      // Reset first, so a Dataset nobody uses any more drops out instead of keeping its last count.
      this.reset();
      for (const [key, count] of gauges.podsPerDataset()) {
        const [namespace, dataset] = key.split('/');
        this.set({ namespace, dataset }, count);
      }
    },
  });
  new Gauge({
    name: 'locus_operator_queue_depth',
    help: 'Dataset keys waiting to be reconciled.',
    registers: [registry],
    collect() {
      this.set(gauges.queueDepth());
    },
  });
  return {
    registry,
    reconciles: new Counter({
      name: 'locus_operator_reconciles_total',
      help: 'Reconciles by result: ok, requeue (waiting on something transient), conflict (stale write, retried), error.',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'locus_operator_reconcile_duration_seconds',
      help: 'Time of one reconcile, including catalog listings.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    catalogRefreshes: new Counter({
      name: 'locus_operator_catalog_refreshes_total',
      help: 'Bucket listings (kind=s3) and metastore lookups (kind=hive) by result.',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    informerRestarts: new Counter({
      name: 'locus_operator_informer_restarts_total',
      help: 'Watches restarted after an error, per resource.',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
  };
}
