// `locus operator`: reconciles Dataset objects into Secrets, ConfigMaps, PVCs (and PVs for NFS and
// HOST), records catalogues and the pods-per-Dataset audit in their status.
import pino, { type Level } from 'pino';
import { parseDuration } from '../runtime/units.js';
import { createKubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { DEFAULT_CONFIG, type OperatorConfig } from '../operator/config.js';
import { startOperator } from '../operator/server.js';
import { parseFlags, UsageError } from './flags.js';

const USAGE = `usage: locus operator [flags]

Reconciles Dataset objects (datasets.locus.dev) into an owned Secret (<name>-credentials), ConfigMap
(<name>) and PVC (<name>) bound through the S3 or NFS CSI driver's StorageClass (a hostPath PV for
HOST), lists object-store Datasets into status.catalog, and records which pods use each Dataset in
status.usage. Serves /healthz, /readyz and /metrics.

flags:
  --listen <host:port>          address of /healthz, /readyz and /metrics (default 0.0.0.0:8080)
  --kubeconfig <file>           kubeconfig (default: KUBECONFIG, the pod's service account, ~/.kube/config)
  --context <name>              kubeconfig context to use
  --namespace <ns>              reconcile Datasets of this namespace only (default: all namespaces)
  --catalog-interval <duration> list object-store Datasets again after this long, e.g. 10m (default ${DEFAULT_CONFIG.catalogIntervalMs / 60_000}m)
  --storage-class-s3 <name>     StorageClass of the S3 CSI driver (default ${DEFAULT_CONFIG.storageClassS3})
  --storage-class-nfs <name>    StorageClass of the NFS CSI driver (default ${DEFAULT_CONFIG.storageClassNfs})
  --nfs-driver <name>           CSI driver named in NFS PersistentVolumes (default ${DEFAULT_CONFIG.nfsDriver})
  --hive-metastore <uri>        Hive metastore for spec.remote entries without catalogURI, thrift://<host>:<port>
  --pod-name-limit <n>          most pod names kept in status.usage.podNames (default ${DEFAULT_CONFIG.podNameLimit})
  --volume-size <quantity>      capacity the PVCs request (default ${DEFAULT_CONFIG.volumeSize})
  --workers <n>                 Datasets reconciled at once (default 2)
  --log-level <level>           fatal | error | warn | info | debug | trace (default info)
  -h, --help                    show this help`;

const options = {
  listen: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string' },
  'catalog-interval': { type: 'string' },
  'storage-class-s3': { type: 'string' },
  'storage-class-nfs': { type: 'string' },
  'nfs-driver': { type: 'string' },
  'hive-metastore': { type: 'string' },
  'pod-name-limit': { type: 'string' },
  'volume-size': { type: 'string' },
  workers: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LEVELS: Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export interface OperatorFlags {
  host: string;
  port: number;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  config: OperatorConfig;
  workers: number;
  logLevel: Level;
}

/** Parses and checks the flags; every mistake names the flag and the expected form. */
export function parseOperatorFlags(argv: string[]): OperatorFlags | 'help' {
  const { values: v } = parseFlags(argv, options, USAGE);
  if (v.help) return 'help';
  const fail = (message: string): never => {
    throw new UsageError(message, USAGE);
  };
  const listen = v.listen ?? '0.0.0.0:8080';
  const m = /^(.*):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) fail(`--listen must be <host>:<port>, e.g. 0.0.0.0:8080, got "${listen}"`);
  const interval = v['catalog-interval'] === undefined ? DEFAULT_CONFIG.catalogIntervalMs : parseDuration(v['catalog-interval']);
  if (!(interval! > 0)) fail(`--catalog-interval must be a positive duration such as 10m or 90s, got "${v['catalog-interval']}"`);
  const positive = (flag: 'pod-name-limit' | 'workers', fallback: number) => {
    const text = v[flag];
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1) fail(`--${flag} must be a whole number of at least 1, got "${text}"`);
    return n;
  };
  const hive = v['hive-metastore'];
  if (hive !== undefined && !/^thrift:\/\/[^\s/:]+:\d+\/?$/.test(hive)) fail(`--hive-metastore must be thrift://<host>:<port>, got "${hive}"`);
  const size = v['volume-size'] ?? DEFAULT_CONFIG.volumeSize;
  if (!/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(size)) fail(`--volume-size must be a Kubernetes quantity such as 1Gi, got "${size}"`);
  const logLevel = (v['log-level'] ?? 'info') as Level;
  if (!LEVELS.includes(logLevel)) fail(`--log-level must be one of ${LEVELS.join(', ')}, got "${v['log-level']}"`);
  const nonEmpty = (flag: 'storage-class-s3' | 'storage-class-nfs' | 'nfs-driver', fallback: string) => {
    const text = v[flag];
    if (text === '') fail(`--${flag} must not be empty`);
    return text ?? fallback;
  };
  return {
    host: m![1].replace(/^\[|\]$/g, ''),
    port: Number(m![2]),
    kubeconfig: v.kubeconfig,
    context: v.context,
    namespace: v.namespace,
    config: {
      storageClassS3: nonEmpty('storage-class-s3', DEFAULT_CONFIG.storageClassS3),
      storageClassNfs: nonEmpty('storage-class-nfs', DEFAULT_CONFIG.storageClassNfs),
      nfsDriver: nonEmpty('nfs-driver', DEFAULT_CONFIG.nfsDriver),
      hiveMetastore: hive,
      catalogIntervalMs: interval!,
      podNameLimit: positive('pod-name-limit', DEFAULT_CONFIG.podNameLimit),
      volumeSize: size,
    },
    workers: positive('workers', 2),
    logLevel,
  };
}

export async function run(argv: string[]): Promise<number> {
  const flags = parseOperatorFlags(argv);
  if (flags === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger = pino({ level: flags.logLevel, base: { component: 'operator' } });
  const { kc, source } = loadKubeConfig({ kubeconfig: flags.kubeconfig, context: flags.context });
  logger.info({ kubeconfig: source, server: kc.getCurrentCluster()?.server, namespace: flags.namespace ?? '(all)' }, 'watching the cluster');
  const client = createKubeClient(kc, { userAgent: 'locus-operator', fieldManager: 'locus-operator' });
  const op = await startOperator({
    kc,
    client,
    config: flags.config,
    namespace: flags.namespace,
    logger,
    workers: flags.workers,
    host: flags.host,
    port: flags.port,
    defaultMetrics: true,
  });
  logger.info({ url: op.url, config: flags.config }, 'operator running');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve).once('SIGINT', resolve);
  });
  logger.info('shutting down');
  await op.close();
  return 0;
}
