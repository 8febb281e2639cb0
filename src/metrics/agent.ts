// Prometheus metrics of the node cache agent, in the agent's own registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { componentRegistry } from './registry.js';

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
  /** Blocks (and their bytes) written to the cache, by where they came from: `peer` (an agent of the zone) or `upstream`. */
  filledBlocks: Counter<'source'>;
  filledBytes: Counter<'source'>;
  /** Peer reads that failed (the block was then read upstream), by reason: timeout, unreachable, transfer, status, size, checksum. */
  peerFailures: Counter<'reason'>;
  /** Blocks evicted, by reason: `capacity` (room for a new block) or `disk-full` (the capacity lowered after ENOSPC). */
  evictions: Counter<'reason'>;
  /** Of those, blocks the zone held enough copies of elsewhere (evicted before any other unpinned block). */
  surplusEvictions: Counter;
  /** Bytes and blocks on disk kept against eviction because pods bound to the node will read them. */
  pinnedBytes: Gauge;
  pinnedBlocks: Gauge;
  /** Blocks (and their bytes) fetched ahead, `for` pods bound to the node or queued work planned for it (warm-ahead). */
  prefetchedBlocks: Counter<'for'>;
  prefetchedBytes: Counter<'for'>;
  /** Queued work (spec.warm items of the node's NodeCache) whose Datasets are prefetched. */
  warmPods: Gauge;
  /** Blocks planned for prefetch and not yet fetched. */
  prefetchQueued: Gauge;
  /** Planned blocks dropped because no bound pod wants them any more (deleted or finished). */
  prefetchCancelled: Counter;
  /** Prefetches that failed (the remote's error) or could not be kept on disk. */
  prefetchFailed: Counter;
  /** Pods bound to the node whose Datasets are prefetched. */
  prefetchPods: Gauge;
  /** Blocks dropped because an object's ETag changed. */
  invalidations: Counter;
  /** Cached blocks dropped because their bytes failed their checksum (read) or their file its seal (start). */
  corruptBlocks: Counter;
  /** Block writes that found the disk full (ENOSPC); each lowers the capacity to what fits. */
  diskFull: Counter;
  usedBytes: Gauge;
  capacityBytes: Gauge;
  blocks: Gauge;
  /** When the NodeCache status last written was taken (its updatedAt), Unix seconds: what the TTL is measured from. */
  lastReport: Gauge;
  /** Time to write the NodeCache status, by outcome (`ok`, `conflict`, `error`). */
  reportSeconds: Histogram<'outcome'>;
  /** S3 requests by operation and HTTP status. */
  requests: Counter<'operation' | 'code'>;
}

export function agentMetrics(withProcessMetrics = false): AgentMetrics {
  const registry = componentRegistry('agent', withProcessMetrics);
  const registers = [registry];
  return {
    registry,
    hits: new Counter({ name: 'locus_agent_block_hits_total', help: 'Block reads served from the local cache.', registers }),
    misses: new Counter({ name: 'locus_agent_block_misses_total', help: 'Block reads that needed the remote object store.', registers }),
    fetches: new Counter({
      name: 'locus_agent_remote_fetches_total',
      help: 'Block fetches started, from a peer agent or the object store (see locus_agent_filled_blocks_total).',
      registers,
    }),
    bytesServed: new Counter({
      name: 'locus_agent_served_bytes_total',
      help: 'Bytes sent to clients, by source (cache or remote).',
      labelNames: ['source'],
      registers,
    }),
    filledBlocks: new Counter({
      name: 'locus_agent_filled_blocks_total',
      help: 'Blocks written to the cache, by source: peer (an agent of the zone) or upstream (the object store).',
      labelNames: ['source'],
      registers,
    }),
    filledBytes: new Counter({
      name: 'locus_agent_filled_bytes_total',
      help: 'Bytes of blocks written to the cache, by source: peer (an agent of the zone) or upstream (the object store).',
      labelNames: ['source'],
      registers,
    }),
    peerFailures: new Counter({
      name: 'locus_agent_peer_failures_total',
      help: 'Peer block reads that failed and were read from the object store instead, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    evictions: new Counter({
      name: 'locus_agent_evictions_total',
      help: 'Blocks evicted to stay within capacity, by reason (capacity, disk-full); pinned blocks are not evicted.',
      labelNames: ['reason'],
      registers,
    }),
    surplusEvictions: new Counter({
      name: 'locus_agent_surplus_evictions_total',
      help: 'Evicted blocks of which the zone held --zone-copies copies on other nodes (they go first).',
      registers,
    }),
    pinnedBytes: new Gauge({ name: 'locus_agent_pinned_bytes', help: 'Bytes of blocks kept against eviction for pods bound to the node.', registers }),
    pinnedBlocks: new Gauge({ name: 'locus_agent_pinned_blocks', help: 'Blocks kept against eviction for pods bound to the node.', registers }),
    prefetchedBlocks: new Counter({
      name: 'locus_agent_prefetched_blocks_total',
      help: 'Blocks fetched ahead, for pods bound to the node (for="bound") or queued work planned for it (for="queued").',
      labelNames: ['for'] as const,
      registers,
    }),
    prefetchedBytes: new Counter({
      name: 'locus_agent_prefetched_bytes_total',
      help: 'Bytes of blocks fetched ahead, for pods bound to the node (for="bound") or queued work planned for it (for="queued").',
      labelNames: ['for'] as const,
      registers,
    }),
    warmPods: new Gauge({ name: 'locus_agent_warm_pods', help: "Queued work (its NodeCache's spec.warm items) whose Datasets are prefetched.", registers }),
    prefetchQueued: new Gauge({ name: 'locus_agent_prefetch_queued_blocks', help: 'Blocks planned for prefetch and not yet fetched.', registers }),
    prefetchCancelled: new Counter({
      name: 'locus_agent_prefetch_cancelled_blocks_total',
      help: 'Planned prefetches dropped because no bound pod wants the block any more.',
      registers,
    }),
    prefetchFailed: new Counter({
      name: 'locus_agent_prefetch_failed_blocks_total',
      help: 'Prefetches that failed at the remote or could not be kept on disk.',
      registers,
    }),
    prefetchPods: new Gauge({ name: 'locus_agent_prefetch_pods', help: 'Pods bound to the node whose Datasets are prefetched.', registers }),
    invalidations: new Counter({ name: 'locus_agent_invalidations_total', help: 'Blocks dropped because their object changed (ETag).', registers }),
    corruptBlocks: new Counter({
      name: 'locus_agent_corrupt_blocks_total',
      help: 'Cached blocks dropped because they failed their checksum; they are fetched again.',
      registers,
    }),
    diskFull: new Counter({
      name: 'locus_agent_disk_full_total',
      help: 'Block writes that found the cache disk full (ENOSPC); the capacity is lowered to what fits.',
      registers,
    }),
    usedBytes: new Gauge({ name: 'locus_agent_cache_used_bytes', help: 'Bytes of blocks on local disk.', registers }),
    capacityBytes: new Gauge({ name: 'locus_agent_cache_capacity_bytes', help: 'Configured cache capacity in bytes.', registers }),
    blocks: new Gauge({ name: 'locus_agent_cache_blocks', help: 'Blocks on local disk.', registers }),
    lastReport: new Gauge({
      name: 'locus_agent_last_report_timestamp_seconds',
      help: 'updatedAt of the NodeCache status last written (Unix seconds); extenders count the node empty once it is older than their TTL.',
      registers,
    }),
    reportSeconds: new Histogram({
      name: 'locus_agent_report_seconds',
      help: 'Latency of NodeCache status writes, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    requests: new Counter({
      name: 'locus_agent_s3_requests_total',
      help: 'S3 requests served, by operation and HTTP status.',
      labelNames: ['operation', 'code'],
      registers,
    }),
  };
}
