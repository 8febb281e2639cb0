// Transparent caching: whether a Dataset that names the object store itself is read through the node
// cache agents. Three levels, the first that says something wins: the Dataset's
// spec.cache.readThrough, its namespace's label, the operator's --read-through-default. Pure: the
// namespace's labels are looked up by the controller when reconcile asks for them.
import { readThroughAgent } from '../api/agent-endpoint.js';
import type { Dataset } from '../api/dataset.js';
import type { ConditionInput } from './conditions.js';
import { notOk, ok } from './conditions.js';

/** The namespace label that sets the default for the Datasets of a namespace: "true" or "false". */
export const READ_THROUGH_LABEL = 'locus.dev/read-through';

export type ReadThroughLevel = 'Dataset' | 'Namespace' | 'Cluster';

/** What the levels say: on or off, and which level said it; `ignored` names a label value that was not read. */
export interface ReadThroughChoice {
  on: boolean;
  level: ReadThroughLevel;
  ignored?: string;
}

const REASONS: Record<ReadThroughLevel, string> = { Dataset: 'DatasetOptIn', Namespace: 'NamespaceDefault', Cluster: 'ClusterDefault' };
const WHERE: Record<ReadThroughLevel, string> = {
  Dataset: 'spec.cache.readThrough',
  Namespace: `the namespace's ${READ_THROUGH_LABEL} label`,
  Cluster: "the operator's --read-through-default",
};

/** Whether the namespace's labels must be looked up to decide (the Dataset does not say). */
export function needsNamespace(ds: Dataset): boolean {
  return ds.spec.cache?.readThrough === undefined;
}

/**
 * The levels in order. `namespaceLabels` undefined: not looked up (only allowed when the Dataset
 * decides); a label value other than "true"/"false" is skipped, and said so.
 */
export function readThroughChoice(ds: Dataset, namespaceLabels: Readonly<Record<string, string>> | undefined, clusterDefault: boolean): ReadThroughChoice {
  const own = ds.spec.cache?.readThrough;
  if (own !== undefined) return { on: own, level: 'Dataset' };
  const label = namespaceLabels?.[READ_THROUGH_LABEL];
  if (label === 'true' || label === 'false') return { on: label === 'true', level: 'Namespace' };
  const choice: ReadThroughChoice = { on: clusterDefault, level: 'Cluster' };
  if (label !== undefined) choice.ignored = label;
  return choice;
}

/** How an object-store Dataset is read, and the ReadThroughAgents condition that says so (none when nothing asked). */
export interface ReadThroughDecision {
  /** Read through the agents although its endpoint is the store itself. */
  transparent: boolean;
  condition?: ConditionInput;
}

/**
 * For an object-store Dataset at `endpoint` (its resolved store): `agentEndpoint` when it already
 * names the agents. Opting in reads through the agents only a store the agents read (same origin as
 * --agent-upstream); any other store is read directly, with the reason.
 */
export function readThroughDecision(
  choice: ReadThroughChoice,
  endpoint: string,
  agent: { url: string; upstream?: string },
  agentEndpoint: boolean,
): ReadThroughDecision {
  const note =
    choice.ignored !== undefined ? ` (the namespace's ${READ_THROUGH_LABEL} label "${choice.ignored}" is neither "true" nor "false" and was not read)` : '';
  if (agentEndpoint) {
    return { transparent: false, condition: ok('ReadThroughAgents', 'AgentEndpoint', `the Dataset's endpoint is the agents' address ${agent.url}`) };
  }
  // Nothing asked for it: no condition, as before transparent caching existed.
  if (choice.level === 'Cluster' && !choice.on && choice.ignored === undefined) return { transparent: false };
  if (!choice.on) {
    return { transparent: false, condition: notOk('ReadThroughAgents', 'OptedOut', `${WHERE[choice.level]} is false: pods read ${endpoint} directly${note}`) };
  }
  if (!agent.upstream) {
    return {
      transparent: false,
      condition: notOk(
        'ReadThroughAgents',
        'NoAgentUpstream',
        `${WHERE[choice.level]} asks for the agents, but the operator has no --agent-upstream: pods read ${endpoint} directly; the administrator passes the agents' --upstream to the operator as --agent-upstream`,
      ),
    };
  }
  if (!readThroughAgent(endpoint, [agent.upstream])) {
    return {
      transparent: false,
      condition: notOk(
        'ReadThroughAgents',
        'OtherStore',
        `${WHERE[choice.level]} asks for the agents, but they read ${agent.upstream} and the Dataset is at ${endpoint}: pods read it directly${note}`,
      ),
    };
  }
  return {
    transparent: true,
    condition: ok(
      'ReadThroughAgents',
      REASONS[choice.level],
      `${WHERE[choice.level]} is true: pods read ${endpoint} through the agents at ${agent.url}${note}`,
    ),
  };
}
