// `locus webhook-certs` as deploy/'s init container and sidecar run it, against the in-memory API server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MUTATING_WEBHOOK_CONFIGURATIONS } from '../../src/certs/in-cluster.js';
import { run } from '../../src/cli/webhook-certs.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

describe('cli: locus webhook-certs', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let kubeconfig: string;
  before(async () => {
    api = await FakeApiServer.start();
    api.register(MUTATING_WEBHOOK_CONFIGURATIONS);
    api.put({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'locus-pod-datasets' },
      webhooks: [{ name: 'pods.datasets.locus.dev', clientConfig: {} }],
    });
    kubeconfig = api.writeKubeconfig();
  });
  after(async () => {
    await api.close();
  });

  it('refuses a renewal window as long as the validity (every run would renew)', async () => {
    await run(['--renew-before', '400d', '--kubeconfig', kubeconfig]).then(
      () => expect.fail('should fail'),
      (err: Error) => expect(err.message).to.match(/--renew-before must be shorter than --valid-for/),
    );
  });

  it('--wait-for returns once the file holds the certificate the Secret has (as the kubelet mounts it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-certs-'));
    const file = join(dir, 'tls.crt');
    const running = run(['--wait-for', file, '--wait-timeout', '20s', '--kubeconfig', kubeconfig, '--log-level', 'fatal']);
    // play the kubelet: copy the Secret's tls.crt into the mounted file once it exists
    let mounted = false;
    for (let i = 0; i < 100 && !mounted; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const secret = api.object('secrets', 'locus-webhook-tls', 'locus-system') as { data?: Record<string, string> } | undefined;
      if (secret?.data?.['tls.crt']) {
        writeFileSync(file, Buffer.from(secret.data['tls.crt'], 'base64'));
        mounted = true;
      }
    }
    expect(mounted).to.equal(true);
    expect(await running).to.equal(0);
  });

  it('--wait-for gives up after --wait-timeout when the Secret is never mounted', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'webhook-certs-')), 'tls.crt');
    await run(['--wait-for', file, '--wait-timeout', '1s', '--kubeconfig', kubeconfig, '--log-level', 'fatal']).then(
      () => expect.fail('should fail'),
      (err: Error) => expect(err.message).to.match(/does not hold the certificate after 1s/),
    );
  });
});
