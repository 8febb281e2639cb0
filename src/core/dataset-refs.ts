// Which Datasets a pod reads: Datashim's `dataset.<i>.id` / `dataset.<i>.useas` labels, and PVC
// volumes whose claim is named after a Dataset (the operator names each Dataset's PVC after it).
import { OBJECT_NAME } from '../api/names.js';
import type { PodLike } from './pod.js';
import type { DatasetRef, Problem, UseAs } from './types.js';

const LABEL = /^dataset\.(\d+)\.(id|useas)$/;
const USES: readonly UseAs[] = ['mount', 'configmap'];

export interface DatasetRefsOptions {
  /** Namespace to use when the pod object carries none (as in an AdmissionReview of a CREATE). */
  namespace?: string;
  /** Tells whether a Dataset of this name exists; without it PVC volumes are not considered. */
  isDataset?: (namespace: string, name: string) => boolean;
}

export interface DatasetRefs {
  refs: DatasetRef[];
  problems: Problem[];
}

export function datasetRefsFromPod(pod: PodLike, opts: DatasetRefsOptions = {}): DatasetRefs {
  const namespace = pod.metadata?.namespace || opts.namespace || 'default';
  const problems: Problem[] = [];
  const ids = new Map<number, string>();
  const useas = new Map<number, string>();

  for (const [key, value] of Object.entries(pod.metadata?.labels ?? {})) {
    if (!key.startsWith('dataset.')) continue;
    const m = LABEL.exec(key);
    if (!m) {
      problems.push({
        field: key,
        message: `label "${key}" is not of the form dataset.<index>.id or dataset.<index>.useas; rename it, e.g. "dataset.0.id"`,
      });
      continue;
    }
    (m[2] === 'id' ? ids : useas).set(Number(m[1]), value);
  }

  for (const index of useas.keys()) {
    if (!ids.has(index)) {
      problems.push({
        field: `dataset.${index}.useas`,
        message: `label "dataset.${index}.useas" has no "dataset.${index}.id"; add dataset.${index}.id: <dataset name>, or remove the useas label`,
      });
    }
  }

  const refs: DatasetRef[] = [];
  const seen = new Map<string, number>();
  for (const index of [...ids.keys()].sort((a, b) => a - b)) {
    const name = ids.get(index)!;
    const field = `dataset.${index}.id`;
    if (!OBJECT_NAME.test(name)) {
      problems.push({
        field,
        message: `label "${field}" must name a Dataset (lower-case letters, digits, "-" and "."), got "${name}"`,
      });
      continue;
    }
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({
        field,
        message: `labels "dataset.${first}.id" and "${field}" both name "${name}"; keep one and join the uses in its useas label, e.g. dataset.${first}.useas: mount.configmap`,
      });
      continue;
    }
    seen.set(name, index);
    refs.push({ namespace, name, useAs: parseUseAs(index, useas.get(index), problems), source: { kind: 'label', index } });
  }

  if (opts.isDataset) {
    for (const volume of pod.spec?.volumes ?? []) {
      const claim = volume.persistentVolumeClaim?.claimName;
      if (!claim || seen.has(claim) || !opts.isDataset(namespace, claim)) continue;
      seen.set(claim, -1);
      refs.push({ namespace, name: claim, useAs: ['mount'], source: { kind: 'pvc', volume: volume.name ?? claim } });
    }
  }
  return { refs, problems };
}

/** `mount`, `configmap` or both joined by a dot (label values cannot hold commas); absent means mount. */
function parseUseAs(index: number, value: string | undefined, problems: Problem[]): UseAs[] {
  if (value === undefined || value === '') return ['mount'];
  const uses: UseAs[] = [];
  for (const part of value.split('.')) {
    if ((USES as readonly string[]).includes(part)) {
      if (!uses.includes(part as UseAs)) uses.push(part as UseAs);
    } else {
      problems.push({
        field: `dataset.${index}.useas`,
        message: `label "dataset.${index}.useas" has unknown use "${part}"; use mount, configmap or mount.configmap`,
      });
    }
  }
  return uses.length > 0 ? uses : ['mount'];
}
