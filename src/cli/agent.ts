// `locus agent`: the per-node read-through S3 block cache that publishes its node's NodeCache.
import { pino } from 'pino';
import { startAgent } from '../agent/agent.js';
import { ClusterDatasets, datasetsFromFile } from '../agent/dataset-sources.js';
import { ClusterSizedInterval, DEFAULT_INTERVAL_POLICY } from '../agent/report-interval.js';
import { DEFAULT_BLOCK_SIZE } from '../dataset/schema.js';
import { createKubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { agentMetrics } from '../metrics/agent.js';
import { numberFlag, parseFlags, UsageError } from './flags.js';

const USAGE = `usage: locus agent --upstream <url> [flags]

Serves the S3 read API (GetObject with Range, HeadObject, HeadBucket, ListObjectsV2; path-style) in
front of one object store, caching fixed-size blocks on local disk, and publishes what it holds as
the status of its node's NodeCache. Writes are refused with 403 AccessDenied. Credentials for the
upstream come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the SDK's default chain).

  --upstream <url>              the object store, e.g. http://minio.storage:9000 (required)
  --region <name>               its region (default us-east-1)
  --host <addr>                 listen address of the S3 and ops ports (default 0.0.0.0)
  --port <n>                    S3 port (default 9300)
  --ops-port <n>                /healthz and /metrics port (default 9301)
  --cache-dir <dir>             where blocks are kept (default /var/cache/locus)
  --capacity <size>             bytes of disk the cache may use, e.g. 200Gi (default 10Gi)
  --block-size <size>           block size for objects outside a catalogued Dataset (default 16Mi)
  --datasets <cluster|file>     Datasets to report on: watched in the cluster (default), or a YAML file
                                "datasets: [{namespace, name, bucket, prefix, blockSize}]"
  --advertise-url <url>         the agents' Service address; Datasets whose endpoint is this URL (or
                                --upstream) are read through the agent (default
                                http://locus-agent.locus-system.svc:9300)
  --relist-interval <seconds>   how long a file Dataset's listing is trusted (default 60)
  --node <name>                 node name, for the NodeCache (default $NODE_NAME)
  --no-publish                  do not write a NodeCache (standalone cache)
  --daemonset <ns/name>         the agents' DaemonSet, whose size sets the report interval
                                (default $POD_NAMESPACE/locus-agent)
  --report-interval <seconds>   fixed least time between writes of a changed inventory, instead
                                of sizing it from the DaemonSet (2 s up to 160 nodes … 60 s at 4,800)
  --refresh-interval <seconds>  rewrite an unchanged NodeCache after this long (default 600)
  --kubeconfig <file>           kubeconfig (default: KUBECONFIG, the pod's service account, ~/.kube/config)
  --context <name>              kubeconfig context
  --log-level <level>           pino level (default info)`;

const UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** `200Gi`, `16Mi`, `500M`, `1048576` → bytes. */
export function parseSize(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(|K|M|G|T|Ki|Mi|Gi|Ti)$/.exec(value.trim());
  if (!m) throw new UsageError(`--${flag} must be a size such as 16Mi, 200Gi or 1048576, got "${value}"`, USAGE);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]]);
  if (bytes <= 0) throw new UsageError(`--${flag} must be more than 0 bytes`, USAGE);
  return bytes;
}

export async function run(argv: string[]): Promise<number> {
  const { values: f } = parseFlags(argv, {
    upstream: { type: 'string' },
    region: { type: 'string', default: 'us-east-1' },
    host: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string' },
    'ops-port': { type: 'string' },
    'cache-dir': { type: 'string', default: '/var/cache/locus' },
    capacity: { type: 'string', default: '10Gi' },
    'block-size': { type: 'string', default: String(DEFAULT_BLOCK_SIZE) },
    datasets: { type: 'string', default: 'cluster' },
    'advertise-url': { type: 'string', default: 'http://locus-agent.locus-system.svc:9300' },
    'relist-interval': { type: 'string' },
    node: { type: 'string' },
    'no-publish': { type: 'boolean', default: false },
    daemonset: { type: 'string' },
    'report-interval': { type: 'string' },
    'refresh-interval': { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (f.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!f.upstream) throw new UsageError('--upstream is required: the URL of the object store the agent caches', USAGE);
  const capacityBytes = parseSize(f.capacity, 'capacity');
  const blockSize = parseSize(f['block-size'], 'block-size');
  const node = f.node ?? process.env.NODE_NAME;
  const publish = !f['no-publish'];
  if (publish && !node) throw new UsageError('--node (or $NODE_NAME) is required to publish a NodeCache; use --no-publish for a standalone cache', USAGE);
  const daemonSet = f.daemonset ?? `${process.env.POD_NAMESPACE ?? 'locus-system'}/locus-agent`;
  const [dsNamespace, dsName] = daemonSet.split('/');
  if (!dsNamespace || !dsName) throw new UsageError(`--daemonset must be <namespace>/<name>, got "${daemonSet}"`, USAGE);
  const fixedInterval = f['report-interval'] === undefined ? undefined : numberFlag(f['report-interval'], 'report-interval', USAGE, 0) * 1000;
  const refreshMs = numberFlag(f['refresh-interval'], 'refresh-interval', USAGE, 600) * 1000;

  const log = pino({ name: 'locus-agent', level: f['log-level'] });
  const needCluster = publish || f.datasets === 'cluster';
  const cluster = needCluster ? loadKubeConfig({ kubeconfig: f.kubeconfig, context: f.context }) : undefined;
  const client = cluster && createKubeClient(cluster.kc, { timeoutMs: 10_000, userAgent: 'locus-agent', fieldManager: 'locus-agent' });
  const env = process.env;
  const interval = client && fixedInterval === undefined
    ? new ClusterSizedInterval({
      client, daemonSet: { namespace: dsNamespace, name: dsName }, policy: DEFAULT_INTERVAL_POLICY,
      refreshMs, fallbackAgents: 1, now: Date.now, log,
    })
    : undefined;

  const agent = await startAgent({
    s3: { host: f.host, port: numberFlag(f.port, 'port', USAGE, 9300) },
    ops: { host: f.host, port: numberFlag(f['ops-port'], 'ops-port', USAGE, 9301) },
    cacheDir: f['cache-dir'],
    capacityBytes,
    blockSize,
    upstream: {
      endpoint: f.upstream,
      region: f.region,
      ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
        : {}),
    },
    relistMs: numberFlag(f['relist-interval'], 'relist-interval', USAGE, 60) * 1000,
    datasets: f.datasets === 'cluster' ? [] : await datasetsFromFile(f.datasets),
    ...(publish && client && node
      ? { publish: { client, node, refreshMs, interval: () => fixedInterval ?? interval!.get() } }
      : {}),
    log,
    metrics: agentMetrics(true),
  });

  const watcher = f.datasets === 'cluster' && cluster && client
    ? new ClusterDatasets(cluster.kc, client, [f.upstream, f['advertise-url']], (sources) => agent.setDatasets(sources), log)
    : undefined;
  await watcher?.start();

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('shutting down');
  await watcher?.stop();
  await agent.close();
  return 0;
}
