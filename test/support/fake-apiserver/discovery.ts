// Discovery documents (/api, /apis, /api/v1, /apis/<group>/<version>): what client-node's
// KubernetesObjectApi reads to map apiVersion+kind to a plural and a scope.
import type { ResourceType } from '../../../src/kube/resources.js';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersions() {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
}

export function apiGroupList(resources: ResourceType[]) {
  const groups = new Map<string, Set<string>>();
  for (const r of resources.filter((r) => r.group)) {
    if (!groups.has(r.group)) groups.set(r.group, new Set());
    groups.get(r.group)!.add(r.version);
  }
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups].map(([name, versions]) => apiGroup(name, [...versions])) };
}

export function apiGroup(name: string, versions: string[]) {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: list, preferredVersion: list[0] };
}

export function apiResourceList(groupVersion: string, resources: ResourceType[]) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resources.flatMap((r) => {
      const main = { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: VERBS };
      const status = { name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] };
      const binding = { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] };
      return [main, ...(r.statusSubresource ? [status] : []), ...(r.group === '' && r.plural === 'pods' ? [binding] : [])];
    }),
  };
}
