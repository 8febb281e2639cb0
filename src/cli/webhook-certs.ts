// `locus webhook-certs`: creates and renews the webhook's CA, serving certificate and caBundle in the
// cluster (src/certs/in-cluster.ts). deploy/ runs it as the webhook pods' init container (once, then
// waits for the kubelet to mount the Secret) and as their sidecar (every 12h), so nothing is made locally.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineCommand, KUBE_FLAGS } from '../runtime/flags.js';
import { UserError } from '../runtime/errors.js';
import { createLogger } from '../runtime/logger.js';
import { delay, untilStopped } from '../runtime/signals.js';

const DAY_MS = 86_400_000;

const command = defineCommand({
  name: 'webhook-certs',
  synopsis: '[flags]',
  description: `Makes the webhook's certificates valid in the cluster: the CA Secret (--ca-secret), the kubernetes.io/tls
Secret the webhook mounts (--secret), and caBundle of every webhook in --webhook-configuration. Changes
only what is missing, expiring within --renew-before or not matching; safe to run from several pods at once.`,
  flags: {
    namespace: { kind: 'string', arg: '<name>', help: 'namespace of both Secrets', default: 'locus-system' },
    secret: { kind: 'string', arg: '<name>', help: 'the serving Secret (tls.crt, tls.key, ca.crt)', default: 'locus-webhook-tls' },
    'ca-secret': { kind: 'string', arg: '<name>', help: 'the CA Secret (ca.crt, ca.key), read by this command only', default: 'locus-webhook-ca' },
    'webhook-configuration': { kind: 'string', arg: '<name>', help: 'MutatingWebhookConfiguration whose caBundle is set', default: 'locus-pod-datasets' },
    dns: { kind: 'strings', arg: '<name>', help: 'DNS name the API server calls the webhook by, repeatable\n(default locus-webhook.<namespace>.svc)' },
    'valid-for': { kind: 'duration', help: 'serving certificate validity', default: 365 * DAY_MS },
    'ca-valid-for': { kind: 'duration', help: 'CA validity', default: 3650 * DAY_MS },
    'renew-before': { kind: 'duration', help: 'renew a serving certificate this long before it expires', default: 30 * DAY_MS },
    every: { kind: 'duration', arg: '<duration>', help: 'keep running, checking this often (default: once)' },
    'wait-for': { kind: 'string', arg: '<file>', help: 'then wait until this file (the mounted tls.crt) holds the certificate' },
    'wait-timeout': { kind: 'duration', help: 'how long --wait-for waits', default: 180_000 },
    ...KUBE_FLAGS,
  },
});

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parseOrHelp(argv);
  if (!parsed) return 0;
  const f = parsed.values;
  if (f['renew-before'] >= f['valid-for']) command.fail('--renew-before must be shorter than --valid-for, or every run would renew');
  if (f['valid-for'] + f['renew-before'] >= f['ca-valid-for']) command.fail('--ca-valid-for must exceed --valid-for plus --renew-before');
  const [{ createKubeClient }, { loadKubeConfig }, { ensureWebhookCerts }] = await Promise.all([
    import('../kube/client.js'),
    import('../kube/config.js'),
    import('../certs/in-cluster.js'),
  ]);
  const log = createLogger('webhook-certs', f['log-level']);
  const { kc } = loadKubeConfig({ kubeconfig: f.kubeconfig, context: f.context });
  const client = createKubeClient(kc, { timeoutMs: 10_000, userAgent: 'locus-webhook-certs', fieldManager: 'locus-webhook-certs' });
  const opts = {
    namespace: f.namespace,
    servingSecret: f.secret,
    caSecret: f['ca-secret'],
    webhookConfiguration: f['webhook-configuration'],
    dns: f.dns.length > 0 ? f.dns : [`locus-webhook.${f.namespace}.svc`],
    validForMs: f['valid-for'],
    caValidForMs: f['ca-valid-for'],
    renewBeforeMs: f['renew-before'],
  };
  const once = async () => {
    const r = await ensureWebhookCerts(client, opts);
    log.info({ ca: r.ca, serving: r.serving, caBundle: r.caBundle, expires: r.servingExpires.toISOString() }, 'webhook certificates checked');
    return r;
  };

  const first = await once();
  if (f['wait-for']) await waitForFile(f['wait-for'], first.servingCert, f['wait-timeout']);
  if (f.every === undefined) return 0;
  // SIGTERM ends the wait at once (the pod's grace period is not spent on a 12h timer)
  const stop = new AbortController();
  void untilStopped().then(() => stop.abort());
  for (;;) {
    await sleep(f.every, undefined, { signal: stop.signal }).catch(() => undefined);
    if (stop.signal.aborted) break;
    // a failed check is retried at the next one: the certificate in place stays valid for weeks
    await once().catch((err: unknown) => log.error({ err }, 'webhook certificate check failed; retrying at the next one'));
  }
  return 0;
}

/** The kubelet copies a changed Secret into mounted volumes within about a minute. */
async function waitForFile(file: string, pem: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.trim() === pem.trim()) return;
    if (Date.now() > deadline)
      throw new UserError(`${file} does not hold the certificate after ${timeoutMs / 1000}s`, 'check that the pod mounts the serving Secret at that path');
    await delay(1_000);
  }
}
