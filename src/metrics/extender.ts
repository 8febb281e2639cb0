// Prometheus metrics of the extender, on a registry of its own.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { componentRegistry } from './registry.js';
import type { IndexStats } from '../core/locality-index.js';

export interface ExtenderMetrics {
  registry: Registry;
  /** Handler time per verb (filter, prioritize, explain), seconds. */
  requestDuration: Histogram<'verb'>;
  /** Requests per verb and outcome: ok, neutral (nothing to decide on), failed-open (neutral after a core error), bad-request, too-large, not-found, error. */
  requests: Counter<'verb' | 'outcome'>;
  /** NodeCache writes by outcome: applied, stale, rejected. */
  inventories: Counter<'outcome'>;
  /** Nodes whose inventory passed its TTL (then counting as holding nothing). */
  ttlExpiries: Counter;
  /** Informer watches restarted after an error, per resource. */
  informerRestarts: Counter<'resource'>;
  /** Objects that could not be used (bad Dataset or Node), per kind. */
  invalidObjects: Counter<'kind'>;
  /** Warm-ahead: 1 on the replica holding the Lease (the one that plans), else 0. */
  warmLeader: Gauge;
  /** Warm-ahead: queued pods (and Job indices) with warm nodes in the last plan, and the bytes planned for them. */
  warmPods: Gauge;
  warmPlannedBytes: Gauge;
  /** Warm-ahead: NodeCache spec.warm writes, by outcome (ok, error). */
  warmWrites: Counter<'outcome'>;
}

/** Builds the metrics; `stats` is read at scrape time for the index-size gauges. */
export function createExtenderMetrics(stats: () => IndexStats, opts: { defaultMetrics?: boolean } = {}): ExtenderMetrics {
  const registry = componentRegistry('extender', opts.defaultMetrics);
  new Gauge({
    name: 'locus_extender_index',
    help: 'Size of the locality index: nodes, datasets, inventories, live_inventories, blocks and bytes (live inventories only).',
    labelNames: ['quantity'] as const,
    registers: [registry],
    collect() {
      const s = stats();
      this.set({ quantity: 'nodes' }, s.nodes);
      this.set({ quantity: 'datasets' }, s.datasets);
      this.set({ quantity: 'inventories' }, s.inventories);
      this.set({ quantity: 'live_inventories' }, s.liveInventories);
      this.set({ quantity: 'blocks' }, s.blocks);
      this.set({ quantity: 'bytes' }, s.bytes);
    },
  });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'locus_extender_request_duration_seconds',
      help: 'Time to answer a request, per verb.',
      labelNames: ['verb'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    requests: new Counter({
      name: 'locus_extender_requests_total',
      help: 'Requests per verb and outcome: ok, neutral (no known Dataset or not synced), failed-open (core error, answered neutral), bad-request, too-large, not-found, error.',
      labelNames: ['verb', 'outcome'] as const,
      registers: [registry],
    }),
    inventories: new Counter({
      name: 'locus_extender_inventories_total',
      help: 'NodeCache writes seen, by outcome: applied, seen (the applied seq again: a resync or a spec change), stale (an older seq within an epoch), rejected (malformed).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    ttlExpiries: new Counter({
      name: 'locus_extender_node_ttl_expiries_total',
      help: 'Node inventories that passed their TTL without a newer write and now count as empty.',
      registers: [registry],
    }),
    informerRestarts: new Counter({
      name: 'locus_extender_informer_restarts_total',
      help: 'Informer watches restarted after ending with an error, per resource.',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    invalidObjects: new Counter({
      name: 'locus_extender_invalid_objects_total',
      help: 'Node or Dataset objects that could not be used, per kind.',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    warmLeader: new Gauge({
      name: 'locus_extender_warm_leader',
      help: 'Warm-ahead: 1 on the replica holding the Lease (the one that plans and writes spec.warm), else 0.',
      registers: [registry],
    }),
    warmPods: new Gauge({
      name: 'locus_extender_warm_pods',
      help: 'Warm-ahead: queued pods and suspended Job indices given warm nodes by the last plan.',
      registers: [registry],
    }),
    warmPlannedBytes: new Gauge({
      name: 'locus_extender_warm_planned_bytes',
      help: 'Warm-ahead: bytes the last plan asked nodes to fetch ahead (what they missed), all nodes together.',
      registers: [registry],
    }),
    warmWrites: new Counter({
      name: 'locus_extender_warm_writes_total',
      help: 'Warm-ahead: NodeCache spec.warm writes, by outcome (ok, error).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
