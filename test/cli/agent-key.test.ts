// `locus agent-key` as the operator pod's init container runs it, against the in-memory API server.
import { expect } from 'chai';
import { parseAgentKeys } from '../../src/api/agent-credentials.js';
import { run } from '../../src/cli/agent-key.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

describe('cli: locus agent-key', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let kubeconfig: string;
  const key = () => api.object('secrets', 'locus-agent-auth', 'locus-system') as { data: { key: string }; metadata: { resourceVersion: string } } | undefined;
  beforeEach(async () => {
    api = await FakeApiServer.start();
    kubeconfig = api.writeKubeconfig();
  });
  afterEach(async () => {
    await api.close();
  });

  it('creates a key the agents accept, once; later runs keep it', async () => {
    expect(await run(['--kubeconfig', kubeconfig, '--log-level', 'fatal'])).to.equal(0);
    const first = key()!;
    const keys = parseAgentKeys(Buffer.from(first.data.key, 'base64').toString('utf8'), 'the Secret');
    expect(keys).to.have.length(1);
    expect(keys[0].length).to.equal(64);
    await Promise.all([run(['--kubeconfig', kubeconfig, '--log-level', 'fatal']), run(['--kubeconfig', kubeconfig, '--log-level', 'fatal'])]);
    expect(key()!.data.key).to.equal(first.data.key);
    expect(key()!.metadata.resourceVersion).to.equal(first.metadata.resourceVersion);
  });

  it('keeps a key the administrator made, and refuses a broken one without replacing it', async () => {
    const own = Buffer.from('x'.repeat(40) + '\n').toString('base64');
    api.put({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'locus-system', name: 'locus-agent-auth' }, data: { key: own } });
    expect(await run(['--kubeconfig', kubeconfig, '--log-level', 'fatal'])).to.equal(0);
    expect(key()!.data.key).to.equal(own);
    const short = Buffer.from('too-short\n').toString('base64');
    api.put({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'locus-system', name: 'locus-agent-auth' }, data: { key: short } });
    await run(['--kubeconfig', kubeconfig, '--log-level', 'fatal']).then(
      () => expect.fail('should fail'),
      (err: Error & { hint?: string }) => {
        expect(err.message).to.match(/key 1 has 9 bytes/);
        expect(err.hint).to.match(/kubectl -n locus-system edit secret locus-agent-auth/);
      },
    );
    expect(key()!.data.key).to.equal(short);
  });
});
