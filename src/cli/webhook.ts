// `locus webhook`: the mutating admission webhook for pods that use Datasets, over HTTPS.
import { DEFAULT_AGENT_URL } from '../api/agent-endpoint.js';
import { defineCommand, KUBE_FLAGS } from '../runtime/flags.js';
import { createLogger } from '../runtime/logger.js';
import { delay, onReloadSignal, untilStopped } from '../runtime/signals.js';

const command = defineCommand({
  name: 'webhook',
  description: 'Serves POST /mutate-pods (AdmissionReview admission.k8s.io/v1) over HTTPS, plus /healthz, /readyz and /metrics.',
  flags: {
    listen: { kind: 'listen', help: 'HTTPS address to listen on', default: { host: '0.0.0.0', port: 8443 } },
    cert: { kind: 'string', arg: '<file>', help: 'serving certificate, PEM', default: '/etc/locus/webhook/tls.crt' },
    key: { kind: 'string', arg: '<file>', help: 'its private key, PEM', default: '/etc/locus/webhook/tls.key' },
    'reload-interval': { kind: 'duration', help: 'how often the certificate files are checked for a new pair (also on SIGHUP)', default: 10_000 },
    'expiry-warning': { kind: 'duration', help: 'log a warning when the certificate expires within this long', default: 30 * 86_400_000 },
    'scheduler-name': { kind: 'string', arg: '<name>', help: 'scheduler for pods that use Datasets and name the default one', default: 'locus-scheduler' },
    'keep-scheduler-name': { kind: 'boolean', help: "never change a pod's schedulerName" },
    'allow-missing': { kind: 'boolean', help: 'admit pods with malformed dataset labels or missing Datasets, with a warning,\ninstead of denying them' },
    'no-events': { kind: 'boolean', help: 'do not record an Event per Dataset on mutated pods' },
    'no-dataset-cache': { kind: 'boolean', help: 'ask the API server for every Dataset instead of keeping a watch cache of them' },
    'agent-url': {
      kind: 'string',
      arg: '<url>',
      help: 'the agents\' advertised origin: a pod annotated locus.dev/aws-env: "true" gets the\ncredentials of the one Dataset it reads through them as AWS_* variables',
      default: DEFAULT_AGENT_URL,
    },
    'agent-host-port': {
      kind: 'count',
      min: 1,
      max: 65535,
      help: "the agents' hostPort: a configmap use of a Dataset read through the agents gets\nhttp://$(LOCUS_NODE_IP):<n>, the agent of the pod's own node, as its endpoint (for\nKubernetes before 1.22, whose Services cannot keep reads on the node; default: the ConfigMap's)",
    },
    'max-datasets-per-pod': { kind: 'count', min: 1, help: 'deny pods that reference more Datasets (labels plus PVC volumes)', default: 64 },
    'body-limit': { kind: 'size', help: 'largest AdmissionReview accepted', default: 4 * 1024 * 1024 },
    'shutdown-delay': { kind: 'duration', min: 0, help: 'keep serving this long after SIGTERM, while the Service stops routing here', default: 5_000 },
    ...KUBE_FLAGS,
  },
});

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parseOrHelp(argv);
  if (!parsed) return 0;
  const f = parsed.values;
  if (!f['keep-scheduler-name'] && !f['scheduler-name']) {
    command.fail("--scheduler-name must not be empty; use --keep-scheduler-name to leave pods' scheduler alone");
  }
  if (!/^https?:\/\/[^\s/]+(\/.*)?$/.test(f['agent-url']!))
    command.fail(`--agent-url must be an http(s) URL such as ${DEFAULT_AGENT_URL}, got "${f['agent-url']}"`);

  // Loaded after the flags are read, so --help and usage errors answer at once.
  const [
    { createKubeClient },
    { loadKubeConfig },
    { Informer },
    { DATASETS },
    { kubeAuditRecorder },
    { cachedDatasetLookup, kubeDatasetLookup },
    { startWebhook },
  ] = await Promise.all([
    import('../kube/client.js'),
    import('../kube/config.js'),
    import('../kube/informer.js'),
    import('../kube/resources.js'),
    import('../webhook/audit.js'),
    import('../webhook/kube-lookup.js'),
    import('../webhook/server.js'),
  ]);
  const log = createLogger('webhook', f['log-level']);
  const { kc, source } = loadKubeConfig({ kubeconfig: f.kubeconfig, context: f.context });
  const kube = createKubeClient(kc, { timeoutMs: 5_000, userAgent: 'locus-webhook', fieldManager: 'locus-webhook' });
  const datasets = f['no-dataset-cache']
    ? undefined
    : new Informer(kc, kube, {
        resource: DATASETS,
        onRestart: (err, attempt, delayMs) =>
          log.warn({ err, attempt, delayMs }, 'Dataset watch failed, restarting it; Datasets missing from the cache are still read from the API server'),
      });
  datasets?.start();
  const webhook = await startWebhook({
    host: f.listen.host,
    port: f.listen.port,
    certFile: f.cert,
    keyFile: f.key,
    reloadIntervalMs: f['reload-interval'],
    expiryWarnDays: f['expiry-warning'] / 86_400_000,
    bodyLimit: f['body-limit'],
    lookup: datasets ? cachedDatasetLookup(datasets, kubeDatasetLookup(kube)) : kubeDatasetLookup(kube),
    audit: f['no-events'] ? undefined : kubeAuditRecorder(kube),
    maxDatasets: f['max-datasets-per-pod'],
    options: {
      schedulerName: f['keep-scheduler-name'] ? undefined : f['scheduler-name'],
      allowMissing: f['allow-missing'],
      agentUrl: f['agent-url'],
      agentHostPort: f['agent-host-port'],
    },
    log,
    processMetrics: true,
  });
  log.info(
    {
      url: webhook.url,
      kubeconfig: source,
      notAfter: webhook.reloader.notAfter?.toISOString(),
      schedulerName: f['keep-scheduler-name'] ? null : f['scheduler-name'],
      allowMissing: f['allow-missing'],
      agentHostPort: f['agent-host-port'] ?? null,
    },
    'webhook listening',
  );

  const stopReloading = onReloadSignal(() => void webhook.reloader.check(webhook.server));
  const signal = await untilStopped();
  stopReloading();
  // With failurePolicy Fail, closing before the endpoint is gone from the Service would fail pod creations.
  log.info({ signal, delayMs: f['shutdown-delay'] }, 'shutting down');
  await delay(f['shutdown-delay']);
  await Promise.all([webhook.close(), datasets?.stop()]);
  return 0;
}
