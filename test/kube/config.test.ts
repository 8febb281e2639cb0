import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createKubeClient } from '../../src/kube/client.js';
import { KubeConfigError, loadKubeConfig } from '../../src/kube/config.js';
import { NODES } from '../../src/kube/resources.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const kubeconfigFor = (server: string, context = 'main') => `apiVersion: v1
kind: Config
clusters: [{ name: ${context}, cluster: { server: '${server}', insecure-skip-tls-verify: true } }]
users: [{ name: ${context}, user: { token: t } }]
contexts: [{ name: ${context}, context: { cluster: ${context}, user: ${context} } }]
current-context: ${context}
`;

describe('kube/config', () => {
  const saved = { ...process.env };
  let dir: string;
  let home: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'locus-config-'));
    home = join(dir, 'home');
    mkdirSync(home);
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_PORT;
  });
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('--kubeconfig wins over KUBECONFIG, and the loaded config reaches the server', async () => {
    const api = await FakeApiServer.start();
    try {
      process.env.KUBECONFIG = join(dir, 'does-not-matter');
      const { kc, source } = loadKubeConfig({ kubeconfig: api.writeKubeconfig(join(dir, 'fake.yaml')) });
      expect(source).to.equal('flag');
      api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } });
      expect((await createKubeClient(kc).get(NODES, { name: 'node-a' }))?.metadata.name).to.equal('node-a');
    } finally {
      await api.close();
    }
  });

  it("KUBECONFIG may list several files, merged with the first one's context current", () => {
    writeFileSync(join(dir, 'a'), kubeconfigFor('http://127.0.0.1:1', 'a'));
    writeFileSync(join(dir, 'b'), kubeconfigFor('http://127.0.0.1:2', 'b'));
    process.env.KUBECONFIG = `${join(dir, 'a')}:${join(dir, 'b')}`;
    const { kc, source } = loadKubeConfig({ home });
    expect(source).to.equal('env');
    expect(kc.getCurrentCluster()?.server).to.equal('http://127.0.0.1:1');
    expect(loadKubeConfig({ context: 'b' }).kc.getCurrentCluster()?.server).to.equal('http://127.0.0.1:2');
  });

  it('uses the pod service account when in a cluster, before ~/.kube/config', () => {
    const sa = join(dir, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'namespace'), 'locus-system');
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube/config'), kubeconfigFor('http://127.0.0.1:3'));
    process.env.KUBERNETES_SERVICE_HOST = '10.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    const { kc, source } = loadKubeConfig({ home, inClusterPrefix: dir });
    expect(source).to.equal('in-cluster');
    expect(kc.getCurrentCluster()?.server).to.equal('https://10.0.0.1:443');
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).to.equal('locus-system');
  });

  it('falls back to ~/.kube/config', () => {
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube/config'), kubeconfigFor('http://127.0.0.1:4'));
    const { kc, source } = loadKubeConfig({ home, inClusterPrefix: dir });
    expect(source).to.equal('home');
    expect(kc.getCurrentCluster()?.server).to.equal('http://127.0.0.1:4');
  });

  it('fails clearly, naming the fix', () => {
    expect(() => loadKubeConfig({ home, inClusterPrefix: dir })).to.throw(
      KubeConfigError,
      /looked at --kubeconfig, KUBECONFIG, the pod's service account and ~\/\.kube\/config \(.*\.kube\/config\)/,
    );
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'missing.yaml') })).to.throw(
      KubeConfigError,
      /--kubeconfig: kubeconfig file ".*missing.yaml" does not exist/,
    );
    writeFileSync(join(dir, 'a'), kubeconfigFor('http://127.0.0.1:1', 'a'));
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'a'), context: 'prod' })).to.throw(
      KubeConfigError,
      /context "prod" is not in the kubeconfig \(contexts: a\); fix --context/,
    );
  });
});
