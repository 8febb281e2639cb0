// `locus extender`: the kube-scheduler extender service, fed by informers on a cluster or by files.
import { policyNames, type PodLike } from '../core/index.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULTS, startExtender, type ExtenderOptions } from '../extender/server.js';
import type { WarmAheadSettings } from '../extender/warm-ahead.js';
import { FileSource } from '../inventory/file-source.js';
import type { InventorySource } from '../inventory/source.js';
import { defineCommand, KUBE_FLAGS } from '../runtime/flags.js';
import { createLogger } from '../runtime/logger.js';
import { AGENT_REFRESH_MS, checkFreshness, NODECACHE_TTL_MS, SCORING_CREDITS } from '../runtime/settings.js';
import { untilStopped } from '../runtime/signals.js';

/** Warm-ahead settings besides the budgets (coordination.k8s.io Lease timings as client-go's). */
export const WARM_DEFAULTS = {
  afterMs: 30_000,
  nodesPerPod: 1,
  schedulerNames: ['locus-scheduler'],
  intervalMs: 5_000,
  leaseName: 'locus-extender-warm-ahead',
  leaseDurationMs: 15_000,
  leaseRetryMs: 2_000,
};

const command = defineCommand({
  name: 'extender',
  description: `Serves kube-scheduler's extender verbs (POST <prefix>/filter, <prefix>/prioritize), plus
GET/POST /v1/explain, /healthz, /readyz and /metrics. Reads Node, Dataset and NodeCache objects
from the cluster (read-only informers), or from files when --nodes/--datasets/--caches are given.
With --warm-budget, the replica holding a Lease also writes the queued work each node warms
ahead into its NodeCache (spec.warm).`,
  flags: {
    listen: { kind: 'listen', help: 'address to listen on', default: { host: DEFAULTS.host, port: DEFAULTS.port } },
    prefix: { kind: 'string', arg: '<path>', help: "URL prefix of the verbs, the path of the scheduler's urlPrefix", default: DEFAULTS.prefix },
    policy: { kind: 'string', arg: '<name>', help: 'scoring policy', choices: policyNames, default: DEFAULTS.policy },
    ...KUBE_FLAGS,
    nodes: { kind: 'strings', arg: '<file>', help: 'Node objects (YAML or JSON; repeatable); files are reloaded when they change' },
    datasets: { kind: 'strings', arg: '<file>', help: 'Dataset objects (repeatable)' },
    caches: { kind: 'strings', arg: '<file>', help: 'NodeCache objects (repeatable)' },
    ttl: { kind: 'duration', help: 'a NodeCache not rewritten for this long counts as empty', default: NODECACHE_TTL_MS },
    'agent-refresh-interval': {
      kind: 'duration',
      help: 'how often the agents rewrite an unchanged NodeCache (their --refresh-interval);\n--ttl must be longer',
      default: AGENT_REFRESH_MS,
    },
    'body-limit': { kind: 'size', help: 'largest request body', default: DEFAULTS.bodyLimit },
    'zone-credit': {
      kind: 'number',
      arg: '<0..1>',
      min: 0,
      max: 1,
      help: "credit for a byte cached elsewhere in the node's zone",
      default: SCORING_CREDITS.zoneCredit,
    },
    'region-credit': {
      kind: 'number',
      arg: '<0..1>',
      min: 0,
      max: 1,
      help: "credit for a byte cached elsewhere in the node's region",
      default: SCORING_CREDITS.regionCredit,
    },
    'warm-budget': {
      kind: 'size',
      help: "warm-ahead: bytes of queued pods' slices the nodes fetch ahead at once,\nall nodes together (default: off)",
    },
    'warm-node-budget': { kind: 'size', help: 'warm-ahead: bytes one node fetches ahead at once (default: --warm-budget)' },
    'warm-after': { kind: 'duration', help: 'warm-ahead: how long a pod must have been unschedulable first', default: WARM_DEFAULTS.afterMs },
    'warm-nodes': { kind: 'count', min: 1, help: 'warm-ahead: nodes that warm each queued pod', default: WARM_DEFAULTS.nodesPerPod },
    'warm-scheduler-name': {
      kind: 'strings',
      arg: '<name>',
      help: `warm-ahead: the schedulers whose pods are planned for (repeatable;\ndefault ${WARM_DEFAULTS.schedulerNames.join(', ')})`,
    },
    'warm-interval': { kind: 'duration', help: 'warm-ahead: how often the leading replica plans', default: WARM_DEFAULTS.intervalMs },
    'warm-lease-namespace': {
      kind: 'string',
      arg: '<namespace>',
      help: 'warm-ahead: namespace of the Lease the replicas elect the planner with\n(default $POD_NAMESPACE, else locus-system)',
    },
  },
});

export interface ExtenderFlags {
  host: string;
  port: number;
  prefix: string;
  policy: (typeof policyNames)[number];
  ttlMs: number;
  bodyLimit: number;
  scoring: { zoneCredit: number; regionCredit: number };
  logLevel: string;
  files?: { nodes: string[]; datasets: string[]; caches: string[] };
  kubeconfig?: string;
  context?: string;
  /** Warm-ahead, when --warm-budget is set. */
  warm?: Omit<WarmAheadSettings, 'lease'> & { leaseNamespace: string };
}

/** Parses and checks the flags; every mistake names the flag and the expected form. */
export function parseExtenderFlags(argv: string[]): ExtenderFlags | 'help' {
  const parsed = command.parse(argv);
  if (parsed === 'help') return 'help';
  const v = parsed.values;
  const fromFiles = v.nodes.length + v.datasets.length + v.caches.length > 0;
  if (fromFiles && (v.kubeconfig !== undefined || v.context !== undefined)) {
    command.fail('use either files (--nodes/--datasets/--caches) or a cluster (--kubeconfig/--context), not both');
  }
  checkFreshness(v.ttl, v['agent-refresh-interval'], { ttl: '--ttl', refresh: '--agent-refresh-interval' });
  const budget = v['warm-budget'];
  if (budget === undefined) {
    const given = {
      'warm-node-budget': v['warm-node-budget'] !== undefined,
      'warm-scheduler-name': v['warm-scheduler-name'].length > 0,
      'warm-lease-namespace': v['warm-lease-namespace'] !== undefined,
    };
    const stray = Object.entries(given).find(([, set]) => set)?.[0];
    if (stray) command.fail(`--${stray} has no effect without --warm-budget <size>, which turns warm-ahead on`);
  } else if (fromFiles) {
    command.fail('--warm-budget needs a cluster (--kubeconfig or in-cluster): warm-ahead watches pods and writes NodeCaches');
  }
  return {
    host: v.listen.host,
    port: v.listen.port,
    prefix: v.prefix,
    policy: v.policy as ExtenderFlags['policy'],
    ttlMs: v.ttl,
    bodyLimit: v['body-limit'],
    scoring: { zoneCredit: v['zone-credit'], regionCredit: v['region-credit'] },
    logLevel: v['log-level'],
    files: fromFiles ? { nodes: v.nodes, datasets: v.datasets, caches: v.caches } : undefined,
    kubeconfig: v.kubeconfig,
    context: v.context,
    ...(budget !== undefined
      ? {
          warm: {
            clusterBytes: budget,
            nodeBytes: v['warm-node-budget'] ?? budget,
            afterMs: v['warm-after'],
            nodesPerPod: v['warm-nodes'],
            schedulerNames: v['warm-scheduler-name'].length > 0 ? v['warm-scheduler-name'] : WARM_DEFAULTS.schedulerNames,
            intervalMs: v['warm-interval'],
            leaseNamespace: v['warm-lease-namespace'] ?? process.env.POD_NAMESPACE ?? 'locus-system',
          },
        }
      : {}),
  };
}

export async function run(argv: string[]): Promise<number> {
  const flags = parseExtenderFlags(argv);
  if (flags === 'help') {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  const logger = createLogger('extender', flags.logLevel);
  let source: InventorySource;
  let readPod: ((namespace: string, name: string) => Promise<PodLike | undefined>) | undefined;
  let warm: ExtenderOptions['warm'];
  if (flags.files) {
    source = new FileSource({
      ...flags.files,
      onError: (file, err) => logger.warn({ file }, `${err.message}; keeping what was loaded before`),
      onLoad: (file, objects) => logger.info({ file, objects }, 'loaded'),
    });
  } else {
    // Loaded only for a cluster: client-node takes seconds to import, files need none of it.
    const [{ KubeSource }, { createKubeClient }, { loadKubeConfig }, { PODS }] = await Promise.all([
      import('../inventory/kube-source.js'),
      import('../kube/client.js'),
      import('../kube/config.js'),
      import('../kube/resources.js'),
    ]);
    const { kc, source: from } = loadKubeConfig({ kubeconfig: flags.kubeconfig, context: flags.context });
    logger.info({ kubeconfig: from, server: kc.getCurrentCluster()?.server }, 'watching the cluster');
    const client = createKubeClient(kc, { userAgent: 'locus-extender' });
    source = new KubeSource(kc, client);
    readPod = (namespace, name) => client.get(PODS, { namespace, name });
    if (flags.warm) {
      const { leaseNamespace, ...settings } = flags.warm;
      // Unique per process: a restarted replica is a new candidate.
      const identity = `${process.env.POD_NAME ?? hostname()}-${randomUUID().slice(0, 8)}`;
      const lease = {
        namespace: leaseNamespace,
        name: WARM_DEFAULTS.leaseName,
        identity,
        durationMs: WARM_DEFAULTS.leaseDurationMs,
        retryMs: WARM_DEFAULTS.leaseRetryMs,
      };
      warm = { kc, client, settings: { ...settings, lease } };
    }
  }
  const ext = await startExtender({
    host: flags.host,
    port: flags.port,
    prefix: flags.prefix,
    policy: flags.policy,
    ttlMs: flags.ttlMs,
    bodyLimit: flags.bodyLimit,
    scoring: flags.scoring,
    logger,
    source,
    readPod,
    defaultMetrics: true,
    ...(warm ? { warm } : {}),
  });
  logger.info({ url: ext.url, prefix: ext.prefix, policy: flags.policy }, 'listening');
  // Files that cannot be loaded at start end the process; informers retry until a signal.
  const why = await untilStopped(ext.synced);
  logger.info({ why }, 'shutting down');
  await ext.close();
  return why === 'failed' ? 1 : 0;
}
