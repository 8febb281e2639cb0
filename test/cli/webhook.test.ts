// `locus webhook` as a process: flags, kubeconfig, certificate files, the captured review, an Event, SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { admit, call, certDir } from '../webhook/tls.js';

describe('locus webhook (process)', function () {
  // A child process that loads client-node through tsx: generous, since CI machines may be busy.
  this.timeout(120_000);
  let api: FakeApiServer;
  let child: ChildProcess | undefined;

  before(async () => {
    api = await FakeApiServer.start();
  });
  after(async () => {
    child?.kill('SIGKILL');
    await api.close();
  });

  it('serves the captured review with the Datasets and Events of the API server, and stops after the shutdown delay on SIGTERM', async () => {
    const review = JSON.parse(readFileSync('test/fixtures/admission/pod-create-dataset-labels.json', 'utf8'));
    api.put({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { namespace: 'datasets-demo', name: 'my-dataset' },
      spec: { local: { type: 'S3', bucket: 'my-dataset' } },
    });
    const certs = await certDir();
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/locus.ts',
        'webhook',
        '--listen',
        '127.0.0.1:0',
        '--cert',
        certs.certFile,
        '--key',
        certs.keyFile,
        '--kubeconfig',
        api.writeKubeconfig(),
        '--shutdown-delay',
        '1s',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! });
    const url = await new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        const entry = JSON.parse(line) as { msg: string; url?: string };
        if (entry.msg === 'webhook listening') resolve(entry.url!);
      });
      child!.on('exit', (code) => reject(new Error(`locus webhook exited with ${code}`)));
    });

    const answer = (await admit(url, certs.ca.cert, review)).json() as { response: { allowed: boolean; patch: string } };
    expect(answer.response.allowed).to.equal(true);
    const patch = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString()) as Array<{ path: string; value: unknown }>;
    expect(patch).to.deep.include({ op: 'replace', path: '/spec/schedulerName', value: 'locus-scheduler' });
    await eventually(() => expect(api.objects('events', 'datasets-demo')).to.have.length(1));

    const exited = new Promise<number | null>((resolve) => child!.on('exit', resolve));
    child.kill('SIGTERM');
    // Still serving during --shutdown-delay, while a Service would stop routing to it.
    expect((await call(url.replace('/mutate-pods', '/healthz'), certs.ca.cert)).body).to.equal('ok');
    expect(await exited).to.equal(0);
    child = undefined;
  });

  it('refuses an --agent-url that is no http(s) URL, naming the flag (exit 2)', async () => {
    const bad = spawn(process.execPath, ['--import', 'tsx', 'src/cli/locus.ts', 'webhook', '--agent-url', 'locus-agent:9300'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    bad.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => bad.on('exit', resolve));
    expect(code).to.equal(2);
    expect(stderr).to.match(/--agent-url must be an http\(s\) URL such as http:\/\/locus-agent\.locus-system\.svc:9300, got "locus-agent:9300"/);
  });
});
