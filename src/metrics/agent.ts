// Prometheus metrics of the node cache agent, in the agent's own registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface AgentMetrics {
  registry: Registry;
  /** Block reads served from local disk. */
  hits: Counter;
  /** Block reads that needed the remote (including readers that joined a fetch already running). */
  misses: Counter;
  /** Remote block fetches actually started (concurrent misses of one block start one). */
  fetches: Counter;
  /** Bytes sent to clients, by where they came from: `cache` or `remote`. */
  bytesServed: Counter<'source'>;
  evictions: Counter;
  /** Blocks dropped because an object's ETag changed. */
  invalidations: Counter;
  usedBytes: Gauge;
  capacityBytes: Gauge;
  blocks: Gauge;
  /** Time to write the NodeCache status, by outcome (`ok`, `conflict`, `error`). */
  reportSeconds: Histogram<'outcome'>;
  /** S3 requests by operation and HTTP status. */
  requests: Counter<'operation' | 'code'>;
}

export function agentMetrics(withProcessMetrics = false): AgentMetrics {
  const registry = new Registry();
  if (withProcessMetrics) collectDefaultMetrics({ register: registry, prefix: 'locus_agent_' });
  const registers = [registry];
  return {
    registry,
    hits: new Counter({ name: 'locus_agent_block_hits_total', help: 'Block reads served from the local cache.', registers }),
    misses: new Counter({ name: 'locus_agent_block_misses_total', help: 'Block reads that needed the remote object store.', registers }),
    fetches: new Counter({ name: 'locus_agent_remote_fetches_total', help: 'Blocks fetched from the remote object store.', registers }),
    bytesServed: new Counter({ name: 'locus_agent_served_bytes_total', help: 'Bytes sent to clients, by source (cache or remote).', labelNames: ['source'], registers }),
    evictions: new Counter({ name: 'locus_agent_evictions_total', help: 'Blocks evicted to stay within capacity.', registers }),
    invalidations: new Counter({ name: 'locus_agent_invalidations_total', help: 'Blocks dropped because their object changed (ETag).', registers }),
    usedBytes: new Gauge({ name: 'locus_agent_cache_used_bytes', help: 'Bytes of blocks on local disk.', registers }),
    capacityBytes: new Gauge({ name: 'locus_agent_cache_capacity_bytes', help: 'Configured cache capacity in bytes.', registers }),
    blocks: new Gauge({ name: 'locus_agent_cache_blocks', help: 'Blocks on local disk.', registers }),
    reportSeconds: new Histogram({
      name: 'locus_agent_report_seconds',
      help: 'Latency of NodeCache status writes, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    requests: new Counter({ name: 'locus_agent_s3_requests_total', help: 'S3 requests served, by operation and HTTP status.', labelNames: ['operation', 'code'], registers }),
  };
}
