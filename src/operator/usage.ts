// The data-access audit: which pods use which Dataset, from the pods' Datashim labels and their
// PVC volumes named after a Dataset (the same reading the webhook and the extender use).
import { datasetRefsFromPod } from '../core/dataset-refs.js';
import type { PodLike } from '../core/pod.js';
import { datasetKey, type DatasetKey } from '../core/types.js';

export interface PodObject extends PodLike {
  status?: { phase?: string } | null;
}

export class UsageIndex {
  /** Pod key (`ns/name`) → the Datasets it uses. */
  private readonly byPod = new Map<string, Set<DatasetKey>>();
  /** Dataset key → names of the pods using it. */
  private readonly byDataset = new Map<DatasetKey, Set<string>>();

  constructor(private readonly isDataset: (namespace: string, name: string) => boolean) {}

  /** Records a pod as it is now; returns the Datasets whose users changed. */
  setPod(pod: PodObject): DatasetKey[] {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    // Finished pods read nothing any more.
    const phase = pod.status?.phase;
    const uses =
      phase === 'Succeeded' || phase === 'Failed'
        ? new Set<DatasetKey>()
        : new Set(datasetRefsFromPod(pod, { isDataset: this.isDataset }).refs.map((r) => datasetKey(r.namespace, r.name)));
    return this.replace(`${ns}/${name}`, name, uses);
  }

  deletePod(pod: PodObject): DatasetKey[] {
    return this.replace(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, pod.metadata?.name ?? '', new Set());
  }

  /** Names of the pods using a Dataset, sorted. */
  pods(key: DatasetKey): string[] {
    return [...(this.byDataset.get(key) ?? [])].sort();
  }

  /** Pod counts of every Dataset that has users. */
  counts(): Map<DatasetKey, number> {
    return new Map([...this.byDataset].map(([k, v]) => [k, v.size]));
  }

  private replace(podKey: string, podName: string, next: Set<DatasetKey>): DatasetKey[] {
    const before = this.byPod.get(podKey) ?? new Set<DatasetKey>();
    const changed: DatasetKey[] = [];
    for (const key of before) {
      if (next.has(key)) continue;
      const users = this.byDataset.get(key);
      users?.delete(podName);
      if (users?.size === 0) this.byDataset.delete(key);
      changed.push(key);
    }
    for (const key of next) {
      if (before.has(key)) continue;
      let users = this.byDataset.get(key);
      if (!users) this.byDataset.set(key, (users = new Set()));
      users.add(podName);
      changed.push(key);
    }
    if (next.size > 0) this.byPod.set(podKey, next);
    else this.byPod.delete(podKey);
    return changed;
  }
}
