// `kubectl locus explain <pod>`: the pod is read with the user's own credentials, then the extender
// explains it. The extender is reached through the API server's service proxy (so the same kubeconfig
// and RBAC apply and no port-forward is needed), or directly at --server.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ExplainAnswer } from '../core/decisions.js';
import { EXPLAIN_PATH } from '../extender/app.js';
import type { KubeClient } from '../kube/client.js';
import { PODS } from '../kube/resources.js';
import { Transport } from '../kube/transport.js';
import { UserError } from '../runtime/errors.js';

export interface ExtenderService {
  namespace: string;
  name: string;
  port: string;
}

/** `locus-system/locus-extender:http` → its parts. */
export function parseService(text: string): ExtenderService | undefined {
  const m = /^([a-z0-9-]+)\/([a-z0-9-]+):([a-z0-9-]+)$/.exec(text);
  return m ? { namespace: m[1], name: m[2], port: m[3] } : undefined;
}

export function proxyPath(s: ExtenderService): string {
  return `/api/v1/namespaces/${s.namespace}/services/http:${s.name}:${s.port}/proxy${EXPLAIN_PATH}`;
}

export async function explainPod(
  client: KubeClient,
  kc: KubeConfig,
  opts: { namespace: string; pod: string; nodes: string[]; server?: string; service: ExtenderService },
): Promise<ExplainAnswer> {
  const pod = await client.get(PODS, { namespace: opts.namespace, name: opts.pod });
  if (!pod) throw new UserError(`pods "${opts.pod}" not found in namespace "${opts.namespace}"`, 'name a pod of that namespace, or pick another with -n');
  const body = { pod, nodes: opts.nodes };
  if (opts.server) {
    const url = `${opts.server.replace(/\/+$/, '')}${EXPLAIN_PATH}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new UserError(
        `cannot reach the extender at ${opts.server}: ${(err as Error).message}`,
        'check --server, or leave it out to go through the API server',
        { cause: err },
      );
    }
    const text = await res.text();
    if (!res.ok) throw new UserError(`the extender answered ${res.status}: ${errorText(text)}`);
    return JSON.parse(text) as ExplainAnswer;
  }
  const transport = new Transport(kc, 10_000, 'kubectl-locus');
  try {
    return await transport.request<ExplainAnswer>({ method: 'POST', path: proxyPath(opts.service), body });
  } catch (err) {
    const s = opts.service;
    throw new UserError(
      `cannot ask the extender through service ${s.namespace}/${s.name}:${s.port}: ${(err as Error).message}`,
      'is Locus installed (kubectl -n locus-system get pods)? --extender-service names another Service; --server a URL',
      { cause: err },
    );
  }
}

function errorText(text: string): string {
  try {
    return (JSON.parse(text) as { Error?: string }).Error ?? text;
  } catch {
    return text;
  }
}
