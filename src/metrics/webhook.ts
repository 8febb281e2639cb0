// Prometheus metrics of the admission webhook, on a registry of its own.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { componentRegistry } from './registry.js';

export interface WebhookMetrics {
  registry: Registry;
  /** AdmissionReviews answered, by result: `mutated`, `unchanged`, `denied`, `bad-request`, `error`. */
  admissions: Counter<'result'>;
  /** Time from request to answer, seconds. */
  duration: Histogram;
  /** Dataset lookups against the API server that failed (not "not found"). */
  lookupErrors: Counter;
  /** Audit Events that could not be recorded (admission went ahead). */
  eventErrors: Counter;
  /** Serving-certificate reloads, by outcome: `ok`, or `error` (the previous certificate stays). */
  certReloads: Counter<'outcome'>;
}

/** `secondsToExpiry` is read at every scrape, so the gauge never goes stale between reloads. */
export function webhookMetrics(secondsToExpiry: () => number | undefined, withProcessMetrics = false): WebhookMetrics {
  const registry = componentRegistry('webhook', withProcessMetrics);
  const registers = [registry];
  new Gauge({
    name: 'locus_webhook_certificate_expiry_seconds',
    help: 'Seconds until the serving certificate expires (negative once expired).',
    registers,
    collect() {
      const s = secondsToExpiry();
      if (s !== undefined) this.set(s);
    },
  });
  return {
    registry,
    admissions: new Counter({ name: 'locus_webhook_admissions_total', help: 'AdmissionReviews answered, by result.', labelNames: ['result'], registers }),
    duration: new Histogram({
      name: 'locus_webhook_admission_seconds',
      help: 'Time to answer an AdmissionReview.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    lookupErrors: new Counter({ name: 'locus_webhook_dataset_lookup_errors_total', help: 'Dataset lookups that failed.', registers }),
    eventErrors: new Counter({ name: 'locus_webhook_event_errors_total', help: 'Audit Events that could not be recorded.', registers }),
    certReloads: new Counter({
      name: 'locus_webhook_certificate_reloads_total',
      help: 'Serving-certificate reloads, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
  };
}
