// The agent key the operator derives Datasets' agent credentials with (--agent-key-file, mounted from
// Secret locus-agent-auth). Read each time it is needed: a few bytes, and a rotated or late-mounted
// key (kubelet updates the volume in place) is picked up without a restart.
import { readFile } from 'node:fs/promises';
import { parseAgentKeys } from '../api/agent-credentials.js';

const HOW = 'mount Secret locus-system/locus-agent-auth into the operator and pass --agent-key-file (deploy/operator does both)';

/** The current key (the file's first), or why there is none; the message never holds key bytes. */
export async function readAgentKey(file: string | undefined): Promise<Buffer | { error: string }> {
  if (!file) return { error: `the operator has no agent key to issue agent credentials with: ${HOW}` };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { error: `the operator cannot read its agent key ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}): ${HOW}` };
  }
  try {
    return parseAgentKeys(text, `--agent-key-file ${file}`)[0];
  } catch (err) {
    return { error: `${(err as Error).message}; the administrator fixes Secret locus-system/locus-agent-auth` };
  }
}
