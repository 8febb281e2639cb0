// Moving raw keys out of a Dataset: the merge patch that removes accessKeyID/secretAccessKey from
// its spec and from kubectl's last-applied-configuration annotation (which would otherwise keep a
// readable copy). Conditional on the resourceVersion the operator saw.
import type { KubeObject } from '../kube/object.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function stripKeysPatch(ds: KubeObject, field: 'local' | 'remote'): object {
  const patch: { metadata: Record<string, unknown>; spec: Record<string, unknown> } = {
    metadata: { resourceVersion: ds.metadata.resourceVersion },
    spec: { [field]: { accessKeyID: null, secretAccessKey: null } },
  };
  const lastApplied = ds.metadata.annotations?.[LAST_APPLIED];
  if (lastApplied !== undefined) {
    patch.metadata.annotations = { [LAST_APPLIED]: withoutKeys(lastApplied, field) };
  }
  return patch;
}

/** The annotation's JSON without the keys; an annotation that is not JSON is dropped rather than kept with keys in it. */
function withoutKeys(json: string, field: 'local' | 'remote'): string | null {
  try {
    const obj = JSON.parse(json) as { spec?: Record<string, Record<string, unknown> | undefined> };
    const section = obj.spec?.[field];
    if (section) {
      delete section.accessKeyID;
      delete section.secretAccessKey;
    }
    return JSON.stringify(obj) + '\n';
  } catch {
    return null;
  }
}
