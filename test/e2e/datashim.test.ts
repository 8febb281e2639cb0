// Datashim's own examples (test/fixtures/datashim/, only apiVersion changed) on the real apiserver:
// every Dataset applies and keeps every field; each example pod, created through the webhook, is
// stored as Datashim's webhook would have made it (plus Locus's scheduler, annotation and Event); an
// ARCHIVE Dataset is downloaded, extracted into the staging bucket and wired into a pod by the operator.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { api, create, find, get, mergePatch, remove, type Obj } from './support/api.js';
import { datasetPath } from './support/datasets.js';
import { installCrds } from './support/crds.js';
import { cluster } from './support/env.js';
import { kubectlOk } from './support/kubectl.js';
import { deleteAllPods, podPath } from './support/pods.js';
import { startLocus, type Tracked } from './support/process.js';
import { until } from './support/wait.js';
import { register, startWebhook, unregister } from './support/webhook.js';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';

const FIXTURES = 'test/fixtures/datashim';
const ns = 'e2e-datashim';
const OPT_IN = { 'monitor-pods-datasets': 'enabled' };

interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}
interface Container {
  name: string;
  volumeMounts?: { name: string; mountPath: string }[];
  env?: { name: string }[];
}

/** A fixture's documents with the template placeholders filled in, as a Datashim user fills them. */
function manifests(file: string, fill: Record<string, string> = {}): Obj[] {
  let text = readFileSync(join(FIXTURES, file), 'utf8');
  for (const [from, to] of Object.entries(fill)) text = text.split(from).join(to);
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
}

const apply = (docs: Obj[], namespace: string) => kubectlOk(['apply', '-n', namespace, '-f', '-'], docs.map((d) => JSON.stringify(d)).join('\n'));

/** The pod of a fixture: a Pod as is, or the pod template of a Job or Deployment as its controller would post it. */
function examplePod(doc: Obj, namespace: string): Obj {
  if (doc.kind === 'Pod') return { ...doc, metadata: { ...doc.metadata, namespace } };
  const template = doc.spec.template;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, generateName: `${doc.metadata.name}-`, namespace }, spec: template.spec };
}

/** Volumes and mounts other than the service-account token's, which the apiserver adds to every pod. */
const own = <T extends { name: string }>(xs: T[] | undefined) => (xs ?? []).filter((x) => !x.name.startsWith('default-token'));

async function createThroughWebhook(p: Obj): Promise<Obj> {
  // the apiserver may take a moment to pick up a new webhook configuration
  return until(`pod ${p.metadata.name ?? p.metadata.generateName} to be stored mutated`, async () => {
    const stored = await create<Obj>(podPath(p.metadata.namespace!), p);
    if (stored.metadata.annotations?.['locus.dev/datasets']) return stored;
    await remove(podPath(stored.metadata.namespace!, stored.metadata.name));
    return undefined;
  });
}

/** The DatasetAttached Events of a pod (each case deletes its pods and their Events before the next: the examples reuse names). */
async function attachedEvents(namespace: string, pod: string): Promise<string[]> {
  return until(`a DatasetAttached Event for pod ${namespace}/${pod}`, async () => {
    const selector = encodeURIComponent(`involvedObject.kind=Pod,involvedObject.name=${pod},reason=DatasetAttached`);
    const list = await get<{ items: { message: string }[] }>(`/api/v1/namespaces/${namespace}/events?fieldSelector=${selector}`);
    return list.items.length > 0 ? list.items.map((e) => e.message) : undefined;
  });
}

/** The env names Datashim's `configmap` gives an object-store Dataset: its ConfigMap's and its Secret's keys, prefixed. */
const DATASHIM_COS_ENV = ['endpoint', 'bucket', 'folder', 'region', 'accessKeyID', 'secretAccessKey', 'readonly', 'extract', 'provision', 'remove-on-delete'];

describe("Datashim's examples on the real apiserver", () => {
  let s3: TestS3;
  const fill = (): Record<string, string> => ({
    '{SECRET_NAME}': 's3secret',
    '{S3_SERVICE_URL}': s3.endpoint,
    '{BUCKET_NAME}': 'example-bucket',
    '{AWS_ACCESS_KEY_ID}': S3RVER_KEYS.accessKeyID,
    '{AWS_SECRET_ACCESS_KEY}': S3RVER_KEYS.secretAccessKey,
    '{AWS_ACCESS_KEY}': S3RVER_KEYS.accessKeyID,
    '{DIR_PATH}': '/data/example',
    '{TYPE}': 'Directory',
    '${S3_ENDPOINT}': s3.endpoint,
    '${AWS_ACCESS_KEY_ID}': S3RVER_KEYS.accessKeyID,
    '${AWS_SECRET_ACCESS_KEY}': S3RVER_KEYS.secretAccessKey,
  });

  before(async () => {
    await installCrds();
    s3 = await startS3(['example-bucket', 'locus-archives']);
  });
  after(async () => {
    await s3?.close();
  });

  describe('Datasets', () => {
    const DATASETS: Array<[string, string]> = [
      ['templates/example-archive.yaml', ns],
      ['templates/example-dataset-host.yaml', ns],
      ['templates/example-dataset-nfs.yaml', ns],
      ['templates/example-dataset-s3-provision.yaml', ns],
      ['templates/example-dataset-s3-secrets.yaml', ns],
      ['templates/example-dataset-s3.yaml', ns],
      ['hive/sampleapp/bookdataset.yaml', 'default'],
      ['inference-server/minio-dataset.yaml', 'datashim-demo'],
      ['inference-server/simple-testing/dataset-prod.yaml', 'production'],
    ];
    for (const [file, namespace] of DATASETS) {
      it(`applies ${file} with only apiVersion changed, keeping every field`, async () => {
        const [doc] = manifests(file, fill());
        await apply([doc], namespace);
        try {
          const stored = await get(datasetPath(namespace, doc.metadata.name));
          expect(stored.spec).to.deep.equal(doc.spec);
        } finally {
          await remove(datasetPath(namespace, doc.metadata.name));
        }
      });
    }
  });

  describe('example pods through the webhook', () => {
    let webhook: Tracked;
    let configName: string;
    const namespaces = [ns, 'default', 'datashim-demo', 'production'];

    before(async () => {
      for (const n of namespaces) await mergePatch(`/api/v1/namespaces/${n}`, { metadata: { labels: OPT_IN } });
      webhook = await startWebhook(['--no-dataset-cache']);
      configName = await register();
    });
    after(async () => {
      await unregister(configName);
      await webhook?.stop();
      for (const n of namespaces) {
        await deleteAllPods(n);
        await mergePatch(`/api/v1/namespaces/${n}`, { metadata: { labels: { 'monitor-pods-datasets': null } } });
      }
    });

    /** Applies the Dataset fixture(s) in `namespace`, runs `body`, then removes them and the pods. */
    async function withDatasets(files: string[], namespace: string, body: () => Promise<void>): Promise<void> {
      const docs = files.flatMap((f) => manifests(f, fill()));
      await apply(docs, namespace);
      try {
        await body();
      } finally {
        await deleteAllPods(namespace);
        await api('DELETE', `/api/v1/namespaces/${namespace}/events`);
        for (const d of docs) if (d.kind === 'Dataset') await remove(datasetPath(namespace, d.metadata.name));
      }
    }

    it('example-pod.yaml (useas mount, its own mount) on a read-only Dataset: the volume, read-only; its mount kept', () =>
      withDatasets(['templates/example-s3-secret.yaml', 'templates/example-dataset-s3-secrets.yaml'], ns, async () => {
        const stored = await createThroughWebhook(examplePod(manifests('templates/example-pod.yaml')[0], ns));
        expect(own<Volume>(stored.spec.volumes)).to.deep.equal([
          { name: 'example-dataset', persistentVolumeClaim: { claimName: 'example-dataset', readOnly: true } },
        ]);
        const [nginx] = stored.spec.containers as Container[];
        expect(own(nginx.volumeMounts)).to.deep.equal([{ name: 'example-dataset', mountPath: '/mount/dataset1' }]);
        expect(nginx.env).to.equal(undefined);
        expect(stored.spec.schedulerName).to.equal('locus-scheduler');
        expect((await attachedEvents(ns, 'nginx')).join()).to.include(
          'Dataset "example-dataset": added volume "example-dataset" from PVC "example-dataset" read-only',
        );
      }));

    it("example-pod-mult-useas.yaml (mount.configmap): the volume and Datashim's env names", () =>
      withDatasets(['templates/example-s3-secret.yaml', 'templates/example-dataset-s3-secrets.yaml'], ns, async () => {
        const stored = await createThroughWebhook(examplePod(manifests('templates/example-pod-mult-useas.yaml')[0], ns));
        expect(own<Volume>(stored.spec.volumes)).to.deep.equal([
          { name: 'example-dataset', persistentVolumeClaim: { claimName: 'example-dataset', readOnly: true } },
        ]);
        const [nginx] = stored.spec.containers as Container[];
        expect(own(nginx.volumeMounts)).to.deep.equal([{ name: 'example-dataset', mountPath: '/mount/dataset1' }]);
        const names = (nginx.env ?? []).map((e) => e.name);
        // Datashim's names, and Locus's own name for the prefix besides Datashim's `folder`.
        expect(names.sort()).to.deep.equal([...DATASHIM_COS_ENV, 'prefix'].map((k) => `example-dataset_${k}`).sort());
        const env = Object.fromEntries((nginx.env as { name: string; value?: string }[]).map((e) => [e.name, e]));
        expect(env['example-dataset_readonly'].value).to.equal('true');
        expect(env['example-dataset_accessKeyID']).to.deep.include({
          valueFrom: { secretKeyRef: { name: 'example-dataset-credentials', key: 'accessKeyID' } },
        });
        await attachedEvents(ns, 'nginx');
      }));

    it("example-pod-directpvc.yaml (no labels, mounts the PVC itself): routed, and the read-only Dataset's volume made read-only", () =>
      withDatasets(['templates/example-s3-secret.yaml', 'templates/example-dataset-s3-secrets.yaml'], ns, async () => {
        const stored = await createThroughWebhook(examplePod(manifests('templates/example-pod-directpvc.yaml')[0], ns));
        expect(own<Volume>(stored.spec.volumes)).to.deep.equal([
          { name: 'example-dataset', persistentVolumeClaim: { claimName: 'example-dataset', readOnly: true } },
        ]);
        expect(own((stored.spec.containers as Container[])[0].volumeMounts)).to.deep.equal([{ name: 'example-dataset', mountPath: '/mount/dataset1' }]);
        expect(stored.spec.schedulerName).to.equal('locus-scheduler');
        expect((await attachedEvents(ns, 'nginx')).join()).to.include('volume "example-dataset" made read-only');
      }));

    it('example-pod.yaml on the NFS example: a read-write volume', () =>
      withDatasets(['templates/example-dataset-nfs.yaml'], ns, async () => {
        const stored = await createThroughWebhook(examplePod(manifests('templates/example-pod.yaml')[0], ns));
        expect(own<Volume>(stored.spec.volumes)).to.deep.equal([{ name: 'example-dataset', persistentVolumeClaim: { claimName: 'example-dataset' } }]);
      }));

    it('the Hive sample pod: volume bookds mounted at /mnt/datasets/bookds', () =>
      withDatasets(['hive/sampleapp/bookdataset.yaml'], 'default', async () => {
        const stored = await createThroughWebhook(examplePod(manifests('hive/sampleapp/samplepod.yaml')[0], 'default'));
        expect(own<Volume>(stored.spec.volumes)).to.deep.equal([{ name: 'bookds', persistentVolumeClaim: { claimName: 'bookds' } }]);
        expect(own((stored.spec.containers as Container[])[0].volumeMounts)).to.deep.equal([{ name: 'bookds', mountPath: '/mnt/datasets/bookds' }]);
        await attachedEvents('default', 'sampleapp');
      }));

    it('the inference-server pod, Job and Deployment pods (generateName, no owner yet): mounted, named, each with its Event', () =>
      withDatasets(['inference-server/minio-dataset.yaml'], 'datashim-demo', async () => {
        const tgi = manifests('inference-server/tgi+service.yaml');
        await apply(
          tgi.filter((d) => d.kind === 'Service'),
          'datashim-demo',
        );
        const pods = [
          examplePod(
            tgi.find((d) => d.kind === 'Pod')!,
            'datashim-demo',
          ),
          examplePod(manifests('inference-server/download-flan-t5-base-to-minio.yaml')[0], 'datashim-demo'),
          examplePod(manifests('inference-server/simple-testing/deployment.yaml')[0], 'datashim-demo'),
        ];
        for (const p of pods) {
          const stored = await createThroughWebhook(p);
          expect(stored.metadata.name, 'a generateName-only pod is named at admission').to.match(
            p.metadata.name ? /^text-generation-inference$/ : new RegExp(`^${p.metadata.generateName}[a-z0-9]{5}$`),
          );
          expect(own<Volume>(stored.spec.volumes)).to.deep.equal([{ name: 'model-weights', persistentVolumeClaim: { claimName: 'model-weights' } }]);
          for (const c of stored.spec.containers as Container[]) {
            expect(own(c.volumeMounts)).to.deep.equal([{ name: 'model-weights', mountPath: '/mnt/datasets/model-weights' }]);
          }
          expect((await attachedEvents('datashim-demo', stored.metadata.name)).join()).to.include('mounted at /mnt/datasets/model-weights');
        }
      }));
  });

  describe('ARCHIVE through the operator', () => {
    const opNs = ns;
    let operator: Tracked;
    let web: Server;
    let dir: string;
    let url: string;
    const files: Record<string, string> = { 'jfk/weather.csv': 'date,temp\n2020-01-01,4\n', 'jfk/README.md': 'NOAA weather, JFK\n' };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'locus-e2e-archive-'));
      for (const [name, body] of Object.entries(files)) {
        mkdirSync(join(dir, 'src', name, '..'), { recursive: true });
        writeFileSync(join(dir, 'src', name), body);
      }
      execFileSync('tar', ['-czf', join(dir, 'noaa-weather-data-jfk-airport.tar.gz'), '-C', join(dir, 'src'), 'jfk']);
      const body = readFileSync(join(dir, 'noaa-weather-data-jfk-airport.tar.gz'));
      web = createServer((req, res) => {
        if (req.url?.endsWith('/noaa-weather-data-jfk-airport.tar.gz')) res.writeHead(200, { 'content-length': body.length }).end(body);
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
      await create(`/api/v1/namespaces/${opNs}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'archive-store' }, stringData: S3RVER_KEYS });
      // NFS is the administrator's to allow (issue 14): the example's share, in this namespace.
      writeFileSync(
        join(dir, 'policy.yaml'),
        `namespaces:\n  ${opNs}:\n    types: [S3, COS, ARCHIVE, NFS]\n    nfs: [{ server: 10.109.11.40, exports: [/] }]\n`,
      );
      operator = startLocus('operator', [
        '--kubeconfig',
        cluster.kubeconfig,
        '--listen',
        `127.0.0.1:${cluster.ports.metrics}`,
        '--namespace',
        opNs,
        '--archive-endpoint',
        s3.endpoint,
        '--archive-bucket',
        'locus-archives',
        '--archive-secret',
        `${opNs}/archive-store`,
        '--policy-file',
        join(dir, 'policy.yaml'),
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
      await remove(datasetPath(opNs, 'example-dataset'));
      await operator?.stop();
      await remove(`/api/v1/namespaces/${opNs}/secrets/archive-store`);
      web?.closeAllConnections();
      await new Promise((r) => web?.close(r));
      rmSync(dir, { recursive: true, force: true });
    });

    it('downloads and extracts example-archive.yaml (served from loopback, extract on) into the staging bucket, then gives it a volume', async () => {
      const [doc] = manifests('templates/example-archive.yaml', { 'https://dax-cdn.cdn.appdomain.cloud/dax-noaa-weather-data-jfk-airport/1.1.4': url });
      doc.spec.extract = 'true';
      await apply([doc], opNs);
      const staged = await until(
        'the archive to be staged',
        async () => {
          if (!operator.running()) throw new Error(`locus operator exited: ${operator.log().slice(-2000)}`);
          const ds = await get(datasetPath(opNs, 'example-dataset'));
          const c = (ds.status?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined)?.find(
            (x) => x.type === 'ArchiveStaged',
          );
          if (c?.status === 'False') throw new Error(`staging failed: ${c.message}`);
          return c?.status === 'True' ? ds : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(staged.status.archive).to.deep.include({ url: doc.spec.url, extract: true, objects: 2 });
      const prefix = `${opNs}/example-dataset/`;
      expect(staged.status.resolved).to.deep.include({ bucket: 'locus-archives', prefix });
      const cm = await until('the ConfigMap', () => find<Obj>(`/api/v1/namespaces/${opNs}/configmaps/example-dataset`));
      expect(cm.data).to.deep.include({ bucket: 'locus-archives', prefix, endpoint: s3.endpoint });
      const pvc = await until('the PVC', () => find<Obj>(`/api/v1/namespaces/${opNs}/persistentvolumeclaims/example-dataset`));
      expect(pvc.spec.accessModes).to.deep.equal(['ReadOnlyMany']);
      expect(await until('the credentials Secret', () => find(`/api/v1/namespaces/${opNs}/secrets/example-dataset-credentials`))).to.not.equal(undefined);
      const listed = await until('the catalog of the staged files', async () => (await get(datasetPath(opNs, 'example-dataset'))).status?.catalog, {
        timeoutMs: 30_000,
      });
      expect(listed).to.deep.include({ objectCount: 2, totalBytes: Object.values(files).reduce((a, b) => a + b.length, 0) });
      // This control plane runs no volume binder: the test binds the PVC as the S3 driver's provisioner would.
      await mergePatch(`/api/v1/namespaces/${opNs}/persistentvolumeclaims/example-dataset/status`, { status: { phase: 'Bound' } });
      const ready = await until('the ARCHIVE Dataset to be Ready', async () => {
        const ds = await get(datasetPath(opNs, 'example-dataset'));
        return ds.status?.phase === 'Ready' ? ds : undefined;
      });
      expect((ready.status.conditions as { type: string; status: string }[]).find((c) => c.type === 'ArchiveStaged')?.status).to.equal('True');
      await remove(datasetPath(opNs, 'example-dataset'));
      await until('the ARCHIVE Dataset to be gone', async () => !(await find(datasetPath(opNs, 'example-dataset'))));
    });

    it('gives example-dataset-nfs.yaml (createDirPVC) a directory of its own: a Job makes it, then the PV mounts it', async () => {
      const [doc] = manifests('templates/example-dataset-nfs.yaml');
      await apply([doc], opNs);
      try {
        const uid = (await get(datasetPath(opNs, 'example-dataset'))).metadata.uid!;
        const dir = `example-dataset-${uid.replace(/-/g, '').slice(0, 6)}`;
        const jobPath = `/apis/batch/v1/namespaces/${opNs}/jobs/example-dataset-mkdir`;
        const job = await until('the mkdir Job', () => find<Obj>(jobPath));
        expect(job.spec.template.spec.volumes).to.deep.equal([{ name: 'share', nfs: { server: '10.109.11.40', path: '/' } }]);
        expect(job.spec.template.spec.containers[0].command).to.deep.equal(['mkdir', '-p', `/share/${dir}`]);
        expect(job.metadata.ownerReferences?.[0]).to.deep.include({ kind: 'Dataset', name: 'example-dataset', uid });
        const pvPath = `/api/v1/persistentvolumes/locus.${opNs}.example-dataset`;
        expect(await find(pvPath), 'no PV before the directory exists').to.equal(undefined);
        // This control plane runs no Job controller: the test reports the Job's success as it would.
        await mergePatch(`${jobPath}/status`, { status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } });
        const pv = await until('the PV on the new directory', () => find<Obj>(pvPath), { timeoutMs: 30_000 });
        expect(pv.spec.csi.volumeAttributes).to.deep.equal({ server: '10.109.11.40', share: `/${dir}` });
        const ds = await until('DirectoryCreated', async () => {
          const d = await get(datasetPath(opNs, 'example-dataset'));
          return (d.status?.conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === 'DirectoryCreated' && c.status === 'True')
            ? d
            : undefined;
        });
        expect(JSON.stringify(ds.status.conditions)).to.include(`/${dir}`);
      } finally {
        await remove(datasetPath(opNs, 'example-dataset'));
      }
    });
  });
});
