// deploy-1.20/ is deploy/ with exactly the changes a 1.20/1.21 API server needs (the e2e suite installs
// it on its 1.20 cluster): the webhook's PodDisruptionBudget in policy/v1beta1, no internalTrafficPolicy
// on the agent Service, and so the webhook pointing pods at their node's agent by hostIP. Anything else
// added to deploy/ reaches 1.20 clusters unchanged, or this fails.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { skipBecause } from '../support/skip.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const kubectl = join(root, '.k8s-bin/kubectl');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

async function render(dir: string): Promise<Map<string, Doc>> {
  const { stdout } = await promisify(execFile)(kubectl, ['kustomize', dir], { cwd: root, maxBuffer: 16 << 20 });
  const docs = parseAllDocuments(stdout).map((d) => d.toJS() as Doc);
  return new Map(docs.map((d) => [`${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`, d]));
}

describe('deploy-1.20/: deploy/ for Kubernetes 1.20', function () {
  this.timeout(60_000);
  before(function () {
    if (!existsSync(kubectl)) skipBecause(this, `needs ${kubectl}: run scripts/k8s/build.sh`);
  });

  it("differs from deploy/ only in the PodDisruptionBudget's apiVersion, the agent Service's internalTrafficPolicy and the webhook's --agent-host-port", async () => {
    const [current, old] = await Promise.all([render('deploy/'), render('deploy-1.20/')]);
    expect([...old.keys()].sort()).to.deep.equal([...current.keys()].sort());
    const pdb = 'PodDisruptionBudget/locus-system/locus-webhook';
    const svc = 'Service/locus-system/locus-agent';
    expect(current.get(pdb).apiVersion).to.equal('policy/v1');
    expect(old.get(pdb).apiVersion).to.equal('policy/v1beta1');
    expect(current.get(svc).spec.internalTrafficPolicy).to.equal('Local');
    expect(old.get(svc).spec).to.not.have.property('internalTrafficPolicy');
    const webhook = 'Deployment/locus-system/locus-webhook';
    const args = (d: Doc) => d.spec.template.spec.containers[0].args as string[];
    expect(args(current.get(webhook))).to.not.include('--agent-host-port=9300');
    expect(args(old.get(webhook))).to.deep.equal([...args(current.get(webhook)), '--agent-host-port=9300']);
    // The DaemonSet's s3 port is on the node's address, where that flag sends pods.
    const ds = current.get('DaemonSet/locus-system/locus-agent').spec.template.spec.containers[0].ports;
    expect(ds).to.deep.include({ name: 's3', containerPort: 9300, hostPort: 9300 });
    old.get(pdb).apiVersion = 'policy/v1';
    old.get(svc).spec.internalTrafficPolicy = 'Local';
    args(old.get(webhook)).pop();
    for (const [key, doc] of current) expect(old.get(key), key).to.deep.equal(doc);
  });
});
