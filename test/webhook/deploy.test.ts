// The manifests in deploy/webhook agree with the code: path, port, flags, names, opt-in label.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { MUTATE_PATH } from '../../src/webhook/app.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const docs = (file: string): Doc[] => parseAllDocuments(readFileSync(`deploy/webhook/${file}`, 'utf8')).map((d) => d.toJS());
const one = (file: string, kind: string): Doc => docs(file).find((d) => d.kind === kind);

describe('deploy/webhook', () => {
  const mwc = one('mutatingwebhookconfiguration.yaml', 'MutatingWebhookConfiguration');
  const hook = mwc.webhooks[0];
  const service = one('service.yaml', 'Service');
  const deployment = one('deployment.yaml', 'Deployment');
  const container = deployment.spec.template.spec.containers[0];

  it('registers pod CREATE in opted-in namespaces, v1 reviews, reinvoked, no side effects on dry runs', () => {
    expect(hook.namespaceSelector).to.deep.equal({ matchLabels: { 'monitor-pods-datasets': 'enabled' } });
    expect(hook.rules).to.deep.equal([{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    expect(hook).to.deep.include({
      admissionReviewVersions: ['v1'],
      failurePolicy: 'Fail',
      sideEffects: 'NoneOnDryRun',
      reinvocationPolicy: 'IfNeeded',
      timeoutSeconds: 10,
    });
  });

  it("points at the Service, which points at the container's HTTPS port serving MUTATE_PATH", () => {
    expect(hook.clientConfig.service).to.deep.equal({ name: service.metadata.name, namespace: service.metadata.namespace, path: MUTATE_PATH, port: 443 });
    expect(service.spec.ports).to.deep.equal([{ name: 'https', port: 443, targetPort: 'https' }]);
    expect(deployment.spec.template.metadata.labels).to.deep.include(service.spec.selector);
    const port = Number(
      container.args
        .find((a: string) => a.startsWith('--listen='))
        .split(':')
        .pop(),
    );
    expect(container.ports).to.deep.equal([{ name: 'https', containerPort: port }]);
    expect(container.readinessProbe.httpGet).to.deep.equal({ scheme: 'HTTPS', path: '/healthz', port: 'https' });
  });

  it('mounts the TLS Secret where the flags say the pair is', () => {
    const mount = container.volumeMounts.find((m: Doc) => m.name === 'tls');
    const volume = deployment.spec.template.spec.volumes.find((v: Doc) => v.name === 'tls');
    expect(volume.secret.secretName).to.equal('locus-webhook-tls');
    expect(container.args).to.include(`--cert=${mount.mountPath}/tls.crt`).and.to.include(`--key=${mount.mountPath}/tls.key`);
  });

  it('uses only flags locus webhook knows', async () => {
    const { run } = await import('../../src/cli/webhook.js');
    const flags = container.args.slice(1).map((a: string) => a.split('=')[0]);
    let usage = '';
    await run(['--unknown-flag']).catch((err: { usage: string }) => {
      usage = err.usage;
    });
    for (const f of flags) expect(usage).to.contain(`  ${f} `);
  });

  it("grants only reading Datasets and creating Events, to the Deployment's ServiceAccount", () => {
    const role = one('rbac.yaml', 'ClusterRole');
    const binding = one('rbac.yaml', 'ClusterRoleBinding');
    expect(role.rules).to.deep.equal([
      { apiGroups: ['locus.dev'], resources: ['datasets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ]);
    expect(JSON.stringify(role)).not.to.contain('secrets');
    expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace: 'locus-system' }]);
    expect(binding.roleRef.name).to.equal(role.metadata.name);
  });

  it('is part of deploy/kustomization.yaml', () => {
    const k = parseAllDocuments(readFileSync('deploy/kustomization.yaml', 'utf8'))[0].toJS();
    for (const f of ['serviceaccount.yaml', 'rbac.yaml', 'service.yaml', 'deployment.yaml', 'mutatingwebhookconfiguration.yaml']) {
      expect(k.resources).to.include(`webhook/${f}`);
    }
  });
});
