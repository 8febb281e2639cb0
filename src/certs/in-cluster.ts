// The webhook's certificates kept in the cluster, so `kubectl apply -k deploy/` needs no local step:
// the CA in one Secret (never mounted by the webhook), the serving pair in the kubernetes.io/tls
// Secret the webhook mounts, and the CA in the MutatingWebhookConfiguration's caBundle. Run again
// and again (each webhook pod's init container and its renewal sidecar): it changes only what is
// missing, about to expire or no longer matching, so concurrent runs converge (writes carry the
// resourceVersion they read; the loser of a conflict reads again and finds nothing left to do).
import { X509Certificate } from 'node:crypto';
import { ConflictError, AlreadyExistsError } from '../kube/errors.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/object.js';
import { SECRETS, type ResourceType } from '../kube/resources.js';
import { notAfter } from './expiry.js';
import { issueCa, issueServingCert, type Pem } from './issue.js';

export const MUTATING_WEBHOOK_CONFIGURATIONS: ResourceType = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: 'mutatingwebhookconfigurations',
  kind: 'MutatingWebhookConfiguration',
  namespaced: false,
  statusSubresource: false,
};

const DAY_MS = 86_400_000;

export interface InClusterCertsOptions {
  namespace: string;
  /** kubernetes.io/tls Secret the webhook mounts: tls.crt, tls.key, ca.crt. */
  servingSecret: string;
  /** Secret holding the CA (ca.crt, ca.key); only this tool reads it. */
  caSecret: string;
  /** MutatingWebhookConfiguration whose every webhook gets the CA as caBundle. */
  webhookConfiguration: string;
  dns: string[];
  validForMs: number;
  caValidForMs: number;
  /** Renew the serving certificate once it has less than this left (the CA: less than validForMs). */
  renewBeforeMs: number;
  now?: () => Date;
}

export interface InClusterCertsResult {
  ca: 'created' | 'kept' | 'replaced';
  serving: 'created' | 'kept' | 'renewed';
  caBundle: 'set' | 'kept';
  /** The serving certificate now in the Secret (PEM). */
  servingCert: string;
  servingExpires: Date;
}

interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

interface WebhookConfiguration extends KubeObject {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined) => (text ? Buffer.from(text, 'base64').toString('utf8') : undefined);

/** Makes the cluster's webhook certificates valid for at least renewBefore; retries a lost race a few times. */
export async function ensureWebhookCerts(client: KubeClient, opts: InClusterCertsOptions): Promise<InClusterCertsResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureOnce(client, opts);
    } catch (err) {
      if (attempt >= 5 || !(err instanceof ConflictError || err instanceof AlreadyExistsError)) throw err;
    }
  }
}

async function ensureOnce(client: KubeClient, opts: InClusterCertsOptions): Promise<InClusterCertsResult> {
  const now = (opts.now ?? (() => new Date()))().getTime();
  const ns = opts.namespace;

  const caSecret = await client.get<Secret>(SECRETS, { namespace: ns, name: opts.caSecret });
  const oldCa = pemPair(caSecret?.data, 'ca.crt', 'ca.key');
  // A CA must outlive every serving certificate it signs, so it is replaced while it still has validFor left.
  const caUsable = oldCa !== undefined && notAfter(oldCa.cert).getTime() > now + opts.validForMs + opts.renewBeforeMs;
  const ca = caUsable ? oldCa : await issueCa({ commonName: 'locus-webhook-ca', days: opts.caValidForMs / DAY_MS, notBefore: new Date(now - 60_000) });
  const caState: InClusterCertsResult['ca'] = caUsable ? 'kept' : oldCa ? 'replaced' : 'created';
  if (!caUsable) await write(client, caSecret, secret(ns, opts.caSecret, 'Opaque', { 'ca.crt': ca.cert, 'ca.key': ca.key }));

  const servingSecret = await client.get<Secret>(SECRETS, { namespace: ns, name: opts.servingSecret });
  const old = pemPair(servingSecret?.data, 'tls.crt', 'tls.key');
  const servingUsable =
    old !== undefined && caUsable && signedBy(old.cert, ca.cert) && covers(old.cert, opts.dns) && notAfter(old.cert).getTime() > now + opts.renewBeforeMs;
  const serving = servingUsable
    ? old
    : await issueServingCert(ca, { dns: opts.dns, ips: [], days: opts.validForMs / DAY_MS, notBefore: new Date(now - 60_000) });

  // While pods still serve a certificate of the replaced CA (the kubelet updates mounted Secrets
  // within a minute or so), the API server must trust both: the bundle keeps the old CA until it expires.
  const bundle = [ca.cert];
  if (caState === 'replaced' && oldCa && notAfter(oldCa.cert).getTime() > now) bundle.push(oldCa.cert);
  const caBundle = b64(bundle.map((p) => p.trim()).join('\n') + '\n');
  // caBundle first: by the time the webhook serves the new certificate, the API server trusts its CA.
  const caBundleState = await setCaBundle(client, opts.webhookConfiguration, caBundle, caState === 'kept');

  const wantServing = secret(ns, opts.servingSecret, 'kubernetes.io/tls', { 'tls.crt': serving.cert, 'tls.key': serving.key, 'ca.crt': ca.cert });
  if (!servingUsable || unb64(servingSecret?.data?.['ca.crt']) !== ca.cert) await write(client, servingSecret, wantServing);
  return {
    ca: caState,
    serving: servingUsable ? 'kept' : old ? 'renewed' : 'created',
    caBundle: caBundleState,
    servingCert: serving.cert,
    servingExpires: notAfter(serving.cert),
  };
}

/** Sets caBundle on every webhook; with the CA kept, a bundle that already names it (e.g. both CAs) stays. */
async function setCaBundle(client: KubeClient, name: string, caBundle: string, caKept: boolean): Promise<'set' | 'kept'> {
  const config = await client.get<WebhookConfiguration>(MUTATING_WEBHOOK_CONFIGURATIONS, { name });
  if (!config) throw new Error(`MutatingWebhookConfiguration ${name} not found: apply deploy/ (kubectl apply -k deploy/) first`);
  const webhooks = config.webhooks ?? [];
  const current = (w: (typeof webhooks)[number]) => w.clientConfig?.caBundle ?? '';
  const ok = (w: (typeof webhooks)[number]) => current(w) === caBundle || (caKept && (unb64(current(w)) ?? '').includes(unb64(caBundle)!.trim()));
  if (webhooks.every(ok)) return 'kept';
  const updated = webhooks.map((w) => (ok(w) ? w : { ...w, clientConfig: { ...w.clientConfig, caBundle } }));
  await client.replace(MUTATING_WEBHOOK_CONFIGURATIONS, { ...config, webhooks: updated });
  return 'set';
}

async function write(client: KubeClient, existing: Secret | undefined, want: Secret): Promise<void> {
  if (!existing) {
    await client.create(SECRETS, want);
    return;
  }
  await client.replace(SECRETS, { ...existing, type: existing.type, data: want.data });
}

function secret(namespace: string, name: string, type: string, data: Record<string, string>): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type,
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'locus-webhook', 'app.kubernetes.io/part-of': 'locus' } },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
}

function pemPair(data: Record<string, string> | undefined, certKey: string, keyKey: string): Pem | undefined {
  const cert = unb64(data?.[certKey]);
  const key = unb64(data?.[keyKey]);
  if (!cert || !key) return undefined;
  try {
    new X509Certificate(cert);
  } catch {
    return undefined; // unreadable: replaced like a missing one
  }
  return { cert, key };
}

function signedBy(certPem: string, caPem: string): boolean {
  return new X509Certificate(certPem).verify(new X509Certificate(caPem).publicKey);
}

function covers(certPem: string, dns: string[]): boolean {
  const names = (new X509Certificate(certPem).subjectAltName ?? '').split(', ').map((s) => s.replace(/^DNS:/, ''));
  return dns.every((d) => names.includes(d));
}
