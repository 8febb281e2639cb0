// deploy/agent agrees with itself and with the agent: one identity throughout, the least RBAC the
// agent's calls need, the admission policy bound to that identity, and flags the CLI accepts.
import { readdir, readFile } from 'node:fs/promises';
import { expect } from 'chai';
import YAML from 'yaml';
import { run } from '../../src/cli/agent.js';

type Doc = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown } & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function docs(file: string): Promise<Doc[]> {
  return YAML.parseAllDocuments(await readFile(new URL(`../../deploy/agent/${file}`, import.meta.url), 'utf8')).map((d) => d.toJSON() as Doc);
}

/** The files a kustomization in deploy/agent lists, checked to be all the YAML beside it. */
async function kustomized(dir: string): Promise<string[]> {
  const base = new URL(`../../deploy/agent/${dir}`, import.meta.url);
  const files = (await readdir(base)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const kustomization = YAML.parse(await readFile(new URL('kustomization.yaml', base), 'utf8'));
  expect([...kustomization.resources].sort(), `${dir}kustomization.yaml`).to.deep.equal(files.sort());
  return files.map((f) => dir + f);
}

describe('agent deployment manifests', () => {
  let all: Doc[];
  const one = (kind: string, name = 'locus-agent') => all.find((d) => d.kind === kind && d.metadata.name === name)!;

  before(async () => {
    const files = [...(await kustomized('')), ...(await kustomized('admission-policy/'))];
    all = (await Promise.all(files.map(docs))).flat();
    const top = YAML.parse(await readFile(new URL('../../deploy/kustomization.yaml', import.meta.url), 'utf8'));
    expect([...(top.resources ?? []), ...(top.bases ?? [])].map((r: string) => r.replace(/\/$/, ''))).to.include('agent');
  });

  it('runs the DaemonSet as the ServiceAccount the RBAC and the admission policy name', () => {
    const sa = one('ServiceAccount');
    const ds = one('DaemonSet');
    expect(ds.spec.template.spec.serviceAccountName).to.equal(sa.metadata.name);
    expect(ds.metadata.namespace).to.equal(sa.metadata.namespace);
    const username = `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`;
    for (const binding of [one('ClusterRoleBinding'), one('RoleBinding')]) {
      expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    }
    const vap = one('ValidatingAdmissionPolicy', 'locus-agent-own-nodecache');
    expect(vap.spec.matchConditions[0].expression).to.equal(`request.userInfo.username == '${username}'`);
    expect(vap.spec.matchConstraints.resourceRules[0].resources).to.deep.equal(['nodecaches', 'nodecaches/status']);
    const binding = one('ValidatingAdmissionPolicyBinding', 'locus-agent-own-nodecache');
    expect(binding.spec).to.deep.equal({ policyName: vap.metadata.name, validationActions: ['Deny'] });
    expect(vap.spec.variables.find((v: { name: string }) => v.name === 'node').expression).to.contain(
      "request.userInfo.extra['authentication.kubernetes.io/node-name'][0]",
    );
    expect(vap.spec.validations.map((v: { expression: string }) => v.expression)).to.include('variables.target.metadata.name == variables.node');
  });

  it('grants only what the agent calls: NodeCache get/create and status update, Dataset list/watch, Node get, Pod list/watch, Job get, its DaemonSet get', () => {
    const rules = one('ClusterRole').rules.map(
      (r: { apiGroups: string[]; resources: string[]; verbs: string[] }) => `${r.apiGroups[0]}/${r.resources.join(',')}:${r.verbs.join(',')}`,
    );
    expect(rules).to.deep.equal([
      'locus.dev/nodecaches:get,create,patch,list,watch',
      'locus.dev/nodecaches/status:update',
      'locus.dev/datasets:list,watch',
      '/nodes:get',
      '/pods:list,watch',
      'batch/jobs:get',
    ]);
    const role = one('Role');
    expect(role.rules).to.deep.equal([{ apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [one('DaemonSet').metadata.name], verbs: ['get'] }]);
  });

  it('passes the agent only flags it accepts, and serves the advertised address node-locally', async () => {
    const container = one('DaemonSet').spec.template.spec.containers[0];
    const [sub, ...args] = container.args as string[];
    expect(sub).to.equal('agent');
    const write = process.stdout.write;
    process.stdout.write = () => true;
    try {
      expect(await run([...args, '--help'])).to.equal(0);
    } finally {
      process.stdout.write = write;
    }
    const svc = one('Service');
    expect(svc.spec.internalTrafficPolicy).to.equal('Local');
    const advertised = new URL(args.find((a) => a.startsWith('--advertise-url='))!.split('=')[1]);
    expect(advertised.hostname).to.equal(`${svc.metadata.name}.${svc.metadata.namespace}.svc`);
    expect(Number(advertised.port)).to.equal(svc.spec.ports[0].port);
    expect(container.ports.find((p: { name: string }) => p.name === 's3').containerPort).to.equal(
      Number(
        args
          .find((a) => a.startsWith('--listen='))!
          .split(':')
          .pop(),
      ),
    );
    expect(args).to.include(`--daemonset=$(POD_NAMESPACE)/${one('DaemonSet').metadata.name}`);
  });
});
