// `locus webhook`: the mutating admission webhook for pods that use Datasets, over HTTPS.
import { pino } from 'pino';
import { numberFlag, parseFlags, UsageError } from './flags.js';

const USAGE = `usage: locus webhook [flags]

Serves POST /mutate-pods (AdmissionReview admission.k8s.io/v1) over HTTPS, plus /healthz and /metrics.

  --host <addr>                 listen address (default 0.0.0.0)
  --port <n>                    listen port (default 8443)
  --cert <file>                 serving certificate, PEM (default /etc/locus/webhook/tls.crt)
  --key <file>                  its private key, PEM (default /etc/locus/webhook/tls.key)
  --reload-interval <seconds>   how often the certificate files are checked for a new pair (default 10)
  --expiry-warning-days <n>     log a warning when the certificate expires within n days (default 30)
  --scheduler-name <name>       scheduler for pods that use Datasets and name the default one (default locus-scheduler)
  --keep-scheduler-name         never change a pod's schedulerName
  --allow-missing               admit pods with malformed dataset labels or missing Datasets, with a warning, instead of denying them
  --no-events                   do not record an Event per Dataset on mutated pods
  --no-dataset-cache            ask the API server for every Dataset instead of keeping a watch cache of them
  --body-limit <bytes>          largest AdmissionReview accepted (default 4194304)
  --shutdown-delay <seconds>    keep serving this long after SIGTERM, while the Service stops routing here (default 5)
  --kubeconfig <file>           kubeconfig (default: KUBECONFIG, the pod's service account, ~/.kube/config)
  --context <name>              kubeconfig context
  --log-level <level>           pino level (default info)`;

export async function run(argv: string[]): Promise<number> {
  const { values: f } = parseFlags(argv, {
    host: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string' },
    cert: { type: 'string', default: '/etc/locus/webhook/tls.crt' },
    key: { type: 'string', default: '/etc/locus/webhook/tls.key' },
    'reload-interval': { type: 'string' },
    'expiry-warning-days': { type: 'string' },
    'scheduler-name': { type: 'string', default: 'locus-scheduler' },
    'keep-scheduler-name': { type: 'boolean', default: false },
    'allow-missing': { type: 'boolean', default: false },
    'no-events': { type: 'boolean', default: false },
    'no-dataset-cache': { type: 'boolean', default: false },
    'body-limit': { type: 'string' },
    'shutdown-delay': { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (f.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const reloadSeconds = numberFlag(f['reload-interval'], 'reload-interval', USAGE, 10);
  const shutdownDelay = numberFlag(f['shutdown-delay'], 'shutdown-delay', USAGE, 5);
  if (reloadSeconds <= 0) throw new UsageError('--reload-interval must be more than 0 seconds', USAGE);
  if (!f['keep-scheduler-name'] && !f['scheduler-name']) {
    throw new UsageError('--scheduler-name must not be empty; use --keep-scheduler-name to leave pods\' scheduler alone', USAGE);
  }

  // Loaded after the flags are read, so --help and usage errors answer at once.
  const [{ createKubeClient }, { loadKubeConfig }, { Informer }, { DATASETS }, { kubeAuditRecorder }, { cachedDatasetLookup, kubeDatasetLookup }, { startWebhook }] = await Promise.all([
    import('../kube/client.js'), import('../kube/config.js'), import('../kube/informer.js'), import('../kube/resources.js'),
    import('../webhook/audit.js'), import('../webhook/kube-lookup.js'), import('../webhook/server.js'),
  ]);
  const log = pino({ name: 'locus-webhook', level: f['log-level'] });
  const { kc, source } = loadKubeConfig({ kubeconfig: f.kubeconfig, context: f.context });
  const kube = createKubeClient(kc, { timeoutMs: 5_000, userAgent: 'locus-webhook', fieldManager: 'locus-webhook' });
  const datasets = f['no-dataset-cache'] ? undefined : new Informer(kc, kube, {
    resource: DATASETS,
    onRestart: (err, attempt, delayMs) => log.warn({ err, attempt, delayMs }, 'Dataset watch failed, restarting it; Datasets missing from the cache are still read from the API server'),
  });
  datasets?.start();
  const webhook = await startWebhook({
    host: f.host,
    port: numberFlag(f.port, 'port', USAGE, 8443),
    certFile: f.cert,
    keyFile: f.key,
    reloadIntervalMs: reloadSeconds * 1000,
    expiryWarnDays: numberFlag(f['expiry-warning-days'], 'expiry-warning-days', USAGE, 30),
    bodyLimit: numberFlag(f['body-limit'], 'body-limit', USAGE, 4 * 1024 * 1024),
    lookup: datasets ? cachedDatasetLookup(datasets, kubeDatasetLookup(kube)) : kubeDatasetLookup(kube),
    audit: f['no-events'] ? undefined : kubeAuditRecorder(kube),
    options: {
      schedulerName: f['keep-scheduler-name'] ? undefined : f['scheduler-name'],
      allowMissing: f['allow-missing'],
    },
    log,
    processMetrics: true,
  });
  log.info({
    url: webhook.url, kubeconfig: source, notAfter: webhook.reloader.notAfter?.toISOString(),
    schedulerName: f['keep-scheduler-name'] ? null : f['scheduler-name'], allowMissing: f['allow-missing'],
  }, 'webhook listening');

  process.on('SIGHUP', () => void webhook.reloader.check(webhook.server));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // With failurePolicy Fail, closing before the endpoint is gone from the Service would fail pod creations.
  log.info({ signal, delaySeconds: shutdownDelay }, 'shutting down');
  await new Promise((resolve) => setTimeout(resolve, shutdownDelay * 1000));
  await Promise.all([webhook.close(), datasets?.stop()]);
  return 0;
}
