// Per-Dataset credentials for reading through the node cache agents. Both the operator (which puts
// them into the Dataset's Secret) and the agents (which verify SigV4 signatures made with them)
// derive them from the same agent key, so no agent reads a Secret and no credential opens more than
// one Dataset: the key names the Dataset it was derived for.
import { createHmac } from 'node:crypto';

/** An agent key must be at least this long: it is an HMAC key guarding every Dataset read through the agents. */
export const MIN_AGENT_KEY_BYTES = 32;

/** The access key id of every derived credential starts with this, so a wrong kind of key is easy to tell. */
export const AGENT_ACCESS_KEY_PREFIX = 'LOCUS';

export interface AgentCredentials {
  accessKeyID: string;
  secretAccessKey: string;
}

/**
 * The credentials of Dataset `namespace/name` under `agentKey`: an access key id that reveals
 * nothing of the Dataset, and a secret the agent recomputes. Deterministic, so the operator can
 * re-derive them on every reconcile and the agents after every restart.
 */
export function agentCredentials(agentKey: Buffer, namespace: string, name: string): AgentCredentials {
  const mac = (purpose: string) => createHmac('sha256', agentKey).update(`locus-agent/${purpose}\0${namespace}/${name}`).digest();
  return {
    accessKeyID: AGENT_ACCESS_KEY_PREFIX + mac('access-key-id').toString('hex').slice(0, 27).toUpperCase(),
    secretAccessKey: mac('secret-access-key').toString('base64url'),
  };
}

/**
 * The agent keys in a key file: one per line (blank lines ignored), the first the one credentials
 * are derived with; the others are still accepted, so a key can be rotated without a flag day.
 * A key is its line's bytes (use e.g. `openssl rand -base64 48`).
 */
export function parseAgentKeys(text: string, source: string): Buffer[] {
  const keys = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => Buffer.from(l, 'utf8'));
  if (keys.length === 0)
    throw new Error(`${source}: no agent key; write one of at least ${MIN_AGENT_KEY_BYTES} bytes, e.g. the output of "openssl rand -base64 48"`);
  const short = keys.findIndex((k) => k.length < MIN_AGENT_KEY_BYTES);
  if (short >= 0)
    throw new Error(
      `${source}: key ${short + 1} has ${keys[short].length} bytes; an agent key needs at least ${MIN_AGENT_KEY_BYTES} (e.g. "openssl rand -base64 48")`,
    );
  return keys;
}
