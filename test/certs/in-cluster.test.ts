// The webhook certificates kept in the cluster (what deploy/'s init container and sidecar run),
// against the in-memory API server: created once, then kept; renewed before expiry under the same CA;
// a CA near its end replaced with both CAs in caBundle; concurrent runs converging on one pair.
import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { ensureWebhookCerts, MUTATING_WEBHOOK_CONFIGURATIONS, type InClusterCertsOptions } from '../../src/certs/in-cluster.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const DAY = 86_400_000;
const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The PEM blocks of a bundle. */
const certsIn = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

describe('certs: webhook certificates in the cluster', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let client: KubeClient;
  let clock = Date.now();
  const opts = (): InClusterCertsOptions => ({
    namespace: 'locus-system',
    servingSecret: 'locus-webhook-tls',
    caSecret: 'locus-webhook-ca',
    webhookConfiguration: 'locus-pod-datasets',
    dns: ['locus-webhook.locus-system.svc'],
    validForMs: 365 * DAY,
    caValidForMs: 3650 * DAY,
    renewBeforeMs: 30 * DAY,
    now: () => new Date(clock),
  });
  const secret = (name: string) =>
    api.object('secrets', name, 'locus-system') as { type: string; data: Record<string, string>; metadata: { resourceVersion: string } };
  const caBundles = () =>
    (api.object('mutatingwebhookconfigurations', 'locus-pod-datasets') as unknown as { webhooks: { clientConfig: { caBundle?: string } }[] }).webhooks.map(
      (w) => b64(w.clientConfig.caBundle),
    );
  /** The serving certificate verifies against some CA of every webhook's caBundle. */
  const trusted = () => {
    const cert = new X509Certificate(b64(secret('locus-webhook-tls').data['tls.crt']));
    return caBundles().every((bundle) => certsIn(bundle).some((ca) => cert.verify(new X509Certificate(ca).publicKey)));
  };

  beforeEach(async () => {
    clock = Date.now();
    api = await FakeApiServer.start();
    api.register(MUTATING_WEBHOOK_CONFIGURATIONS);
    api.put({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'locus-pod-datasets' },
      webhooks: [
        { name: 'pods.datasets.locus.dev', clientConfig: { service: { name: 'locus-webhook', namespace: 'locus-system', path: '/mutate-pods' } } },
        { name: 'other.datasets.locus.dev', clientConfig: { service: { name: 'locus-webhook', namespace: 'locus-system', path: '/other' } } },
      ],
    });
    client = createKubeClient(api.kubeconfig());
  });
  afterEach(async () => {
    await api.close();
  });

  it('creates the CA Secret, the kubernetes.io/tls Secret and every caBundle; a second run changes nothing', async () => {
    const first = await ensureWebhookCerts(client, opts());
    expect(first).to.include({ ca: 'created', serving: 'created', caBundle: 'set' });
    const tls = secret('locus-webhook-tls');
    expect(tls.type).to.equal('kubernetes.io/tls');
    expect(Object.keys(tls.data).sort()).to.deep.equal(['ca.crt', 'tls.crt', 'tls.key']);
    expect(Object.keys(secret('locus-webhook-ca').data).sort()).to.deep.equal(['ca.crt', 'ca.key']);
    const cert = new X509Certificate(b64(tls.data['tls.crt']));
    expect(cert.subjectAltName).to.equal('DNS:locus-webhook.locus-system.svc');
    expect(trusted()).to.equal(true);
    expect(caBundles()).to.have.length(2);

    const versions = [secret('locus-webhook-tls').metadata.resourceVersion, secret('locus-webhook-ca').metadata.resourceVersion];
    const again = await ensureWebhookCerts(client, opts());
    expect(again).to.include({ ca: 'kept', serving: 'kept', caBundle: 'kept' });
    expect([secret('locus-webhook-tls').metadata.resourceVersion, secret('locus-webhook-ca').metadata.resourceVersion]).to.deep.equal(versions);
  });

  it('renews the serving certificate within renewBefore of its expiry, under the same CA', async () => {
    await ensureWebhookCerts(client, opts());
    const before = b64(secret('locus-webhook-tls').data['tls.crt']);
    clock += 340 * DAY; // 25 days left < 30
    const r = await ensureWebhookCerts(client, opts());
    expect(r).to.include({ ca: 'kept', serving: 'renewed', caBundle: 'kept' });
    expect(b64(secret('locus-webhook-tls').data['tls.crt'])).to.not.equal(before);
    expect(r.servingExpires.getTime()).to.be.closeTo(clock + 365 * DAY, DAY);
    expect(trusted()).to.equal(true);
  });

  it('a serving certificate for other names is replaced (e.g. the namespace changed)', async () => {
    await ensureWebhookCerts(client, opts());
    const r = await ensureWebhookCerts(client, { ...opts(), dns: ['locus-webhook.locus-system.svc', 'locus-webhook.locus-system.svc.cluster.local'] });
    expect(r.serving).to.equal('renewed');
    expect(new X509Certificate(b64(secret('locus-webhook-tls').data['tls.crt'])).subjectAltName).to.include('svc.cluster.local');
  });

  it('replaces a CA that would not outlive a new serving certificate, keeping the old CA in caBundle meanwhile', async () => {
    await ensureWebhookCerts(client, opts());
    const oldCa = b64(secret('locus-webhook-ca').data['ca.crt']);
    clock += 3650 * DAY - 300 * DAY; // the CA has 300 days left, less than a year's certificate
    const r = await ensureWebhookCerts(client, opts());
    expect(r).to.include({ ca: 'replaced', serving: 'renewed', caBundle: 'set' });
    const newCa = b64(secret('locus-webhook-ca').data['ca.crt']);
    expect(newCa).to.not.equal(oldCa);
    for (const bundle of caBundles()) expect(certsIn(bundle).map((c) => c.trim())).to.deep.equal([newCa.trim(), oldCa.trim()]);
    expect(b64(secret('locus-webhook-tls').data['ca.crt'])).to.equal(newCa);
    expect(trusted()).to.equal(true);
    // the next run keeps the two-CA bundle: it names the current CA
    expect((await ensureWebhookCerts(client, opts())).caBundle).to.equal('kept');
  });

  it('concurrent runs (two webhook pods starting) converge on one trusted pair', async () => {
    const results = await Promise.all([ensureWebhookCerts(client, opts()), ensureWebhookCerts(client, opts()), ensureWebhookCerts(client, opts())]);
    expect(results.map((r) => r.ca)).to.include('created');
    expect(trusted()).to.equal(true);
    // whatever the race, the Secret's ca.crt is the CA Secret's, and the next run has nothing to do
    expect(secret('locus-webhook-tls').data['ca.crt']).to.equal(secret('locus-webhook-ca').data['ca.crt']);
    expect(await ensureWebhookCerts(client, opts())).to.include({ ca: 'kept', serving: 'kept', caBundle: 'kept' });
  });

  it('says what to do when the MutatingWebhookConfiguration is missing', async () => {
    api.delete('mutatingwebhookconfigurations', 'locus-pod-datasets');
    await ensureWebhookCerts(client, opts()).then(
      () => expect.fail('should fail'),
      (err: Error) => expect(err.message).to.match(/locus-pod-datasets not found: apply deploy\//),
    );
  });
});
