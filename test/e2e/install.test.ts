// The README's "Install on a cluster", step by step on the real 1.20 API server with kubectl 1.20 (its
// built-in kustomize): `kubectl apply -f crds/ && kubectl apply -k deploy-1.20/` (deploy/ with the two
// changes a 1.20 API needs, test/deploy/compat.test.ts) creates everything,
// validated by the server; the webhook's init container (`locus webhook-certs`, run here by the test
// because no kubelet runs pods) makes its certificates and caBundle with only the RBAC deploy/ grants,
// and re-applying keeps them; `kubectl locus` (the binary on PATH as kubectl-locus, found by
// kubectl's plugin mechanism) answers; `kubectl delete -k deploy-1.20/` removes what it made and leaves the
// users' Datasets and what they own. This cluster has no kube-controller-manager: namespaces are not
// finalized and nothing is garbage-collected, so the test checks what the API server itself does.
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { parseAgentKeys } from '../../src/api/agent-credentials.js';
import { FINALIZER } from '../../src/api/names.js';
import { create, find, get, mergePatch, remove, type Obj } from './support/api.js';
import { installCrds } from './support/crds.js';
import { createListedDataset, datasetPath } from './support/datasets.js';
import { cluster } from './support/env.js';
import { kubectl, kubectlOk } from './support/kubectl.js';
import { deleteNodeCache, writeNodeCache } from './support/nodecache.js';
import { startLocus, type Tracked } from './support/process.js';
import { until } from './support/wait.js';
import { skipBecause } from '../support/skip.js';

const NS = 'locus-system';
const USERS = 'e2e-install';
const MiB = 1 << 20;
/** deploy/ for 1.20 clusters: policy/v1beta1 PodDisruptionBudget, no internalTrafficPolicy (test/deploy/compat.test.ts). */
const DEPLOY = 'deploy-1.20/';

interface Rendered {
  kind: string;
  name: string;
  namespace?: string;
}

describe('install: kubectl apply -f crds/ && kubectl apply -k deploy-1.20/, kubectl locus, kubectl delete -k', function () {
  this.timeout(120_000);
  let rendered: Rendered[] = [];
  let pluginPath = '';
  let binDir = '';

  /** kubectl with kubectl-locus on PATH, as after `npm install -g` or the image's symlink. */
  const withPlugin = (args: string[]) => kubectlPlugin(args, pluginPath);

  before(async () => {
    // A user's cluster before the install: no Locus namespace, no webhook configuration of that name.
    expect(await find(`/api/v1/namespaces/${NS}`), `${NS} exists before the install`).to.equal(undefined);
    expect(await find('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/locus-pod-datasets')).to.equal(undefined);
    rendered = parseAllDocuments(await kubectlOk(['kustomize', DEPLOY]))
      .map((d) => d.toJS() as Obj)
      .map((o) => ({ kind: o.kind!, name: o.metadata.name, namespace: o.metadata.namespace }));
    // kubectl finds plugins on PATH by name; the wrapper runs the source tree's binary under that name
    binDir = mkdtempSync(join(tmpdir(), 'kubectl-locus-'));
    symlinkSync(join(cluster.root, 'src/cli/locus.ts'), join(binDir, 'kubectl-locus.ts'));
    writeFileSync(join(binDir, 'kubectl-locus'), `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(binDir, 'kubectl-locus.ts')}" "$@"\n`);
    chmodSync(join(binDir, 'kubectl-locus'), 0o755);
    pluginPath = `${binDir}:${process.env.PATH ?? ''}`;
  });
  after(() => {
    if (binDir) rmSync(binDir, { recursive: true, force: true });
  });

  // mocha runs a suite's own tests before its nested suites: one suite per step keeps the README's order
  describe('apply', () => {
    it('kubectl apply -f crds/ && kubectl apply -k deploy-1.20/ creates every object', async () => {
      await kubectlOk(['apply', '-f', 'crds/']);
      await installCrds(); // and waits until both are Established
      const out = await kubectlOk(['apply', '-k', DEPLOY]);
      expect(out.trim().split('\n')).to.have.length(rendered.length);
      const live = JSON.parse(await kubectlOk(['get', '-k', DEPLOY, '-o', 'json'])) as { items: Obj[] };
      expect(live.items.map((o) => `${o.kind}/${o.metadata.name}`).sort()).to.deep.equal(rendered.map((r) => `${r.kind}/${r.name}`).sort());
      expect(rendered.map((r) => `${r.kind}/${r.name}`)).to.include.members([
        'Namespace/locus-system',
        'Deployment/locus-extender',
        'Deployment/locus-operator',
        'Deployment/locus-webhook',
        'DaemonSet/locus-agent',
        'Deployment/locus-scheduler',
        'ConfigMap/locus-scheduler-config',
        'MutatingWebhookConfiguration/locus-pod-datasets',
      ]);
    });

    it("1.20: kube-system matches the extender's NetworkPolicy once labelled as the README says (the server labels it only from 1.21)", async () => {
      type Peer = { namespaceSelector?: { matchLabels: Record<string, string> } };
      const policy = await get<{ spec: { ingress: { from: Peer[] }[] } }>(`/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/locus-extender`);
      const labels = policy.spec.ingress.flatMap((r) => r.from).find((p) => p.namespaceSelector)!.namespaceSelector!.matchLabels;
      const selector = encodeURIComponent(
        Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      );
      const selected = async () => (await get<{ items: Obj[] }>(`/api/v1/namespaces?labelSelector=${selector}`)).items.map((n) => n.metadata.name);
      expect(await selected(), 'a 1.20 server leaves kube-system unlabelled').to.deep.equal([]);
      const command = /`kubectl (label ns kube-system [^`]+)`/.exec(readFileSync(join(cluster.root, 'README.md'), 'utf8'));
      expect(command, "README's label step for 1.20").to.not.equal(null);
      await kubectlOk(command![1].split(' '));
      expect(await selected()).to.deep.equal(['kube-system']);
    });

    it('the server accepts it all again with --dry-run=server (full validation and admission, nothing changes)', async () => {
      const before = (await get(`/apis/apps/v1/namespaces/${NS}/deployments/locus-webhook`)).metadata.resourceVersion;
      const out = await kubectlOk(['apply', '--dry-run=server', '-k', DEPLOY]);
      expect(out).to.match(/\(server dry run\)/);
      expect((await get(`/apis/apps/v1/namespaces/${NS}/deployments/locus-webhook`)).metadata.resourceVersion).to.equal(before);
    });

    it("the webhook pods' service account may do what webhook-certs does, and no more on Secrets", async () => {
      const can = async (...args: string[]) => (await kubectl(['auth', 'can-i', `--as=system:serviceaccount:${NS}:locus-webhook`, ...args])).stdout.trim();
      expect(await can('create', 'secrets', '-n', NS)).to.equal('yes');
      expect(await can('update', 'secrets/locus-webhook-tls', '-n', NS)).to.equal('yes');
      expect(await can('get', 'secrets/locus-webhook-ca', '-n', NS)).to.equal('yes');
      expect(await can('update', 'mutatingwebhookconfigurations/locus-pod-datasets')).to.equal('yes');
      expect(await can('get', 'secrets/some-tenant-secret', '-n', NS)).to.equal('no');
      expect(await can('list', 'secrets', '-n', NS)).to.equal('no');
      expect(await can('create', 'secrets', '-n', 'default')).to.equal('no');
      expect(await can('update', 'mutatingwebhookconfigurations/someone-elses')).to.equal('no');
    });

    it("the init container's webhook-certs creates the certificates and caBundle; re-applying the manifests keeps them", async () => {
      const deployment = await get(`/apis/apps/v1/namespaces/${NS}/deployments/locus-webhook`);
      const init = (deployment.spec.template.spec.initContainers as { name: string; args: string[] }[]).find((c) => c.name === 'certs')!;
      expect(init.args[0]).to.equal('webhook-certs');
      // --wait-for waits for the kubelet to mount the Secret: no kubelet here
      const args = init.args.slice(1).filter((a) => !a.startsWith('--wait-for'));
      await runLocus([...init.args.slice(0, 1), ...args, '--kubeconfig', cluster.kubeconfig]);
      const tls = await get<Obj & { type: string }>(`/api/v1/namespaces/${NS}/secrets/locus-webhook-tls`);
      expect(tls.type).to.equal('kubernetes.io/tls');
      const cert = new X509Certificate(Buffer.from(tls.data['tls.crt'], 'base64'));
      expect(cert.subjectAltName).to.equal('DNS:locus-webhook.locus-system.svc');
      const caBundle = async () =>
        (
          await get<{ webhooks: { clientConfig: { caBundle: string } }[] }>(
            '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/locus-pod-datasets',
          )
        ).webhooks[0].clientConfig.caBundle;
      const ca = new X509Certificate(Buffer.from(await caBundle(), 'base64'));
      expect(cert.verify(ca.publicKey), 'the serving certificate verifies against caBundle').to.equal(true);

      const bundle = await caBundle();
      await kubectlOk(['apply', '-k', DEPLOY]);
      expect(await caBundle(), 'kubectl apply leaves caBundle alone (deploy/ does not name it)').to.equal(bundle);
      const tlsVersion = tls.metadata.resourceVersion;
      await runLocus([...init.args.slice(0, 1), ...args, '--kubeconfig', cluster.kubeconfig]);
      expect((await get(`/api/v1/namespaces/${NS}/secrets/locus-webhook-tls`)).metadata.resourceVersion, 'a second run changes nothing').to.equal(tlsVersion);
    });

    it("the operator pod's init container makes the agent key Secret the agent pods mount, with the operator's RBAC", async () => {
      const operator = await get(`/apis/apps/v1/namespaces/${NS}/deployments/locus-operator`);
      const init = (operator.spec.template.spec.initContainers as { name: string; args: string[] }[]).find((c) => c.name === 'agent-key')!;
      const can = (
        await kubectl(['auth', 'can-i', `--as=system:serviceaccount:${NS}:${operator.spec.template.spec.serviceAccountName}`, 'create', 'secrets', '-n', NS])
      ).stdout.trim();
      expect(can).to.equal('yes');
      await runLocus([...init.args, '--kubeconfig', cluster.kubeconfig]);
      const secret = await get(`/api/v1/namespaces/${NS}/secrets/locus-agent-auth`);
      expect(parseAgentKeys(Buffer.from(secret.data.key, 'base64').toString('utf8'), 'locus-agent-auth')).to.have.length(1);
      const ds = await get(`/apis/apps/v1/namespaces/${NS}/daemonsets/locus-agent`);
      const volume = (ds.spec.template.spec.volumes as { name: string; secret?: { secretName: string; optional?: boolean } }[]).find(
        (v) => v.secret?.secretName === 'locus-agent-auth',
      );
      expect(volume, 'the agents mount the key (and wait for it: not optional)').to.not.equal(undefined);
      expect(volume!.secret!.optional ?? false).to.equal(false);
      // The operator mounts the same key read-only (optional: its own init container makes it) and derives with it.
      const spec = operator.spec.template.spec as {
        volumes: { name: string; secret?: { secretName: string; optional?: boolean } }[];
        containers: { name: string; args: string[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
      };
      const own = spec.volumes.find((v) => v.secret?.secretName === 'locus-agent-auth');
      expect(own?.secret?.optional, 'the operator mounts locus-agent-auth, optional').to.equal(true);
      const container = spec.containers.find((c) => c.name === 'operator')!;
      expect(container.volumeMounts.find((m) => m.name === own!.name)).to.deep.include({ mountPath: '/etc/locus/agent-auth', readOnly: true });
      expect(container.args).to.include('--agent-key-file=/etc/locus/agent-auth/key');
    });
  });

  describe('kubectl locus', () => {
    let extender: Tracked | undefined;
    before(async () => {
      await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: USERS } });
      await create(`/api/v1/namespaces/${USERS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
      await createListedDataset(USERS, 'imagenet', 64, 4 * MiB, 'v1');
      const holding = (from: number, to: number) => ({
        namespace: USERS,
        name: 'imagenet',
        from,
        to,
        blockSize: 4 * MiB,
        blockCount: 64,
        catalogVersion: 'v1',
      });
      await writeNodeCache('node-a', [holding(0, 48)], 'install');
      await writeNodeCache('node-b', [holding(48, 56)], 'install');
      await create(`/api/v1/namespaces/${USERS}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'reader', labels: { 'dataset.0.id': 'imagenet', 'dataset.0.useas': 'mount' } },
        spec: { schedulerName: 'nobody', automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox' }] },
      });
    });
    after(async () => {
      await extender?.stop();
      await kubectl(['-n', USERS, 'delete', 'pod', 'reader', '--grace-period=0', '--force']);
      await kubectl(['-n', NS, 'delete', 'pod', 'locus-extender-e2e', '--grace-period=0', '--force', '--ignore-not-found']);
      await kubectl(['-n', NS, 'delete', 'endpoints', 'locus-extender', '--ignore-not-found']);
      await deleteNodeCache('node-a');
      await deleteNodeCache('node-b');
    });

    it('kubectl locus datasets: size, cached bytes and readers, -n and -o json', async () => {
      const table = await withPlugin(['locus', 'datasets', '-n', USERS]);
      expect(table.split('\n')[0].split(/\s{3,}/)).to.deep.equal(['NAME', 'SIZE', 'CACHED', 'BY ZONE', 'READERS']);
      expect(
        table
          .split('\n')[1]
          .split(/\s{3,}/)
          .slice(0, 3),
      ).to.deep.equal(['imagenet', '256Mi', '224Mi']);
      const json = JSON.parse(await withPlugin(['locus', 'datasets', `--namespace=${USERS}`, '-o', 'json'])) as {
        items: { name: string; sizeBytes: number; cachedBytes: number }[];
      };
      expect(json.items).to.have.length(1);
      expect(json.items[0]).to.include({ name: 'imagenet', sizeBytes: 256 * MiB, cachedBytes: 56 * 4 * MiB });
    });

    it('kubectl locus nodes -o wide, with --kubeconfig and --context passed as kubectl users pass them', async () => {
      const context = (await kubectlOk(['config', 'current-context'])).trim();
      const out = await withPlugin(['locus', 'nodes', '-o', 'wide', '--kubeconfig', cluster.kubeconfig, '--context', context]);
      const rows = out
        .trim()
        .split('\n')
        .map((l) => l.split(/\s{3,}/));
      expect(rows[0].slice(0, 4)).to.deep.equal(['NAME', 'ZONE', 'CACHE', 'USED']);
      const a = rows.find((r) => r[0] === 'node-a')!;
      expect(a.slice(2, 4)).to.deep.equal(['Live', '192Mi']);
      expect(a[a.length - 1]).to.equal(`${USERS}/imagenet=192Mi`);
    });

    it("kubectl locus explain <pod>: through the API server's service proxy, and at --server", async function () {
      // No kubelet runs the extender pods and no controller-manager writes Endpoints, so the test plays both:
      // an extender on this host, a pod with its address, and the Service's Endpoints naming that pod (the
      // API server refuses loopback endpoint addresses, so it listens on the host's own address).
      const proxied = await kubectlPlugin(['locus', 'explain', 'reader', '-n', USERS], pluginPath, true);
      expect(proxied, proxied).to.match(/cannot ask the extender through service locus-system\/locus-extender:http: .*not found/);
      const ip = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      if (!ip) skipBecause(this, 'the service proxy needs a non-loopback IPv4 address on this host for the Endpoints');
      const port = cluster.ports.extender;
      extender = startLocus('extender', ['--listen', `${ip}:${port}`, '--kubeconfig', cluster.kubeconfig, '--log-level', 'warn']);
      const url = `http://${ip}:${port}`;
      await until('the extender synced', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok);
      // the API server proxies only to an address whose targetRef is a pod with that IP
      const pod = await create(`/api/v1/namespaces/${NS}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'locus-extender-e2e', labels: { 'app.kubernetes.io/name': 'locus-extender' } },
        spec: { serviceAccountName: 'locus-extender', automountServiceAccountToken: false, containers: [{ name: 'extender', image: 'locus:0.1.0' }] },
      });
      await mergePatch(`/api/v1/namespaces/${NS}/pods/locus-extender-e2e/status`, { status: { podIP: ip, podIPs: [{ ip }] } });
      await create(`/api/v1/namespaces/${NS}/endpoints`, {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'locus-extender' },
        subsets: [
          {
            addresses: [{ ip, targetRef: { kind: 'Pod', namespace: NS, name: 'locus-extender-e2e', uid: pod.metadata.uid } }],
            ports: [{ name: 'http', port, protocol: 'TCP' }],
          },
        ],
      });

      type Answer = { pod: string; nodes: { node: string; score: number }[] };
      const answer = JSON.parse(await withPlugin(['locus', 'explain', 'reader', '-n', USERS, '-o', 'json'])) as Answer;
      expect(answer.pod).to.equal(`${USERS}/reader`);
      expect(answer.nodes[0].node).to.equal('node-a');
      expect(answer.nodes[0].score).to.be.greaterThan(answer.nodes.find((n) => n.node === 'node-b')!.score);
      expect(await withPlugin(['locus', 'explain', `${USERS}/reader`, '--server', url])).to.match(new RegExp(`^pod ${USERS}/reader {2}policy `));
      const yaml = parse(await withPlugin(['locus', 'explain', 'reader', `--namespace=${USERS}`, '-o', 'yaml'])) as Answer;
      expect(yaml.nodes.map((n) => n.node)).to.deep.equal(answer.nodes.map((n) => n.node));
    });
  });

  describe('delete', () => {
    it("kubectl delete -k deploy-1.20/ removes what it created and leaves users' Datasets and what they own", async () => {
      // what the operator would have made for the Dataset: an owned Secret, and its finalizer
      const ds = await get(datasetPath(USERS, 'imagenet'));
      await kubectlOk(['-n', USERS, 'patch', 'dataset', 'imagenet', '--type=merge', '-p', JSON.stringify({ metadata: { finalizers: [FINALIZER] } })]);
      await create(`/api/v1/namespaces/${USERS}/secrets`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'imagenet-credentials',
          ownerReferences: [{ apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', name: 'imagenet', uid: ds.metadata.uid!, controller: true }],
        },
        data: { accessKeyID: Buffer.from('k').toString('base64') },
      });

      // kubectl waits for finalizers by default; the namespace's is the namespace controller's, which this cluster lacks
      await kubectlOk(['delete', '-k', DEPLOY, '--wait=false']);
      for (const r of rendered.filter((o) => o.kind !== 'Namespace')) {
        const left = await kubectl(['get', r.kind, r.name, ...(r.namespace ? ['-n', r.namespace] : []), '-o', 'name']);
        expect(left.code, `${r.kind}/${r.name} is gone`).to.not.equal(0);
        expect(left.stderr).to.match(/NotFound|not found/);
      }
      const ns = await get(`/api/v1/namespaces/${NS}`);
      expect(ns.metadata.deletionTimestamp, `${NS} is being deleted (its Secrets go with it)`).to.be.a('string');
      expect(ns.status.phase).to.equal('Terminating');

      // the users' side: CRDs, the Dataset (with its finalizer) and its owned Secret are untouched
      for (const crd of ['datasets.locus.dev', 'nodecaches.locus.dev'])
        expect(await find(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`)).to.not.equal(undefined);
      const kept = await get(datasetPath(USERS, 'imagenet'));
      expect(kept.metadata.deletionTimestamp).to.equal(undefined);
      expect(kept.status.catalog.totalBytes).to.equal(256 * MiB);
      expect((await get(`/api/v1/namespaces/${USERS}/secrets/imagenet-credentials`)).metadata.ownerReferences![0].uid).to.equal(ds.metadata.uid);

      // the user may still delete the Dataset without the operator: its finalizer is theirs to drop
      await kubectlOk(['-n', USERS, 'patch', 'dataset', 'imagenet', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      await remove(datasetPath(USERS, 'imagenet'));
      await until('the Dataset is gone', async () => (await find(datasetPath(USERS, 'imagenet'))) === undefined);
      await kubectl(['delete', 'namespace', USERS, '--wait=false']);
    });
  });
});

/** `kubectl <args>` with the plugin on PATH; stdout, or with `failing` the stderr of a non-zero exit. */
async function kubectlPlugin(args: string[], path: string, failing = false): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(
      join(cluster.bin, 'kubectl'),
      args,
      {
        env: { ...process.env, PATH: path, KUBECONFIG: cluster.kubeconfig },
        cwd: cluster.root,
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        if (failing) {
          if (err) resolve(stderr);
          else reject(new Error(`kubectl ${args.join(' ')} should have failed; printed ${stdout}`));
        } else if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** `locus <args>` from the source tree, to completion. */
async function runLocus(args: string[]): Promise<void> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(cluster.root, 'src/cli/locus.ts'), ...args],
      { cwd: cluster.root, timeout: 60_000 },
      (err, _stdout, stderr) => (err ? reject(new Error(`locus ${args.join(' ')}: ${stderr}`)) : resolve()),
    );
  });
}
