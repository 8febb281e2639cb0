// The extender's shipped RBAC lets it list and watch what its informers watch, and write only what
// warm-ahead writes: NodeCaches' spec, and its Lease.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { WARM_DEFAULTS } from '../../src/cli/extender.js';
import { WATCHED_RESOURCES } from '../../src/inventory/kube-source.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe('deploy/extender/rbac.yaml', () => {
  const role = parseAllDocuments(readFileSync('deploy/extender/rbac.yaml', 'utf8'))
    .map((d) => d.toJS())
    .find((o) => o.kind === 'ClusterRole');
  const rules = role.rules as Rule[];
  const allows = (group: string, resource: string, verb: string) =>
    rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

  for (const res of WATCHED_RESOURCES) {
    it(`lets the extender list and watch ${res.group || 'core'}/${res.plural}`, () => {
      expect(allows(res.group, res.plural, 'list') && allows(res.group, res.plural, 'watch')).to.equal(true);
    });
  }

  it('writes nothing but the spec of NodeCaches (warm-ahead), never their status', () => {
    const writes = rules.filter((r) => r.verbs.some((v) => !['get', 'list', 'watch'].includes(v)));
    expect(writes).to.deep.equal([{ apiGroups: ['locus.dev'], resources: ['nodecaches'], verbs: ['patch'] }]);
  });

  it('lets warm-ahead list and watch pods and hold its Lease, in its own namespace only', () => {
    expect(allows('', 'pods', 'list') && allows('', 'pods', 'watch')).to.equal(true);
    const docs = parseAllDocuments(readFileSync('deploy/extender/rbac.yaml', 'utf8')).map((d) => d.toJS());
    const lease = docs.find((o) => o.kind === 'Role');
    expect(lease.metadata.namespace).to.equal('locus-system');
    const leaseRules = lease.rules as Array<Rule & { resourceNames?: string[] }>;
    expect(leaseRules.every((r) => r.apiGroups.join() === 'coordination.k8s.io' && r.resources.join() === 'leases')).to.equal(true);
    expect(leaseRules.flatMap((r) => r.verbs).sort()).to.deep.equal(['create', 'get', 'update']);
    expect(leaseRules.find((r) => r.verbs.includes('update'))?.resourceNames).to.deep.equal([WARM_DEFAULTS.leaseName]);
    expect(docs.find((o) => o.kind === 'RoleBinding')?.roleRef.name).to.equal(lease.metadata.name);
  });
});
