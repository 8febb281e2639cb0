// The scheduler configurations users apply must call the routes the extender serves, at the
// address the extender's Service and Deployment expose; the v1beta1 one must satisfy a real
// kube-scheduler 1.20 (the version of the captured fixtures).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { FILTER_VERB, PRIORITIZE_VERB } from '../../src/extender/app.js';
import { createExtender, DEFAULTS } from '../../src/extender/server.js';
import { FileSource } from '../../src/inventory/file-source.js';
import type { Wire } from './harness.js';
import { skipBecause } from '../support/skip.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const yaml = (path: string): Wire => parse(readFileSync(join(root, path), 'utf8'));
const docs = (path: string): Wire[] => parseAllDocuments(readFileSync(join(root, path), 'utf8')).map((d) => d.toJS());
const run = promisify(execFile);

const CONFIGS = ['scheduler-config/locus-scheduler.yaml', 'scheduler-config/default-scheduler.yaml', 'scheduler-config/locus-scheduler-v1beta1.yaml'];

/** `POST <path>` routes the extender's router registers. */
function registeredPosts(): string[] {
  const ext = createExtender({ source: new FileSource({}) });
  return ext.router.stack.filter((layer) => layer.methods.includes('POST')).map((layer) => String(layer.path));
}

describe('scheduler-config/', () => {
  const service = docs('deploy/extender/service.yaml')[0];
  const deployment = docs('deploy/extender/deployment.yaml')[0];
  const args: string[] = deployment.spec.template.spec.containers[0].args;
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

  for (const file of CONFIGS) {
    describe(file, () => {
      const config = yaml(file);
      const extender = config.extenders[0];
      const url = new URL(extender.urlPrefix);

      it('is a KubeSchedulerConfiguration with one extender, names only, ignorable, answering within 5 s', () => {
        expect(config.kind).to.equal('KubeSchedulerConfiguration');
        expect(config.apiVersion).to.match(/^kubescheduler\.config\.k8s\.io\/v1(beta1)?$/);
        expect(config.extenders).to.have.length(1);
        expect(extender).to.include({ nodeCacheCapable: true, ignorable: true, enableHTTPS: false });
        expect(extender.weight).to.be.a('number').and.above(0);
        expect(extender.httpTimeout).to.match(/^[1-5]s$/);
      });

      it("lets every feasible node be scored, so the holders of a pod's data reach the extender", () => {
        expect(config.percentageOfNodesToScore).to.equal(100);
      });

      it('calls the routes the extender registers', () => {
        expect(extender).to.include({ filterVerb: FILTER_VERB, prioritizeVerb: PRIORITIZE_VERB });
        expect(url.pathname).to.equal(DEFAULTS.prefix);
        expect(flag('prefix')).to.equal(DEFAULTS.prefix);
        const posts = registeredPosts();
        expect(posts).to.include(`${url.pathname}/${extender.filterVerb}`);
        expect(posts).to.include(`${url.pathname}/${extender.prioritizeVerb}`);
        expect(extender).not.to.have.any.keys('bindVerb', 'preemptVerb');
      });

      it("calls the extender's Service, on the port its Deployment listens on", () => {
        expect(url.hostname).to.equal(`${service.metadata.name}.${service.metadata.namespace}.svc`);
        expect(Number(url.port)).to.equal(service.spec.ports[0].port);
        const containerPort = deployment.spec.template.spec.containers[0].ports.find((p: Wire) => p.name === service.spec.ports[0].targetPort).containerPort;
        expect(flag('listen')).to.equal(`0.0.0.0:${containerPort}`);
      });
    });
  }

  it('runs the second scheduler as locus-scheduler, and the default one as default-scheduler', () => {
    expect(yaml('scheduler-config/locus-scheduler.yaml').profiles.map((p: Wire) => p.schedulerName)).to.deep.equal(['locus-scheduler']);
    expect(yaml('scheduler-config/locus-scheduler-v1beta1.yaml').profiles.map((p: Wire) => p.schedulerName)).to.deep.equal(['locus-scheduler']);
    expect(yaml('scheduler-config/default-scheduler.yaml').profiles.map((p: Wire) => p.schedulerName)).to.deep.equal(['default-scheduler']);
  });

  it('uses only extender fields the captured kube-scheduler 1.20 configuration uses', () => {
    const captured = yaml('test/fixtures/scheduler-config-v1beta1.yaml').extenders[0];
    expect(Object.keys(captured)).to.include.members(Object.keys(yaml('scheduler-config/locus-scheduler-v1beta1.yaml').extenders[0]));
  });

  it('mounts the generated ConfigMap holding the file the scheduler is started with', () => {
    const kustomization = yaml('scheduler-config/kustomization.yaml');
    const generated = kustomization.configMapGenerator[0];
    const scheduler = docs('scheduler-config/deployment.yaml')[0].spec.template.spec;
    const config = scheduler.containers[0].command.find((a: string) => a.startsWith('--config=')).split('=')[1];
    const mount = scheduler.containers[0].volumeMounts[0];
    expect(scheduler.volumes.find((v: Wire) => v.name === mount.name).configMap.name).to.equal(generated.name);
    expect(config.startsWith(`${mount.mountPath}/`)).to.equal(true);
    expect(generated.files).to.include(config.slice(mount.mountPath.length + 1));
    expect(generated.files).to.include('locus-scheduler-v1beta1.yaml');
  });

  const kubeScheduler = join(root, '.k8s-bin/kube-scheduler');
  it('satisfies a real kube-scheduler 1.20 (v1beta1 variant)', async function () {
    if (!existsSync(kubeScheduler)) skipBecause(this, `needs ${kubeScheduler}: run scripts/k8s/build.sh (.ci/run does, before npm test)`);
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'locus-sched-'));
    writeFileSync(
      join(dir, 'kubeconfig'),
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n',
    );
    const check = async (text: string) => {
      writeFileSync(join(dir, 'config.yaml'), `${text}\nclientConnection:\n  kubeconfig: ${join(dir, 'kubeconfig')}\n`);
      return run(kubeScheduler, ['--config', join(dir, 'config.yaml'), '--write-config-to', join(dir, 'out.yaml')]).then(
        () => '',
        (err: Wire) => String(err.stderr),
      );
    };
    const text = readFileSync(join(root, 'scheduler-config/locus-scheduler-v1beta1.yaml'), 'utf8');
    expect(await check(text)).to.equal('');
    expect(parse(readFileSync(join(dir, 'out.yaml'), 'utf8')).extenders[0]).to.include({ filterVerb: 'filter', nodeCacheCapable: true, ignorable: true });
    // The scheduler keeps percentageOfNodesToScore as written (100: every feasible node is scored).
    expect(parse(readFileSync(join(dir, 'out.yaml'), 'utf8')).percentageOfNodesToScore).to.equal(100);
    // The check can fail: a weight or a percentage the scheduler refuses is reported.
    expect(await check(text.replace('weight: 5', 'weight: -1'))).to.contain('extenders[0].weight: Invalid value: -1');
    expect(await check(text.replace('percentageOfNodesToScore: 100', 'percentageOfNodesToScore: 101'))).to.contain('percentageOfNodesToScore');
  });
});

describe("deploy/ and scheduler-config/ build with kubectl 1.20's kustomize", () => {
  const kubectl = join(root, '.k8s-bin/kubectl');
  for (const dir of ['deploy', 'scheduler-config']) {
    it(`kubectl kustomize ${dir}/`, async function () {
      if (!existsSync(kubectl)) skipBecause(this, `needs ${kubectl}: run scripts/k8s/build.sh (.ci/run does, before npm test)`);
      this.timeout(60_000);
      const { stdout } = await run(kubectl, ['kustomize', join(root, dir)], { maxBuffer: 16 << 20 });
      const kinds = parseAllDocuments(stdout).map((d) => `${d.get('kind')}/${(d.toJS() as Wire).metadata.name}`);
      if (dir === 'deploy') {
        expect(kinds).to.include.members([
          'Namespace/locus-system',
          'Deployment/locus-extender',
          'Service/locus-extender',
          'ClusterRole/locus-extender',
          'Secret/locus-extender-token',
        ]);
      } else {
        expect(kinds).to.include.members(['ConfigMap/locus-scheduler-config', 'Deployment/locus-scheduler', 'Role/locus-scheduler-leader-election']);
      }
    });
  }
});
