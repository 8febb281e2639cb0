// `locus operator`: reconciles Dataset objects into Secrets, ConfigMaps, PVCs (and PVs for NFS and
// HOST), records catalogs and the pods-per-Dataset audit in their status.
import { readFileSync } from 'node:fs';
import { PATTERNS } from '../api/dataset.js';
import { DEFAULT_POLICY, parsePolicy, type DatasetPolicy } from '../operator/policy.js';
import { DEFAULT_ARCHIVE_LIMITS, DEFAULT_CONFIG, type AgentConfig, type ArchiveStore, type OperatorConfig } from '../operator/config.js';
import { parseAgentKeys } from '../api/agent-credentials.js';
import { defineCommand, KUBE_FLAGS } from '../runtime/flags.js';
import { createLogger } from '../runtime/logger.js';
import { untilStopped } from '../runtime/signals.js';
import { formatBytes, parseBytes } from '../runtime/units.js';

const command = defineCommand({
  name: 'operator',
  description: `Reconciles Dataset objects (datasets.locus.dev) into an owned Secret (<name>-credentials), ConfigMap
(<name>) and PVC (<name>) bound through the S3 or NFS CSI driver's StorageClass (a hostPath PV for
HOST), lists object-store Datasets into status.catalog, and records which pods use each Dataset in
status.usage. Serves /healthz, /readyz and /metrics.`,
  flags: {
    listen: { kind: 'listen', help: 'address of /healthz, /readyz and /metrics', default: { host: '0.0.0.0', port: 8080 } },
    ...KUBE_FLAGS,
    namespace: { kind: 'string', arg: '<ns>', help: 'reconcile Datasets of this namespace only (default: all namespaces)' },
    'catalog-interval': { kind: 'duration', help: 'list object-store Datasets again after this long', default: DEFAULT_CONFIG.catalogIntervalMs },
    'storage-class-s3': { kind: 'string', arg: '<name>', help: 'StorageClass of the S3 CSI driver', default: DEFAULT_CONFIG.storageClassS3 },
    'storage-class-nfs': { kind: 'string', arg: '<name>', help: 'StorageClass of the NFS CSI driver', default: DEFAULT_CONFIG.storageClassNfs },
    'nfs-driver': { kind: 'string', arg: '<name>', help: 'CSI driver named in NFS PersistentVolumes', default: DEFAULT_CONFIG.nfsDriver },
    'hive-metastore': { kind: 'string', arg: '<uri>', help: 'Hive metastore for spec.remote entries without catalogURI, thrift://<host>:<port>' },
    'pod-name-limit': { kind: 'count', min: 1, help: 'most pod names kept in status.usage.podNames', default: DEFAULT_CONFIG.podNameLimit },
    'volume-size': { kind: 'size', help: 'capacity the PVCs request', default: parseBytes(DEFAULT_CONFIG.volumeSize) },
    workers: { kind: 'count', min: 1, help: 'Datasets reconciled at once', default: 2 },
    'archive-endpoint': { kind: 'string', arg: '<url>', help: 'object store that ARCHIVE Datasets without a bucket of their own are staged in' },
    'archive-region': { kind: 'string', arg: '<region>', help: 'region of --archive-endpoint', default: '' },
    'archive-bucket': { kind: 'string', arg: '<bucket>', help: 'staging bucket; each archive goes under <prefix><namespace>/<name>/' },
    'archive-prefix': { kind: 'string', arg: '<prefix>', help: 'key prefix in the staging bucket, empty or ending in /', default: '' },
    'archive-secret': {
      kind: 'string',
      arg: '<ns>/<name>',
      help: 'Secret with accessKeyID and secretAccessKey of the staging store (pods of ARCHIVE Datasets get these keys)',
    },
    'archive-max-bytes': { kind: 'size', help: 'largest archive downloaded', default: DEFAULT_ARCHIVE_LIMITS.maxDownloadBytes },
    'archive-max-extracted-bytes': { kind: 'size', help: 'most bytes one archive may unpack to', default: DEFAULT_ARCHIVE_LIMITS.maxExtractedBytes },
    'archive-timeout': { kind: 'duration', help: 'longest one staging (download, extraction, upload) may take', default: DEFAULT_ARCHIVE_LIMITS.timeoutMs },
    'archive-workers': { kind: 'count', min: 1, help: 'archives staged at once', default: DEFAULT_CONFIG.archiveConcurrency },
    'policy-file': {
      kind: 'string',
      arg: '<file>',
      help: 'YAML policy: Dataset types, node paths and NFS exports per namespace, endpoint allow/deny lists (default: object stores only, see SECURITY.md)',
    },
    'agent-url': {
      kind: 'string',
      arg: '<url>',
      help: "the agents' advertised origin (their --advertise-url): Datasets with this endpoint are read through the agents",
      default: DEFAULT_CONFIG.agent.url,
    },
    'agent-upstream': {
      kind: 'string',
      arg: '<url>',
      help: "the object store the agents read (their --upstream); a tenant's keys must list a Dataset there before it gets agent credentials",
    },
    'read-through-default': {
      kind: 'boolean',
      help: 'read Datasets at --agent-upstream through the agents unless they (spec.cache.readThrough) or\ntheir namespace (label locus.dev/read-through) say otherwise',
    },
    'agent-key-file': {
      kind: 'string',
      arg: '<file>',
      help: 'agent key file (Secret locus-agent-auth, first line current) that agent credentials are derived with; re-read when it changes',
    },
    'nfs-helper-image': {
      kind: 'string',
      arg: '<image>',
      help: "image of the Job that makes an NFS Dataset's own directory (createDirPVC); runs mkdir -p",
      default: DEFAULT_CONFIG.nfsHelperImage,
    },
  },
});

export interface OperatorFlags {
  host: string;
  port: number;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  config: OperatorConfig;
  workers: number;
  logLevel: string;
}

/** Parses and checks the flags; every mistake names the flag and the expected form. */
export function parseOperatorFlags(argv: string[]): OperatorFlags | 'help' {
  const parsed = command.parse(argv);
  if (parsed === 'help') return 'help';
  const v = parsed.values;
  const hive = v['hive-metastore'];
  if (hive !== undefined && !/^thrift:\/\/[^\s/:]+:\d+\/?$/.test(hive)) command.fail(`--hive-metastore must be thrift://<host>:<port>, got "${hive}"`);
  for (const flag of ['storage-class-s3', 'storage-class-nfs', 'nfs-driver', 'nfs-helper-image'] as const) {
    if (v[flag] === '') command.fail(`--${flag} must not be empty`);
  }
  const policyFile = v['policy-file'];
  const policy = policyFile === undefined ? DEFAULT_POLICY : readPolicy(policyFile);
  const archiveStore = parseArchiveStore(v['archive-endpoint'], v['archive-bucket'], v['archive-secret'], v['archive-region'] ?? '', v['archive-prefix'] ?? '');
  return {
    host: v.listen.host,
    port: v.listen.port,
    kubeconfig: v.kubeconfig,
    context: v.context,
    namespace: v.namespace,
    config: {
      ...DEFAULT_CONFIG,
      storageClassS3: v['storage-class-s3'],
      storageClassNfs: v['storage-class-nfs'],
      nfsDriver: v['nfs-driver'],
      hiveMetastore: hive,
      catalogIntervalMs: v['catalog-interval'],
      podNameLimit: v['pod-name-limit'],
      volumeSize: formatBytes(v['volume-size']!),
      archiveStore,
      archiveLimits: {
        ...DEFAULT_ARCHIVE_LIMITS,
        maxDownloadBytes: v['archive-max-bytes']!,
        maxExtractedBytes: v['archive-max-extracted-bytes']!,
        timeoutMs: v['archive-timeout']!,
      },
      archiveConcurrency: v['archive-workers'],
      nfsHelperImage: v['nfs-helper-image'],
      policy,
      agent: { ...parseAgentFlags(v['agent-url']!, v['agent-upstream'], v['agent-key-file']), readThroughDefault: v['read-through-default'] },
    },
    workers: v.workers,
    logLevel: v['log-level'],
  };
}

function readPolicy(file: string): DatasetPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return command.fail(`--policy-file ${file} cannot be read: ${(err as Error).message}`);
  }
  try {
    return parsePolicy(text, `--policy-file ${file}`);
  } catch (err) {
    return command.fail((err as Error).message);
  }
}

function parseAgentFlags(url: string, upstream: string | undefined, keyFile: string | undefined): AgentConfig {
  for (const [flag, value] of [
    ['agent-url', url],
    ['agent-upstream', upstream],
  ] as const) {
    if (value !== undefined && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(value))
      command.fail(`--${flag} must be an http(s) URL such as http://minio.storage:9000, got "${value}"`);
  }
  if (keyFile !== undefined) checkAgentKeyFile(keyFile);
  return { url, upstream, keyFile };
}

/**
 * A malformed key file stops the operator at start. A missing one does not: the Secret volume is
 * optional (the init container makes the Secret after the pod's volumes are set up) and kubelet
 * fills it in later; until then agent-read Datasets say the operator has no key.
 */
function checkAgentKeyFile(file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    return command.fail(`--agent-key-file ${file} cannot be read: ${(err as Error).message}`);
  }
  try {
    parseAgentKeys(text, `--agent-key-file ${file}`);
  } catch (err) {
    command.fail((err as Error).message);
  }
}

/** The staging store: all of endpoint, bucket and secret, or none (then only ARCHIVEs naming a bucket work). */
function parseArchiveStore(
  endpoint: string | undefined,
  bucket: string | undefined,
  secret: string | undefined,
  region: string,
  prefix: string,
): ArchiveStore | undefined {
  const given = [endpoint, bucket, secret].filter((x) => x !== undefined).length;
  if (given === 0) return undefined;
  if (given < 3) command.fail('--archive-endpoint, --archive-bucket and --archive-secret go together: give all three, or none');
  if (!/^https?:\/\/[^\s/]+(\/.*)?$/.test(endpoint!))
    command.fail(`--archive-endpoint must be an http(s) URL such as http://minio.storage:9000, got "${endpoint}"`);
  if (!new RegExp(PATTERNS.bucket).test(bucket!)) command.fail(`--archive-bucket must be an S3 bucket name, got "${bucket}"`);
  const [namespace, name, ...rest] = secret!.split('/');
  if (!namespace || !name || rest.length > 0) command.fail(`--archive-secret must be <namespace>/<name>, got "${secret}"`);
  if (prefix !== '' && !prefix.endsWith('/')) command.fail(`--archive-prefix must be empty or end in "/", got "${prefix}"`);
  return { endpoint: endpoint!, region, bucket: bucket!, prefix, secret: { namespace, name } };
}

export async function run(argv: string[]): Promise<number> {
  const flags = parseOperatorFlags(argv);
  if (flags === 'help') {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  // Loaded after the flags are read, so --help and usage errors answer at once.
  const [{ createKubeClient }, { loadKubeConfig }, { startOperator }] = await Promise.all([
    import('../kube/client.js'),
    import('../kube/config.js'),
    import('../operator/server.js'),
  ]);
  const logger = createLogger('operator', flags.logLevel);
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
  const why = await untilStopped();
  logger.info({ why }, 'shutting down');
  await op.close();
  return 0;
}
