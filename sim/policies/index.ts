// The simulator's policies by name; `all` selects every one, in this order.
import type { ClusterSpec } from '../cluster.js';
import { defaultPolicy, noCachePolicy, randomPolicy } from './baselines.js';
import { delayPolicy, extenderPolicy } from './locality.js';
import type { SimPolicy } from './types.js';
import { warmSuffix, type WarmOptions } from '../warm.js';

export const POLICY_NAMES = ['default', 'locality', 'dataset-affinity', 'delay', 'random', 'no-cache'] as const;
export type SimPolicyName = (typeof POLICY_NAMES)[number];

export function makePolicy(name: SimPolicyName, spec: ClusterSpec): SimPolicy {
  switch (name) {
    case 'default':
      return defaultPolicy;
    case 'locality':
      return extenderPolicy('locality', 'locality');
    case 'dataset-affinity':
      return extenderPolicy('dataset-affinity', 'dataset-affinity');
    case 'delay':
      return delayPolicy(spec.delaySeconds, spec.delayMinScore);
    case 'random':
      return randomPolicy;
    case 'no-cache':
      return noCachePolicy;
  }
}

/**
 * The policy with warm-cache options: named `<policy> +<options>`; warm-ahead ranks nodes with the
 * extender's scores, so the agents' inventory is modelled even for a policy that does not weigh them.
 */
export function withWarm(policy: SimPolicy, warm: WarmOptions): SimPolicy {
  return { ...policy, name: `${policy.name}${warmSuffix(warm)}`, warm, readsInventory: policy.readsInventory || warm['warm-ahead'] };
}

/** `all` or a comma-separated list; unknown names are an error that lists the known ones. */
export function parsePolicyList(list: string): SimPolicyName[] {
  if (list === 'all') return [...POLICY_NAMES];
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) {
    if (!(POLICY_NAMES as readonly string[]).includes(n)) throw new Error(`--policies: unknown policy "${n}"; known: ${POLICY_NAMES.join(', ')} (or all)`);
  }
  if (names.length === 0) throw new Error(`--policies: give at least one of ${POLICY_NAMES.join(', ')}, or all`);
  return [...new Set(names)] as SimPolicyName[];
}
