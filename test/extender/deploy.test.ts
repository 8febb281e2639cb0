// The extender's shipped RBAC lets it list and watch exactly what its informers watch, and write nothing.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
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

  it('is read-only', () => {
    const verbs = new Set(rules.flatMap((r) => r.verbs));
    expect([...verbs].sort()).to.deep.equal(['get', 'list', 'watch']);
  });
});
