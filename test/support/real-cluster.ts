// A disposable real cluster for the tests that compare with one or need one: the kubeconfig named by
// LOCUS_REAL_KUBECONFIG, which scripts/e2e.sh sets to its own control plane. Never plain KUBECONFIG, which
// may name a developer's cluster: these tests install the CRDs and leave namespaces behind.
import type { KubeConfig } from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { KubeClient } from '../../src/kube/client.js';
import { loadKubeConfig } from '../../src/kube/config.js';
import type { KubeObject } from '../../src/kube/object.js';
import type { ResourceType } from '../../src/kube/resources.js';
import { skipBecause } from './skip.js';

const CRDS: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
  statusSubresource: true,
};

/** The real cluster's kubeconfig, or a skip that names the variable and who sets it. */
export function realCluster(ctx: Mocha.Context): KubeConfig {
  const file = process.env.LOCUS_REAL_KUBECONFIG;
  if (!file) skipBecause(ctx, 'needs a real API server: LOCUS_REAL_KUBECONFIG is not set (npm run test:e2e sets it to its control plane)');
  return loadKubeConfig({ kubeconfig: file }).kc;
}

/** Creates or replaces every CRD in crds/, then waits until the API server serves each. */
export async function installCrds(client: KubeClient, timeoutMs = 30_000): Promise<void> {
  const crds = readdirSync('crds')
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parse(readFileSync(join('crds', f), 'utf8')) as KubeObject);
  for (const crd of crds) {
    const existing = await client.get<KubeObject>(CRDS, { name: crd.metadata.name });
    if (existing) await client.replace(CRDS, { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata.resourceVersion } });
    else await client.create(CRDS, crd);
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const c = await client.get<KubeObject>(CRDS, { name: crd.metadata.name });
      const conditions = (c?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
      if (conditions.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
