// `locus agent-key`: makes the agent key Secret (locus-agent-auth) in the cluster when it is missing, so
// `kubectl apply -k deploy/` needs no local step; deploy/ runs it as the operator pod's init container (the
// operator may already write Secrets). The agents' pods wait for the Secret (a non-optional volume) and start
// once it exists. An existing Secret is never replaced: every Dataset's agent credentials derive from it.
import { randomBytes } from 'node:crypto';
import { parseAgentKeys } from '../api/agent-credentials.js';
import type { KubeObject } from '../kube/object.js';
import { defineCommand, KUBE_FLAGS } from '../runtime/flags.js';
import { UserError } from '../runtime/errors.js';
import { createLogger } from '../runtime/logger.js';

/** 48 random bytes, base64: 64 characters, above MIN_AGENT_KEY_BYTES as the file's bytes. */
const KEY_BYTES = 48;

const command = defineCommand({
  name: 'agent-key',
  description: `Creates the Secret holding the agent key (key: one line, 48 random bytes in base64) unless it exists;
an existing one is checked, never replaced (rotate by adding a line in front, see SECURITY.md).`,
  flags: {
    namespace: { kind: 'string', arg: '<name>', help: 'namespace of the Secret', default: 'locus-system' },
    secret: { kind: 'string', arg: '<name>', help: 'the Secret', default: 'locus-agent-auth' },
    ...KUBE_FLAGS,
  },
});

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parseOrHelp(argv);
  if (!parsed) return 0;
  const f = parsed.values;
  const [{ createKubeClient }, { loadKubeConfig }, { SECRETS }, { AlreadyExistsError }] = await Promise.all([
    import('../kube/client.js'),
    import('../kube/config.js'),
    import('../kube/resources.js'),
    import('../kube/errors.js'),
  ]);
  const log = createLogger('agent-key', f['log-level']);
  const { kc } = loadKubeConfig({ kubeconfig: f.kubeconfig, context: f.context });
  const client = createKubeClient(kc, { timeoutMs: 10_000, userAgent: 'locus-agent-key', fieldManager: 'locus-agent-key' });
  const ref = { namespace: f.namespace, name: f.secret };
  try {
    await client.create(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { ...ref, labels: { 'app.kubernetes.io/name': 'locus-agent', 'app.kubernetes.io/part-of': 'locus' } },
      data: { key: Buffer.from(`${randomBytes(KEY_BYTES).toString('base64')}\n`).toString('base64') },
    });
    log.info({ secret: `${f.namespace}/${f.secret}` }, 'created the agent key');
    return 0;
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
  const existing = await client.get<KubeObject & { data?: Record<string, string> }>(SECRETS, ref);
  const text = Buffer.from(existing?.data?.key ?? '', 'base64').toString('utf8');
  try {
    parseAgentKeys(text, `Secret ${f.namespace}/${f.secret} key`);
  } catch (err) {
    throw new UserError(
      (err as Error).message,
      `fix the Secret's "key" (kubectl -n ${f.namespace} edit secret ${f.secret}), or delete it to have a new one made (every Dataset's agent credentials change then)`,
    );
  }
  log.info({ secret: `${f.namespace}/${f.secret}` }, 'the agent key exists');
  return 0;
}
