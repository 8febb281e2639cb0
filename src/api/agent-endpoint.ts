// Which Datasets are read through the node cache agents: one rule for the agents (which front them)
// and the operator (which issues their agent credentials), so the two never disagree.
import type { Dataset } from './dataset.js';

/** The agents' Service address in deploy/agent (their --advertise-url there). */
export const DEFAULT_AGENT_URL = 'http://locus-agent.locus-system.svc:9300';

/** The object store a Dataset names: the resolved one in status, else its spec's. */
export function datasetEndpoint(ds: Pick<Dataset, 'spec' | 'status'>): string | undefined {
  return ds.status?.resolved?.endpoint ?? ds.spec.local?.endpoint ?? ds.spec.remote?.endpoint;
}

/**
 * Whether a Dataset with this endpoint is read through an agent that serves `endpoints` (its
 * upstream, or its own advertised address): same URL origin, or no endpoint at all (the agent's
 * upstream is the default store).
 */
export function readThroughAgent(endpoint: string | undefined, endpoints: readonly string[]): boolean {
  return !endpoint || endpoints.some((e) => sameOrigin(endpoint, e));
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
