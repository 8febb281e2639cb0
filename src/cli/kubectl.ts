// `locus kubectl <explain|datasets|nodes>`, which is what `kubectl locus …` runs: the binary installed
// as kubectl-locus (package.json bin, the image) dispatches here on its name (locus.ts). kubectl's own
// conventions: -n/--namespace (default: the context's), -A, -o wide|json|yaml, --context, --kubeconfig.
import { asPluginText, kubectlArgs } from '../plugin/args.js';
import { defineCommand, KUBE_FLAGS } from '../runtime/flags.js';
import { NODECACHE_TTL_MS } from '../runtime/settings.js';

export type Write = (text: string) => void;

const OUTPUT = { kind: 'string', arg: '<format>', help: 'wide | json | yaml (default: a table)', choices: ['wide', 'json', 'yaml'] } as const;
const TTL = { kind: 'duration', help: "a NodeCache older than this counts as holding nothing (the extender's --ttl)", default: NODECACHE_TTL_MS } as const;

const top = defineCommand({
  name: 'kubectl',
  synopsis: '<explain|datasets|nodes> [flags]',
  description: `kubectl's view of Locus, also installed as kubectl-locus (so: kubectl locus <command>):
  explain <pod>   why the pod scores what it does on each node (asks the extender through the API server)
  datasets        Datasets with their size, bytes cached per zone and readers
  nodes           what each node's cache holds
'kubectl locus <command> --help' shows a command's flags.`,
  positionals: true,
  flags: {},
});

const explain = defineCommand({
  name: 'kubectl explain',
  synopsis: '<pod> [-n <namespace>] [flags]',
  description: 'Shows the score breakdown of a pod on each node, as the extender computes it for kube-scheduler.',
  positionals: true,
  flags: {
    namespace: { kind: 'string', arg: '<name>', help: "the pod's namespace (default: the context's, else default)" },
    output: OUTPUT,
    node: { kind: 'strings', arg: '<name>', help: 'only this node (repeatable)' },
    'extender-service': {
      kind: 'string',
      arg: '<ns/name:port>',
      help: "the extender's Service, reached through the API server",
      default: 'locus-system/locus-extender:http',
    },
    server: { kind: 'string', arg: '<url>', help: 'ask the extender at this URL instead' },
    ...KUBE_FLAGS,
  },
});

const datasets = defineCommand({
  name: 'kubectl datasets',
  synopsis: '[-n <namespace> | -A] [-o wide|json|yaml] [flags]',
  description: 'Lists Datasets with their size (catalog), bytes cached on live nodes, per zone, and the pods reading them.',
  flags: {
    namespace: { kind: 'string', arg: '<name>', help: "the namespace (default: the context's, else default)" },
    'all-namespaces': { kind: 'boolean', help: 'every namespace' },
    output: OUTPUT,
    ttl: TTL,
    ...KUBE_FLAGS,
  },
});

const nodes = defineCommand({
  name: 'kubectl nodes',
  synopsis: '[-o wide|json|yaml] [flags]',
  description: 'Lists nodes with their cache use from their NodeCache: bytes used of capacity, Datasets held, last write.',
  flags: { output: OUTPUT, ttl: TTL, ...KUBE_FLAGS },
});

export async function run(argv: string[], out: Write = (t) => process.stdout.write(t), asPlugin = false): Promise<number> {
  const [sub, ...rest] = argv;
  const args = kubectlArgs(rest);
  const show = (help: string) => {
    out(`${asPlugin ? asPluginText(help) : help}\n`);
    return 0;
  };
  switch (sub) {
    case 'explain': {
      const p = explain.parse(args);
      if (p === 'help') return show(explain.help);
      const [ref, ...extra] = p.positionals;
      if (!ref || extra.length > 0) explain.fail('give one pod: kubectl locus explain <pod> [-n <namespace>] (or <namespace>/<pod>)');
      const { parseService } = await import('../plugin/explain.js');
      const service = parseService(p.values['extender-service']);
      if (!service) explain.fail(`--extender-service must be <namespace>/<name>:<port>, got "${p.values['extender-service']}"`);
      const { kc, client, namespace } = await connect(p.values);
      const [ns, name] = ref.includes('/') ? ref.split('/', 2) : [namespace, ref];
      const [{ explainPod }, { formatExplanation }, { stringify }] = await Promise.all([
        import('../plugin/explain.js'),
        import('./explain.js'),
        import('yaml'),
      ]);
      const answer = await explainPod(client, kc, { namespace: ns, pod: name, nodes: p.values.node, server: p.values.server, service: service! });
      const o = p.values.output;
      out(o === 'json' ? `${JSON.stringify(answer, null, 4)}\n` : o === 'yaml' ? stringify(answer) : formatExplanation(answer));
      return 0;
    }
    case 'datasets': {
      const p = datasets.parse(args);
      if (p === 'help') return show(datasets.help);
      if (p.values['all-namespaces'] && p.values.namespace) datasets.fail('give -n <namespace> or -A, not both');
      const { client, namespace } = await connect(p.values);
      const [{ readCacheView }, { printDatasets }] = await Promise.all([import('../plugin/cache-view.js'), import('../plugin/print.js')]);
      const now = Date.now();
      const view = await readCacheView(client, { namespace: p.values['all-namespaces'] ? undefined : namespace, ttlMs: p.values.ttl, now });
      out(printDatasets(view.datasets, { output: p.values.output as Output, allNamespaces: p.values['all-namespaces'], namespace }));
      return 0;
    }
    case 'nodes': {
      const p = nodes.parse(args);
      if (p === 'help') return show(nodes.help);
      const { client } = await connect(p.values);
      const [{ readCacheView }, { printNodes }] = await Promise.all([import('../plugin/cache-view.js'), import('../plugin/print.js')]);
      const now = Date.now();
      const view = await readCacheView(client, { ttlMs: p.values.ttl, now });
      out(printNodes(view.nodes, { output: p.values.output as Output, now }));
      return 0;
    }
    default: {
      const p = top.parse(argv);
      if (p === 'help') return show(top.help);
      if (sub === undefined) {
        show(top.help);
        return 2;
      }
      return top.fail(`unknown command "${sub}": give explain, datasets or nodes`);
    }
  }
}

type Output = 'wide' | 'json' | 'yaml' | undefined;

/** The cluster and namespace as kubectl picks them: --kubeconfig/KUBECONFIG, --context, -n or the context's namespace. */
async function connect(v: { kubeconfig?: string; context?: string; namespace?: string }) {
  const [{ loadKubeConfig }, { createKubeClient }] = await Promise.all([import('../kube/config.js'), import('../kube/client.js')]);
  const { kc } = loadKubeConfig({ kubeconfig: v.kubeconfig, context: v.context });
  const client = createKubeClient(kc, { timeoutMs: 15_000, userAgent: 'kubectl-locus' });
  const namespace = v.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  return { kc, client, namespace };
}
