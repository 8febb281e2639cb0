// Probes 2 and 4 at the network: the agent's S3 port and the extender answered anyone who could reach
// them. deploy/ now carries NetworkPolicies: only pods of the cluster reach the agents, only the
// schedulers (locus-scheduler's pods, kube-scheduler's namespace) reach the extender. The manifests
// are read as kubectl applies them (the kustomizations) and evaluated for concrete clients with the
// NetworkPolicy semantics of networking.k8s.io/v1.
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import YAML from 'yaml';

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: unknown[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}
interface Policy {
  kind: 'NetworkPolicy';
  metadata: { name: string; namespace: string };
  spec: { podSelector: Selector; policyTypes?: string[]; ingress?: { from?: Peer[]; ports?: { port: number | string; protocol?: string }[] }[] };
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

/** A client: a pod (its namespace's labels and its own) or an address outside the cluster. */
type Client = { pod: { namespace: string; namespaceLabels: Labels; labels: Labels } } | { ip: string };

const selects = (s: Selector, labels: Labels): boolean => {
  expect(s.matchExpressions ?? [], 'matchExpressions are not evaluated here').to.deep.equal([]);
  return Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
};

function peerAdmits(peer: Peer, policyNamespace: string, c: Client): boolean {
  if (peer.ipBlock) throw new Error('an ipBlock admits addresses outside the cluster');
  if (!('pod' in c)) return false; // selectors match pods only
  const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, c.pod.namespaceLabels) : c.pod.namespace === policyNamespace;
  return nsOk && (peer.podSelector ? selects(peer.podSelector, c.pod.labels) : true);
}

/** Whether the policies let `c` reach TCP `port` of a pod with `labels` in `namespace`. */
function admits(policies: Policy[], namespace: string, labels: Labels, port: number, c: Client): boolean {
  const applying = policies.filter(
    (p) => p.metadata.namespace === namespace && selects(p.spec.podSelector, labels) && (p.spec.policyTypes ?? ['Ingress']).includes('Ingress'),
  );
  if (applying.length === 0) return true; // no policy: everything is admitted
  return applying.some((p) =>
    (p.spec.ingress ?? []).some(
      (rule) =>
        (rule.ports === undefined || rule.ports.some((r) => r.port === port && (r.protocol ?? 'TCP') === 'TCP')) &&
        (rule.from === undefined || rule.from.some((peer) => peerAdmits(peer, p.metadata.namespace, c))),
    ),
  );
}

async function yamlDocs(path: string): Promise<Doc[]> {
  return YAML.parseAllDocuments(await readFile(new URL(`../../${path}`, import.meta.url), 'utf8')).map((d) => d.toJSON() as Doc);
}

/** Every object `kubectl apply -k deploy/` creates (resources and bases, one level of folders). */
async function applied(): Promise<Doc[]> {
  const top = YAML.parse(await readFile(new URL('../../deploy/kustomization.yaml', import.meta.url), 'utf8'));
  const out: Doc[] = [];
  for (const entry of [...(top.resources ?? []), ...(top.bases ?? [])] as string[]) {
    if (entry.endsWith('.yaml')) out.push(...(await yamlDocs(`deploy/${entry}`)));
    else {
      const k = YAML.parse(await readFile(new URL(`../../deploy/${entry}/kustomization.yaml`, import.meta.url), 'utf8'));
      for (const f of k.resources as string[]) out.push(...(await yamlDocs(`deploy/${entry}/${f}`)));
    }
  }
  return out;
}

const tenantPod: Client = { pod: { namespace: 'tenant-a', namespaceLabels: { 'kubernetes.io/metadata.name': 'tenant-a' }, labels: { app: 'trainer' } } };
const locusSystem = { 'kubernetes.io/metadata.name': 'locus-system', 'app.kubernetes.io/part-of': 'locus' };
const outside: Client = { ip: '203.0.113.7' };

describe('security: NetworkPolicies in deploy/ (agent port: cluster pods only; extender: schedulers only)', () => {
  let docs: Doc[];
  let policies: Policy[];
  let scheduler: Client;
  const podOf = (kind: string, name: string) => {
    const d = docs.find((x) => x.kind === kind && x.metadata.name === name);
    expect(d, `${kind} ${name} in deploy/`).to.not.equal(undefined);
    const container = d!.spec.template.spec.containers[0];
    return {
      namespace: d!.metadata.namespace as string,
      labels: d!.spec.template.metadata.labels as Labels,
      ports: container.ports as { name: string; containerPort: number }[],
    };
  };

  before(async () => {
    docs = await applied();
    policies = docs.filter((d) => d.kind === 'NetworkPolicy') as Policy[];
    const s = (await yamlDocs('scheduler-config/deployment.yaml')).find((d) => d.kind === 'Deployment')!;
    scheduler = { pod: { namespace: s.metadata.namespace, namespaceLabels: locusSystem, labels: s.spec.template.metadata.labels } };
  });

  it("admits pods of every namespace to the agent's S3 and ops ports, and no address outside the cluster", () => {
    const agent = podOf('DaemonSet', 'locus-agent');
    for (const port of agent.ports.map((p) => p.containerPort)) {
      expect(admits(policies, agent.namespace, agent.labels, port, tenantPod), `tenant pod → agent :${port}`).to.equal(true);
      expect(admits(policies, agent.namespace, agent.labels, port, outside), `outside → agent :${port}`).to.equal(false);
    }
    expect(admits(policies, agent.namespace, agent.labels, 22, tenantPod), 'no other port').to.equal(false);
  });

  it("admits only the schedulers to the extender: locus-scheduler's pods and kube-scheduler's namespace", () => {
    const ext = podOf('Deployment', 'locus-extender');
    const port = ext.ports.find((p) => p.name === 'http')!.containerPort;
    expect(admits(policies, ext.namespace, ext.labels, port, scheduler), 'locus-scheduler').to.equal(true);
    const kubeSystem: Client = {
      pod: { namespace: 'kube-system', namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' }, labels: { component: 'kube-scheduler' } },
    };
    expect(admits(policies, ext.namespace, ext.labels, port, kubeSystem), 'kube-system').to.equal(true);
    expect(admits(policies, ext.namespace, ext.labels, port, tenantPod), 'tenant pod').to.equal(false);
    expect(admits(policies, ext.namespace, ext.labels, port, outside), 'outside').to.equal(false);
    // Not even the agents beside it in locus-system.
    const agentPod: Client = { pod: { namespace: 'locus-system', namespaceLabels: locusSystem, labels: podOf('DaemonSet', 'locus-agent').labels } };
    expect(admits(policies, ext.namespace, ext.labels, port, agentPod), 'an agent pod').to.equal(false);
  });

  it('on Kubernetes 1.20 (deploy-1.20/, same policies) kube-system is admitted once labelled as the README says', async () => {
    // 1.20 API servers do not set kubernetes.io/metadata.name (1.21+ do); the README's install step for
    // 1.20 sets it on kube-system. test/deploy/compat.test.ts holds deploy-1.20/ to deploy/'s policies.
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const command = /`kubectl label ns kube-system ([\w./-]+)=([\w.-]+)`/.exec(readme);
    expect(command, "README's label command for 1.20").to.not.equal(null);
    const ext = podOf('Deployment', 'locus-extender');
    const port = ext.ports.find((p) => p.name === 'http')!.containerPort;
    const kubeScheduler = (namespaceLabels: Labels): Client => ({
      pod: { namespace: 'kube-system', namespaceLabels, labels: { component: 'kube-scheduler' } },
    });
    expect(admits(policies, ext.namespace, ext.labels, port, kubeScheduler({})), 'kube-system as 1.20 creates it').to.equal(false);
    expect(admits(policies, ext.namespace, ext.labels, port, kubeScheduler({ [command![1]]: command![2] })), 'labelled as the README says').to.equal(true);
    // The value API servers set from 1.21 on, so the policy keeps matching after an upgrade.
    expect(command![2]).to.equal('kube-system');
  });
});
