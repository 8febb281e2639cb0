// A `locus agent` for one node of the suite's cluster, acting as the agents' ServiceAccount (so with the
// RBAC deploy/agent grants, applied by the test), in front of an s3rver, with its own ports and cache
// directory under `dir`, publishing its NodeCache every 100 ms.
import { join } from 'node:path';
import { S3RVER_KEYS } from '../../agent/remote.js';
import { freePort } from '../../support/free-port.js';
import { kubeconfigAs } from './identity.js';
import { startLocus, type Tracked } from './process.js';
import { untilReady } from './ready.js';

export interface NodeAgent {
  proc: Tracked;
  s3Url: string;
  opsUrl: string;
}

/** Starts the agent of `node` reading `upstream` (unauthenticated reads: `--no-auth`), with `args` added, and waits until it is ready. */
export async function startNodeAgent(opts: { dir: string; node: string; upstream: string; args?: string[] }): Promise<NodeAgent> {
  const [port, ops] = [await freePort(), await freePort()];
  const proc = startLocus(
    'agent',
    [
      '--kubeconfig',
      kubeconfigAs('locus-system', 'locus-agent', join(opts.dir, 'agent.kubeconfig')),
      `--node=${opts.node}`,
      `--upstream=${opts.upstream}`,
      `--listen=127.0.0.1:${port}`,
      `--ops-listen=127.0.0.1:${ops}`,
      `--cache-dir=${join(opts.dir, 'cache')}`,
      '--capacity=64Mi',
      '--report-interval=100ms',
      ...(opts.args ?? []),
      '--no-auth',
    ],
    { AWS_ACCESS_KEY_ID: S3RVER_KEYS.accessKeyID, AWS_SECRET_ACCESS_KEY: S3RVER_KEYS.secretAccessKey },
  );
  const agent = { proc, s3Url: `http://127.0.0.1:${port}`, opsUrl: `http://127.0.0.1:${ops}` };
  await untilReady(proc, agent.opsUrl, 'locus agent');
  return agent;
}
