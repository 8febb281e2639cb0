// A failure a user can fix prints one line saying what went wrong and a hint, never a stack, unless
// --log-level debug asks for it. Each sub-command runs as `locus` does: a child process through tsx.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** A home without ~/.kube/config, and no other way to find a cluster. */
const home = mkdtempSync(join(tmpdir(), 'locus-home-'));
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'KUBECONFIG' && k !== 'KUBERNETES_SERVICE_HOST'));

async function locus(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/locus.ts', ...args], {
    cwd: root,
    env: { ...env, HOME: home },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** One line naming the command and what failed, one hint line, nothing else. */
function expectOneLine(stderr: string, command: string, message: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).to.have.length(2);
  expect(lines[0])
    .to.match(new RegExp(`^locus ${command}: `))
    .and.match(message);
  expect(lines[1]).to.match(/^ {2}hint: \S/);
  expect(stderr).not.to.match(/^\s+at /m);
}

const NO_KUBECONFIG = /no Kubernetes configuration found: .*~\/\.kube\/config/;

describe('cli: user-facing errors', function () {
  // Each case starts a child through tsx: seconds each, more on a busy machine.
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'locus-errors-'));
  const notADir = join(dir, 'file');
  writeFileSync(notADir, '');

  const cases: Array<[string, () => Promise<string[]>, RegExp]> = [
    ['extender', async () => ['--listen', '127.0.0.1:0'], NO_KUBECONFIG],
    ['operator', async () => ['--listen', '127.0.0.1:0'], NO_KUBECONFIG],
    ['webhook', async () => ['--listen', '127.0.0.1:0'], NO_KUBECONFIG],
    [
      'agent',
      async () => ['--upstream', 'http://127.0.0.1:1', '--no-auth', '--node', 'node-a', '--listen', '127.0.0.1:0', '--ops-listen', '127.0.0.1:0'],
      NO_KUBECONFIG,
    ],
    [
      'explain',
      async () => ['default/trainer-0', '--server', `http://127.0.0.1:${await closedPort()}`],
      /cannot reach the extender at http:\/\/127\.0\.0\.1:\d+: /,
    ],
    ['certs', async () => ['--out', join(notADir, 'tls'), '--ip', '127.0.0.1'], /ENOTDIR|not a directory/],
    ['sim', async () => ['--trace', join(dir, 'missing.tsv'), '--out', dir], /missing\.tsv/],
  ];
  for (const [command, args, message] of cases) {
    it(`${command}: one line and a hint, exit 1`, async () => {
      const r = await locus([command, ...(await args())]);
      expect(r.code, r.stderr).to.equal(1);
      expectOneLine(r.stderr, command, message);
    });
  }

  it('the kubeconfig error hints at --kubeconfig and KUBECONFIG', async () => {
    const r = await locus(['operator', '--listen', '127.0.0.1:0']);
    expect(r.stderr).to.match(/hint: pass --kubeconfig <file>.*KUBECONFIG/);
  });

  it('--log-level debug adds the stack (and its cause)', async () => {
    const r = await locus(['explain', 'default/trainer-0', '--server', `http://127.0.0.1:${await closedPort()}`, '--log-level', 'debug']);
    expect(r.code).to.equal(1);
    expect(r.stderr.split('\n')[0]).to.match(/^locus explain: cannot reach the extender/);
    expect(r.stderr)
      .to.match(/^\s+at /m)
      .and.match(/caused by: /);
  });

  it('a settings conflict names both settings', async () => {
    const r = await locus(['extender', '--ttl', '5m', '--nodes', notADir]);
    expect(r.code).to.equal(1);
    expectOneLine(r.stderr, 'extender', /--ttl \(5m\) must be longer than --agent-refresh-interval \(10m\)/);
  });
});
