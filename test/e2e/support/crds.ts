// The locus.dev CRDs installed for scenarios that need them (the CRD scenario itself applies crds/ as a user does).
import { get } from './api.js';
import { kubectlOk } from './kubectl.js';
import { until } from './wait.js';

const CRD_FILES = ['crds/dataset.yaml', 'crds/nodecache.yaml'];
export const CRD_NAMES = ['datasets.locus.dev', 'nodecaches.locus.dev'];

/** Waits until the apiserver reports the CRD Established, i.e. serving its resource. */
export async function established(crd: string): Promise<void> {
  await until(`${crd} Established`, async () => {
    const o = await get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
    return (o.status?.conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === 'Established' && c.status === 'True');
  });
}

export async function installCrds(): Promise<void> {
  await kubectlOk(['apply', ...CRD_FILES.flatMap((f) => ['-f', f])]);
  for (const crd of CRD_NAMES) await established(crd);
}
