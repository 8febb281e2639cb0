// Issue 14 on the real control plane: the operator refuses a HOST Dataset in a namespace the
// administrator's policy gives no HOST (no PV is made), and a node agent started as deployed
// (--auth-key-file) refuses an unsigned read and serves one signed with the Dataset's credentials.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { pvName } from '../../src/api/names.js';
import { ensureNamespace, find, get, remove } from './support/api.js';
import { datasetPath } from './support/datasets.js';
import { installCrds } from './support/crds.js';
import { cluster } from './support/env.js';
import { kubectlOk } from './support/kubectl.js';
import { startLocus, type Tracked } from './support/process.js';
import { until } from './support/wait.js';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';
import { AGENT_KEY, credsFor, s3ClientAs } from '../security/agent-support.js';
import { freePort } from '../support/free-port.js';
import { untilReady } from './support/ready.js';

const ns = 'e2e-security';
const dir = mkdtempSync(join(tmpdir(), 'locus-e2e-security-'));

const apply = (o: object) => kubectlOk(['apply', '-n', ns, '-f', '-'], JSON.stringify(o));

describe('issue 14 on the real apiserver: policy and an authenticated agent', () => {
  before(async () => {
    await installCrds();
    await ensureNamespace(ns);
  });

  describe('the operator with a policy that gives HOST to another namespace only', () => {
    let operator: Tracked;
    before(async () => {
      const policy = join(dir, 'policy.yaml');
      writeFileSync(policy, 'namespaces:\n  e2e-trusted:\n    types: [S3, HOST]\n    hostPaths: [/data/e2e]\n');
      operator = startLocus('operator', [
        '--kubeconfig',
        cluster.kubeconfig,
        '--listen',
        `127.0.0.1:${cluster.ports.metrics}`,
        '--namespace',
        ns,
        '--policy-file',
        policy,
      ]);
      await until(
        'the operator to be ready',
        async () => {
          if (!operator.running()) throw new Error(`locus operator exited: ${operator.log().slice(-2000)}`);
          return (await fetch(`http://127.0.0.1:${cluster.ports.metrics}/readyz`)).ok;
        },
        { timeoutMs: 60_000 },
      );
    });
    after(async () => {
      await remove(datasetPath(ns, 'node-root')).catch(() => undefined);
      await until('the Dataset to go', async () => (await find(datasetPath(ns, 'node-root'))) === undefined, { timeoutMs: 30_000 }).catch(() => undefined);
      await operator?.stop();
    });

    it("refuses a HOST Dataset on the node's / with a condition naming the rule, and makes no PV", async () => {
      await apply({
        apiVersion: 'locus.dev/v1alpha1',
        kind: 'Dataset',
        metadata: { name: 'node-root', namespace: ns },
        spec: { local: { type: 'HOST', path: '/' } },
      });
      const ready = await until(
        'the Dataset to be refused',
        async () => {
          if (!operator.running()) throw new Error(`locus operator exited: ${operator.log().slice(-2000)}`);
          const ds = await get(datasetPath(ns, 'node-root'));
          return (ds.status?.conditions as Array<{ type: string; status: string; reason: string; message: string }> | undefined)?.find(
            (c) => c.type === 'Ready' && c.reason === 'PolicyDenied',
          );
        },
        { timeoutMs: 60_000 },
      );
      expect(ready.status).to.equal('False');
      expect(ready.message).to.match(/^policy rule namespaces\.\*\.types: type HOST is not allowed in namespace e2e-security/);
      const ds = await get(datasetPath(ns, 'node-root'));
      expect(ds.status.phase).to.equal('Failed');
      expect(await find(`/api/v1/persistentvolumes/${pvName(ns, 'node-root', ds.metadata.uid as string)}`)).to.equal(undefined);
      expect(await find(`/api/v1/namespaces/${ns}/persistentvolumeclaims/node-root`)).to.equal(undefined);
    });
  });

  describe('a node agent with --auth-key-file', () => {
    let s3: TestS3;
    let agent: Tracked;
    let agentUrl: string;
    before(async () => {
      s3 = await startS3(['tenant-a', 'tenant-b']);
      await s3.put('tenant-a', 'data/train.csv', 'a,b\n1,2\n');
      await s3.put('tenant-b', 'secret/salaries.csv', 'name,salary\n');
      await apply({
        apiVersion: 'locus.dev/v1alpha1',
        kind: 'Dataset',
        metadata: { name: 'train', namespace: ns },
        spec: { local: { type: 'S3', endpoint: s3.endpoint, bucket: 'tenant-a', prefix: 'data/', ...S3RVER_KEYS } },
      });
      const keyFile = join(dir, 'agent-key');
      writeFileSync(keyFile, `${AGENT_KEY.toString()}\n`);
      const [port, ops] = [await freePort(), await freePort()];
      agentUrl = `http://127.0.0.1:${port}`;
      agent = startLocus(
        'agent',
        [
          '--kubeconfig',
          cluster.kubeconfig,
          `--upstream=${s3.endpoint}`,
          `--listen=127.0.0.1:${port}`,
          `--ops-listen=127.0.0.1:${ops}`,
          `--cache-dir=${join(dir, 'cache')}`,
          '--capacity=64Mi',
          '--no-publish',
          `--auth-key-file=${keyFile}`,
        ],
        { AWS_ACCESS_KEY_ID: S3RVER_KEYS.accessKeyID, AWS_SECRET_ACCESS_KEY: S3RVER_KEYS.secretAccessKey },
      );
      await untilReady(agent, `http://127.0.0.1:${ops}`, 'locus agent');
    });
    after(async () => {
      await agent?.stop();
      await s3?.close();
      await remove(datasetPath(ns, 'train')).catch(() => undefined);
    });

    it('refuses an unsigned read with 403 AccessDenied', async () => {
      const res = await fetch(`${agentUrl}/tenant-a/data/train.csv`);
      expect(res.status).to.equal(403);
      expect(await res.text()).to.match(/<Code>AccessDenied<\/Code>/);
      const traversal = await fetch(`${agentUrl}/tenant-a/data%2f..%2f..%2ftenant-b%2fsecret%2fsalaries.csv`);
      expect(traversal.status).to.be.oneOf([400, 403]);
    });

    it("serves a read signed with the Dataset's credentials, and only inside its bucket and prefix", async () => {
      const client = s3ClientAs(agentUrl, credsFor(ns, 'train'));
      const body = await until(
        'the agent to know the Dataset',
        async () => {
          try {
            const out = await client.send(new GetObjectCommand({ Bucket: 'tenant-a', Key: 'data/train.csv' }));
            return await out.Body!.transformToString();
          } catch (err) {
            if (err instanceof S3ServiceException && err.name === 'InvalidAccessKeyId') return undefined;
            throw err;
          }
        },
        { timeoutMs: 30_000 },
      );
      expect(body).to.equal('a,b\n1,2\n');
      const other = await client.send(new GetObjectCommand({ Bucket: 'tenant-b', Key: 'secret/salaries.csv' })).catch((e: S3ServiceException) => e);
      expect((other as S3ServiceException).name).to.equal('AccessDenied');
    });
  });
});
