// `locus webhook` over TLS on loopback (serving cert signed by the cluster CA), registered with the
// repo's MutatingWebhookConfiguration with only its address and caBundle filled in.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { remove, type Obj } from './api.js';
import { cluster } from './env.js';
import { kubectlOk } from './kubectl.js';
import { startLocus, type Tracked } from './process.js';
import { until } from './wait.js';

const WEBHOOK_CONFIG = 'deploy/webhook/mutatingwebhookconfiguration.yaml';

interface WebhookConfig extends Obj {
  webhooks: { name: string; clientConfig: { url?: string; service?: { path?: string }; caBundle?: string } }[];
}

/**
 * Registers the repo's MutatingWebhookConfiguration as a user would (kubectl apply), then points each
 * webhook at the loopback server (kubectl patch): only clientConfig's address and caBundle change.
 */
export async function register(): Promise<string> {
  const docs = parseAllDocuments(readFileSync(join(cluster.root, WEBHOOK_CONFIG), 'utf8')).map((d) => d.toJS() as Obj);
  const config = docs.find((d) => d?.kind === 'MutatingWebhookConfiguration') as WebhookConfig | undefined;
  if (!config) throw new Error(`${WEBHOOK_CONFIG} holds no MutatingWebhookConfiguration`);
  const caBundle = readFileSync(cluster.caFile).toString('base64');
  const ops = config.webhooks.map((w, i) => {
    const path = w.clientConfig.service?.path ?? new URL(w.clientConfig.url!).pathname;
    return { op: 'replace', path: `/webhooks/${i}/clientConfig`, value: { url: `https://127.0.0.1:${cluster.ports.webhook}${path}`, caBundle } };
  });
  await kubectlOk(['apply', '-f', WEBHOOK_CONFIG]);
  await kubectlOk(['patch', 'mutatingwebhookconfiguration', config.metadata.name, '--type', 'json', '-p', JSON.stringify(ops)]);
  return config.metadata.name;
}

/** Starts the webhook with `extra` flags and waits until it serves /healthz over TLS. */
export async function startWebhook(extra: string[] = []): Promise<Tracked> {
  const webhook = startLocus('webhook', [
    '--kubeconfig',
    cluster.kubeconfig,
    '--listen',
    `127.0.0.1:${cluster.ports.webhook}`,
    '--cert',
    cluster.loopbackCert,
    '--key',
    cluster.loopbackKey,
    ...extra,
  ]);
  await until('the webhook to serve /healthz over TLS', async () => {
    if (!webhook.running()) throw new Error(`locus webhook exited: ${webhook.log().slice(-2000)}`);
    return tlsHealthy();
  });
  return webhook;
}

/** Removes the registration `register` made. */
export const unregister = (name: string) => remove(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${name}`);

/** GET /healthz on the webhook over TLS, verified against the cluster CA as the apiserver will. */
function tlsHealthy(): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const req = request(`https://127.0.0.1:${cluster.ports.webhook}/healthz`, { ca: readFileSync(cluster.caFile) }, (res) => {
      res.resume();
      resolvePromise(res.statusCode === 200);
    });
    req.on('error', () => resolvePromise(false));
    req.end();
  });
}
