// `locus <sub-command>`: one binary for every part; each sub-command lives in its own module.
import { asPluginText } from '../plugin/args.js';
import { describeFailure, UsageError } from '../runtime/errors.js';

/** `asPlugin`: run as kubectl-locus (help and errors then name `kubectl locus`); only `kubectl` reads it. */
interface Command {
  run(argv: string[], out?: (text: string) => void, asPlugin?: boolean): Promise<number>;
}

/** Sub-commands, each in `src/cli/<name>.ts` exporting `run`. */
export const commands: Record<string, { summary: string }> = {
  extender: { summary: 'serve kube-scheduler filter/prioritize from the locality index' },
  explain: { summary: 'show the score breakdown for a pod on a node (asks a running extender)' },
  operator: { summary: 'reconcile Dataset objects into Secrets, ConfigMaps and PVCs' },
  webhook: { summary: 'mutating admission webhook for pods that use Datasets (HTTPS)' },
  certs: { summary: 'create a CA and serving certificate for the webhook' },
  'webhook-certs': { summary: 'create and renew the webhook certificates and caBundle in the cluster' },
  agent: { summary: 'per-node read-through block cache that publishes its NodeCache' },
  'agent-key': { summary: 'create the agent key Secret in the cluster if it is missing' },
  kubectl: { summary: 'the kubectl plugin: explain <pod>, datasets, nodes (installed as kubectl-locus)' },
  sim: { summary: 'replay traces on a modelled cluster and compare placement policies' },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: locus <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\n'locus <command> --help' shows a command's flags.`;
}

/** `--log-level debug` (or trace) among the arguments: failures then show their stack. */
function debugging(argv: string[]): boolean {
  const i = argv.findIndex((a) => a === '--log-level' || a.startsWith('--log-level='));
  if (i < 0) return false;
  const level = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  return level === 'debug' || level === 'trace';
}

export async function main(argv: string[], opts: { asPlugin?: boolean } = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`locus: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    const module = (await import(`./${name}.js`)) as Command;
    return await module.run(rest, undefined, opts.asPlugin);
  } catch (err) {
    const failure = (text: string) => (opts.asPlugin ? asPluginText(text) : text);
    if (UsageError.is(err)) {
      process.stderr.write(failure(`locus ${name}: ${err.message}\n\n${err.usage}\n`));
      return 2;
    }
    process.stderr.write(failure(describeFailure(name, err, debugging(rest))));
    return 1;
  }
}
