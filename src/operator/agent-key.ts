// The agent key the operator derives Datasets' agent credentials with (--agent-key-file, mounted from
// Secret locus-agent-auth). Read each time it is needed: a few bytes, and a rotated or late-mounted
// key (kubelet updates the volume in place) is picked up without a restart.
import { unwatchFile, watchFile } from 'node:fs';
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

/**
 * Calls `onChange` when the key file changes (also when it first appears), so the Secrets derived
 * with the old key are rewritten at once rather than at each Dataset's next catalog refresh.
 * Polled by stat: kubelet swaps a Secret volume's files by renaming a symlinked directory, which
 * inotify on the file itself misses; stat follows the link. Returns the stop function.
 */
export function watchAgentKey(file: string, intervalMs: number, onChange: () => void): () => void {
  const listener = () => onChange();
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}
