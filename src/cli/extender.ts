// `locus extender`: the kube-scheduler extender service, fed by informers on a cluster or by files.
import pino, { type Level } from 'pino';
import { isPolicyName, policyNames } from '../core/index.js';
import { DEFAULTS, startExtender } from '../extender/server.js';
import { parseBytes, parseDuration } from '../runtime/units.js';
import { FileSource } from '../inventory/file-source.js';
import type { InventorySource } from '../inventory/source.js';
import type { PodLike } from '../core/index.js';
import { UsageError, parseFlags } from './flags.js';

const USAGE = `usage: locus extender [flags]

Serves kube-scheduler's extender verbs (POST <prefix>/filter, <prefix>/prioritize), plus
GET/POST /v1/explain, /healthz, /readyz and /metrics. Reads Node, Dataset and NodeCache objects
from the cluster (read-only informers), or from files when --nodes/--datasets/--caches are given.

flags:
  --listen <host:port>     address to listen on (default ${DEFAULTS.host}:${DEFAULTS.port})
  --prefix <path>          URL prefix of the verbs, the path of the scheduler's urlPrefix (default ${DEFAULTS.prefix})
  --policy <name>          scoring policy: ${policyNames.join(' | ')} (default ${DEFAULTS.policy})
  --kubeconfig <file>      kubeconfig (default: KUBECONFIG, the pod's service account, ~/.kube/config)
  --context <name>         kubeconfig context to use
  --nodes <file>           Node objects (YAML or JSON; repeatable); files are reloaded when they change
  --datasets <file>        Dataset objects (repeatable)
  --caches <file>          NodeCache objects (repeatable)
  --ttl <duration>         a NodeCache not rewritten for this long counts as empty (default ${DEFAULTS.ttlMs / 60_000}m)
  --body-limit <size>      largest request body, e.g. 64Mi (default ${DEFAULTS.bodyLimit / 1024 / 1024}Mi)
  --zone-credit <0..1>     credit for a byte cached elsewhere in the node's zone (default 0.5)
  --region-credit <0..1>   credit for a byte cached elsewhere in the node's region (default 0.2)
  --log-level <level>      fatal | error | warn | info | debug | trace (default info; debug logs every decision)
  -h, --help               show this help`;

const options = {
  listen: { type: 'string' },
  prefix: { type: 'string' },
  policy: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  nodes: { type: 'string', multiple: true },
  datasets: { type: 'string', multiple: true },
  caches: { type: 'string', multiple: true },
  ttl: { type: 'string' },
  'body-limit': { type: 'string' },
  'zone-credit': { type: 'string' },
  'region-credit': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LEVELS: Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export interface ExtenderFlags {
  host: string;
  port: number;
  prefix: string;
  policy: (typeof policyNames)[number];
  ttlMs: number;
  bodyLimit: number;
  scoring: { zoneCredit?: number; regionCredit?: number };
  logLevel: Level;
  files?: { nodes?: string[]; datasets?: string[]; caches?: string[] };
  kubeconfig?: string;
  context?: string;
}

/** Parses and checks the flags; every mistake names the flag and the expected form. */
export function parseExtenderFlags(argv: string[]): ExtenderFlags | 'help' {
  const { values: v } = parseFlags(argv, options, USAGE);
  if (v.help) return 'help';
  const fail = (message: string): never => {
    throw new UsageError(message, USAGE);
  };
  const listen = v.listen ?? `${DEFAULTS.host}:${DEFAULTS.port}`;
  const m = /^(.*):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) fail(`--listen must be <host>:<port>, e.g. 0.0.0.0:8888, got "${listen}"`);
  const policy = v.policy ?? DEFAULTS.policy;
  if (!isPolicyName(policy)) fail(`--policy must be one of ${policyNames.join(', ')}, got "${policy}"`);
  const ttlMs = v.ttl === undefined ? DEFAULTS.ttlMs : parseDuration(v.ttl);
  if (!(ttlMs! > 0)) fail(`--ttl must be a positive duration such as 15m, 90s or 500ms, got "${v.ttl}"`);
  const bodyLimit = v['body-limit'] === undefined ? DEFAULTS.bodyLimit : parseBytes(v['body-limit']);
  if (!(bodyLimit! > 0)) fail(`--body-limit must be a size such as 64Mi or 1048576, got "${v['body-limit']}"`);
  const credit = (flag: 'zone-credit' | 'region-credit') => {
    const text = v[flag];
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === '' || !(n >= 0 && n <= 1)) fail(`--${flag} must be a number from 0 to 1, got "${text}"`);
    return n;
  };
  const logLevel = (v['log-level'] ?? 'info') as Level;
  if (!LEVELS.includes(logLevel)) fail(`--log-level must be one of ${LEVELS.join(', ')}, got "${v['log-level']}"`);
  const fromFiles = v.nodes !== undefined || v.datasets !== undefined || v.caches !== undefined;
  if (fromFiles && (v.kubeconfig !== undefined || v.context !== undefined)) {
    fail('use either files (--nodes/--datasets/--caches) or a cluster (--kubeconfig/--context), not both');
  }
  const scoring: ExtenderFlags['scoring'] = {};
  const zone = credit('zone-credit');
  const region = credit('region-credit');
  if (zone !== undefined) scoring.zoneCredit = zone;
  if (region !== undefined) scoring.regionCredit = region;
  return {
    host: m![1].replace(/^\[|\]$/g, ''),
    port: Number(m![2]),
    prefix: v.prefix ?? DEFAULTS.prefix,
    policy: policy as ExtenderFlags['policy'],
    ttlMs: ttlMs!,
    bodyLimit: bodyLimit!,
    scoring,
    logLevel,
    files: fromFiles ? { nodes: v.nodes, datasets: v.datasets, caches: v.caches } : undefined,
    kubeconfig: v.kubeconfig,
    context: v.context,
  };
}

export async function run(argv: string[]): Promise<number> {
  const flags = parseExtenderFlags(argv);
  if (flags === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger = pino({ level: flags.logLevel, base: { component: 'extender' } });
  let source: InventorySource;
  let readPod: ((namespace: string, name: string) => Promise<PodLike | undefined>) | undefined;
  if (flags.files) {
    source = new FileSource({
      ...flags.files,
      onError: (file, err) => logger.warn({ file }, `${err.message}; keeping what was loaded before`),
      onLoad: (file, objects) => logger.info({ file, objects }, 'loaded'),
    });
  } else {
    // Loaded only for a cluster: client-node takes seconds to import, files need none of it.
    const [{ KubeSource }, { createKubeClient }, { loadKubeConfig }, { PODS }] = await Promise.all([
      import('../inventory/kube-source.js'), import('../kube/client.js'), import('../kube/config.js'), import('../kube/resources.js'),
    ]);
    const { kc, source: from } = loadKubeConfig({ kubeconfig: flags.kubeconfig, context: flags.context });
    logger.info({ kubeconfig: from, server: kc.getCurrentCluster()?.server }, 'watching the cluster');
    const client = createKubeClient(kc, { userAgent: 'locus-extender' });
    source = new KubeSource(kc, client);
    readPod = (namespace, name) => client.get(PODS, { namespace, name });
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
  });
  logger.info({ url: ext.url, prefix: ext.prefix, policy: flags.policy }, 'listening');
  const signalled = new Promise<'signal'>((resolve) => {
    const stop = () => resolve('signal');
    process.once('SIGTERM', stop).once('SIGINT', stop);
  });
  // Files that cannot be loaded at start end the process; informers retry until a signal.
  const failed = ext.synced.then(() => new Promise<never>(() => {}), () => 'failed' as const);
  const why = await Promise.race([signalled, failed]);
  logger.info({ why }, 'shutting down');
  await ext.close();
  return why === 'failed' ? 1 : 0;
}
