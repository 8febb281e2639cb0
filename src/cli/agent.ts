// `locus agent`: the per-node read-through S3 block cache that publishes its node's NodeCache.
import { readFile } from 'node:fs/promises';
import { parseAgentKeys } from '../api/agent-credentials.js';
import { DEFAULT_BLOCK_SIZE } from '../api/dataset.js';
import { defineCommand, KUBE_FLAGS } from '../runtime/flags.js';
import { createLogger } from '../runtime/logger.js';
import { AGENT_REFRESH_MS, checkFreshness, NODECACHE_TTL_MS } from '../runtime/settings.js';
import { untilStopped } from '../runtime/signals.js';

const command = defineCommand({
  name: 'agent',
  synopsis: '--upstream <url> [flags]',
  description: `Serves the S3 read API (GetObject with Range, HeadObject, HeadBucket, ListObjectsV2; path-style) in
front of one object store, caching fixed-size blocks on local disk, and publishes what it holds as
the status of its node's NodeCache. Writes are refused with 403 AccessDenied. Credentials for the
upstream come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the SDK's default chain).`,
  flags: {
    upstream: { kind: 'string', arg: '<url>', help: 'the object store, e.g. http://minio.storage:9000 (required)' },
    region: { kind: 'string', arg: '<name>', help: 'its region', default: 'us-east-1' },
    listen: { kind: 'listen', help: 'address of the S3 API', default: { host: '0.0.0.0', port: 9300 } },
    'ops-listen': { kind: 'listen', help: 'address of /healthz, /readyz and /metrics', default: { host: '0.0.0.0', port: 9301 } },
    'cache-dir': { kind: 'string', arg: '<dir>', help: 'where blocks are kept', default: '/var/cache/locus' },
    capacity: { kind: 'size', help: 'disk the cache may use, e.g. 200Gi', default: 10 * 2 ** 30 },
    'block-size': { kind: 'size', help: 'block size for objects outside a Dataset with a catalog', default: DEFAULT_BLOCK_SIZE },
    datasets: {
      kind: 'string',
      arg: '<cluster|file>',
      help: 'Datasets to report on: watched in the cluster, or a YAML file\n"datasets: [{namespace, name, bucket, prefix, blockSize}]"',
      default: 'cluster',
    },
    'advertise-url': {
      kind: 'string',
      arg: '<url>',
      help: "the agents' Service address; Datasets whose endpoint is this URL (or\n--upstream) are read through the agent",
      default: 'http://locus-agent.locus-system.svc:9300',
    },
    'pin-share': {
      kind: 'number',
      arg: '<0..0.9>',
      min: 0,
      max: 0.9,
      help: 'share of --capacity that blocks the pods bound to (or queued for) this node\nwill read keep against eviction (0: plain LRU)',
      default: 0.5,
    },
    'prefetch-pod-budget': { kind: 'size', help: "bytes of each bound pod's slices fetched ahead", default: 64 * 2 ** 30 },
    'prefetch-node-budget': {
      kind: 'size',
      help: 'bytes fetched ahead for all bound and queued pods together (default: the\npinned share of --capacity, so nothing fetched ahead is evicted before it is read)',
    },
    'prefetch-concurrency': { kind: 'count', help: 'blocks fetched ahead at once; 0 fetches nothing ahead', default: 2 },
    'peer-timeout': {
      kind: 'duration',
      help: 'longest a block read from a peer agent of the zone may take before the\nobject store is read instead; 0 asks no peer',
      min: 0,
      default: 5_000,
    },
    'peer-url': {
      kind: 'string',
      arg: '<url>',
      help: "this agent's S3 address for peers, written to its NodeCache (default\nhttp://$POD_IP:<--listen port>; none: no peer reads from this node)",
    },
    zone: { kind: 'string', arg: '<name>', help: "the node's zone for peer fill (default its topology.kubernetes.io/zone label)" },
    'zone-copies': {
      kind: 'count',
      min: 1,
      max: 16,
      help: "copies of a block the zone keeps when capacity is tight: this node's copy of a\nblock that many other agents of the zone hold is evicted first (a Dataset's\nspec.cache.zoneCopies overrides it)",
      default: 1,
    },
    'relist-interval': { kind: 'duration', help: "how long a file Dataset's listing is trusted", default: 60_000 },
    node: { kind: 'string', arg: '<name>', help: 'node name, for the NodeCache (default $NODE_NAME)' },
    'no-publish': { kind: 'boolean', help: 'do not write a NodeCache (standalone cache)' },
    'auth-key-file': {
      kind: 'string',
      arg: '<file>',
      help: 'agent keys, one per line (the first current): S3 requests must be signed with\nthe credentials the operator derives from them for a Dataset (required unless --no-auth)',
    },
    'no-auth': {
      kind: 'boolean',
      help: 'serve every bucket the upstream credentials open to anyone who reaches the port\n(a standalone cache on a trusted host only)',
    },
    daemonset: { kind: 'string', arg: '<ns/name>', help: "the agents' DaemonSet, whose size sets the report interval\n(default $POD_NAMESPACE/locus-agent)" },
    'report-interval': {
      kind: 'duration',
      help: 'fixed least time between writes of a changed inventory, instead of\nsizing it from the DaemonSet (2s up to 160 nodes … 1m at 4,800)',
    },
    'refresh-interval': { kind: 'duration', help: 'rewrite an unchanged NodeCache after this long', default: AGENT_REFRESH_MS },
    ttl: { kind: 'duration', help: "the extenders' NodeCache TTL (their --ttl); --refresh-interval must be shorter", default: NODECACHE_TTL_MS },
    ...KUBE_FLAGS,
  },
});

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parseOrHelp(argv);
  if (!parsed) return 0;
  const f = parsed.values;
  if (!f.upstream) command.fail('--upstream is required: the URL of the object store the agent caches');
  const upstream = f.upstream!;
  const node = f.node ?? process.env.NODE_NAME;
  const publish = !f['no-publish'];
  if (publish && !node) command.fail('--node (or $NODE_NAME) is required to publish a NodeCache; use --no-publish for a standalone cache');
  const daemonSet = f.daemonset ?? `${process.env.POD_NAMESPACE ?? 'locus-system'}/locus-agent`;
  const [dsNamespace, dsName] = daemonSet.split('/');
  if (!dsNamespace || !dsName) command.fail(`--daemonset must be <namespace>/<name>, got "${daemonSet}"`);
  if (!f['auth-key-file'] === !f['no-auth'])
    command.fail('give --auth-key-file <file> (reads signed with Dataset credentials) or, for a standalone cache on a trusted host, --no-auth');
  const peerUrlFlag = f['peer-url'];
  if (peerUrlFlag !== undefined && !/^https?:\/\/[^/]+\/?$/.test(peerUrlFlag)) {
    command.fail(`--peer-url must be http(s)://<host>:<port>, the address other agents reach this one's S3 port at; got "${peerUrlFlag}"`);
  }
  const nodeBudget = f['prefetch-node-budget'] ?? Math.floor(f['pin-share'] * f.capacity);
  const fixedInterval = f['report-interval'];
  const refreshMs = f['refresh-interval'];
  if (publish) checkFreshness(f.ttl, refreshMs, { ttl: '--ttl', refresh: '--refresh-interval' });

  // Loaded after the flags are read, so --help and usage errors answer at once.
  const [
    { startAgent },
    { ClusterDatasets, datasetsFromFile },
    { ClusterSizedInterval, DEFAULT_INTERVAL_POLICY },
    { createKubeClient },
    { loadKubeConfig },
    { agentMetrics },
    { nodeZone },
  ] = await Promise.all([
    import('../agent/agent.js'),
    import('../agent/dataset-sources.js'),
    import('../agent/report-interval.js'),
    import('../kube/client.js'),
    import('../kube/config.js'),
    import('../metrics/agent.js'),
    import('../agent/peer-directory.js'),
  ]);
  const log = createLogger('agent', f['log-level']);
  const keyFile = f['auth-key-file'];
  const auth = keyFile ? { keys: parseAgentKeys(await readFile(keyFile, 'utf8'), keyFile) } : undefined;
  const needCluster = publish || f.datasets === 'cluster';
  const cluster = needCluster ? loadKubeConfig({ kubeconfig: f.kubeconfig, context: f.context }) : undefined;
  const client = cluster && createKubeClient(cluster.kc, { timeoutMs: 10_000, userAgent: 'locus-agent', fieldManager: 'locus-agent' });
  const env = process.env;
  const peerUrl = peerUrlFlag ?? (env.POD_IP ? `http://${env.POD_IP.includes(':') ? `[${env.POD_IP}]` : env.POD_IP}:${f.listen.port}` : undefined);
  // Peers are asked only within the zone, so an agent whose zone is unknown asks none.
  let peers;
  if (client && cluster && node && f['peer-timeout'] > 0) {
    try {
      const zone = f.zone ?? (await nodeZone(client, node));
      peers = {
        kc: cluster.kc,
        client,
        node,
        zone,
        ...(peerUrl ? { url: peerUrl } : {}),
        timeoutMs: f['peer-timeout'],
        ttlMs: f.ttl,
        zoneCopies: f['zone-copies'],
      };
    } catch (err) {
      log.warn({ err, node }, "could not read the node's zone: peer fill is off until the agent restarts");
    }
  }
  const interval =
    client && fixedInterval === undefined
      ? new ClusterSizedInterval({
          client,
          daemonSet: { namespace: dsNamespace, name: dsName },
          policy: DEFAULT_INTERVAL_POLICY,
          refreshMs,
          fallbackAgents: 1,
          now: Date.now,
          log,
        })
      : undefined;

  const agent = await startAgent({
    s3: f.listen,
    ops: f['ops-listen'],
    cacheDir: f['cache-dir'],
    capacityBytes: f.capacity,
    blockSize: f['block-size'],
    upstream: {
      endpoint: upstream,
      region: f.region,
      ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
        : {}),
    },
    relistMs: f['relist-interval'],
    datasets: f.datasets === 'cluster' ? [] : await datasetsFromFile(f.datasets),
    ...(publish && client && node ? { publish: { client, node, refreshMs, interval: () => fixedInterval ?? interval!.get() } } : {}),
    ...(auth ? { auth } : {}),
    ...(peers ? { peers } : {}),
    ...(cluster && client && node ? { boundPods: { kc: cluster.kc, client, node } } : {}),
    pinShare: f['pin-share'],
    prefetch: { podBudgetBytes: f['prefetch-pod-budget'], nodeBudgetBytes: nodeBudget, concurrency: f['prefetch-concurrency'] },
    log,
    metrics: agentMetrics(true),
  });

  const watcher =
    f.datasets === 'cluster' && cluster && client
      ? new ClusterDatasets(cluster.kc, client, [upstream, f['advertise-url']], (sources) => agent.setDatasets(sources), log)
      : undefined;
  await watcher?.start();

  const why = await untilStopped();
  log.info({ why }, 'shutting down');
  await watcher?.stop();
  await agent.close();
  return 0;
}
