// Status conditions: each says what is wrong and how to fix it; lastTransitionTime moves only when
// the status of a condition changes, so an unchanged reconcile writes an unchanged status.
import type { Condition } from '../api/dataset.js';

export type ConditionType =
  | 'Ready'
  | 'CredentialsResolved'
  | 'CatalogResolved'
  | 'CatalogListed'
  | 'VolumeBound'
  | 'RawKeysInSpec'
  | 'ArchiveStaged'
  | 'BucketProvisioned'
  | 'DirectoryCreated'
  | 'ReadThroughAgents'
  | 'Unsupported';

export interface ConditionInput {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** The new conditions in the given order, keeping each one's lastTransitionTime while its status holds. */
export function mergeConditions(previous: readonly Condition[] | undefined, next: readonly ConditionInput[], now: string, generation?: number): Condition[] {
  return next.map((c) => {
    const before = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = before && before.status === c.status ? before.lastTransitionTime : now;
    const out: Condition = { type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime };
    if (generation !== undefined) out.observedGeneration = generation;
    return out;
  });
}

export const ok = (type: ConditionType, reason: string, message: string): ConditionInput => ({ type, status: 'True', reason, message });
export const notOk = (type: ConditionType, reason: string, message: string): ConditionInput => ({ type, status: 'False', reason, message });
