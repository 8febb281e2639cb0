import { expect } from 'chai';
import fc from 'fast-check';
import { AWS_ENV_ANNOTATION, DATASETS_ANNOTATION, mutatePod, namesToLookUp, type FoundDataset, type MutateOptions } from '../../src/webhook/mutate.js';
import type { Pod } from '../../src/webhook/pod.js';
import { applied, dataset, found, NS, pod } from './pods.js';

const opts: MutateOptions = { schedulerName: 'locus-scheduler', allowMissing: false };

interface Container {
  name: string;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, { name: string; key: string; optional?: boolean }> }>;
}
const containers = (p: Pod, kind: 'containers' | 'initContainers' = 'containers') => (p.spec?.[kind] ?? []) as Container[];

describe('webhook mutatePod', () => {
  describe('mutations', () => {
    const cases: Array<{
      name: string;
      pod: Pod;
      found: Map<string, FoundDataset>;
      opts?: Partial<MutateOptions>;
      check: (out: Pod, warnings: string[]) => void;
    }> = [
      {
        name: 'mount: PVC volume named after the Dataset, mounted at /mnt/datasets/<name>',
        pod: pod({ 'dataset.0.id': 'imagenet', 'dataset.0.useas': 'mount' }),
        found: found(dataset('imagenet')),
        check: (out) => {
          expect(out.spec?.volumes).to.deep.include({ name: 'imagenet', persistentVolumeClaim: { claimName: 'imagenet' } });
          expect(containers(out)[0].volumeMounts).to.deep.include({ name: 'imagenet', mountPath: '/mnt/datasets/imagenet' });
          expect(out.metadata?.annotations).to.deep.equal({ [DATASETS_ANNOTATION]: 'imagenet' });
          expect(out.spec?.schedulerName).to.equal('locus-scheduler');
        },
      },
      {
        name: 'useas absent means mount',
        pod: pod({ 'dataset.0.id': 'imagenet' }),
        found: found(dataset('imagenet')),
        check: (out) => expect(containers(out)[0].volumeMounts!.map((m) => m.name)).to.include('imagenet'),
      },
      {
        name: 'mount goes into every container and initContainer; one already mounting it is left alone',
        pod: pod(
          { 'dataset.0.id': 'imagenet' },
          {
            initContainers: [{ name: 'fetch' }],
            containers: [{ name: 'a', volumeMounts: [{ name: 'imagenet', mountPath: '/data' }] }, { name: 'b' }, { name: 'c', volumeMounts: [] }],
          },
        ),
        found: found(dataset('imagenet')),
        check: (out) => {
          expect(containers(out, 'initContainers')[0].volumeMounts).to.deep.equal([{ name: 'imagenet', mountPath: '/mnt/datasets/imagenet' }]);
          const [a, b, c] = containers(out);
          expect(a.volumeMounts).to.deep.equal([{ name: 'imagenet', mountPath: '/data' }]);
          expect(b.volumeMounts).to.deep.equal([{ name: 'imagenet', mountPath: '/mnt/datasets/imagenet' }]);
          expect(c.volumeMounts).to.deep.equal([{ name: 'imagenet', mountPath: '/mnt/datasets/imagenet' }]);
        },
      },
      {
        name: "a pod that has the Dataset's volume under its name keeps its volumes and mounts as written (as with Datashim)",
        pod: pod({ 'dataset.0.id': 'imagenet' }, { volumes: [{ name: 'imagenet', persistentVolumeClaim: { claimName: 'imagenet' } }] }),
        found: found(dataset('imagenet')),
        check: (out, warnings) => {
          expect(out.spec?.volumes).to.deep.equal([{ name: 'imagenet', persistentVolumeClaim: { claimName: 'imagenet' } }]);
          expect(containers(out)[0].volumeMounts!.filter((m) => m.name === 'imagenet')).to.have.length(0);
          expect(out.spec?.schedulerName).to.equal('locus-scheduler');
          expect(warnings).to.deep.equal([]);
        },
      },
      {
        name: "a volume of another name on the Dataset's PVC: the pod's mounts are kept as written",
        pod: pod(
          { 'dataset.0.id': 'imagenet' },
          {
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'imagenet' } }],
            containers: [{ name: 'a', volumeMounts: [{ name: 'data', mountPath: '/data' }] }, { name: 'b' }],
          },
        ),
        found: found(dataset('imagenet')),
        check: (out) => {
          expect(out.spec?.volumes).to.deep.equal([{ name: 'data', persistentVolumeClaim: { claimName: 'imagenet' } }]);
          expect(containers(out)[0].volumeMounts).to.deep.equal([{ name: 'data', mountPath: '/data' }]);
          expect(containers(out)[1].volumeMounts).to.equal(undefined);
        },
      },
      {
        name: "Datashim's example-pod: a container mounting the Dataset at its own path gets the volume only",
        pod: pod(
          { 'dataset.0.id': 'example-dataset', 'dataset.0.useas': 'mount' },
          {
            volumes: undefined,
            containers: [{ name: 'nginx', image: 'nginx', volumeMounts: [{ mountPath: '/mount/dataset1', name: 'example-dataset' }] }],
          },
        ),
        found: found(dataset('example-dataset', { readOnly: true })),
        check: (out) => {
          expect(out.spec?.volumes).to.deep.equal([{ name: 'example-dataset', persistentVolumeClaim: { claimName: 'example-dataset', readOnly: true } }]);
          expect(containers(out)[0].volumeMounts).to.deep.equal([{ mountPath: '/mount/dataset1', name: 'example-dataset' }]);
        },
      },
      {
        name: "a same-named volume that is not the Dataset's PVC is kept, with a warning",
        pod: pod({ 'dataset.0.id': 'imagenet' }, { volumes: [{ name: 'imagenet', emptyDir: {} }] }),
        found: found(dataset('imagenet')),
        check: (out, warnings) => {
          expect(out.spec?.volumes).to.deep.equal([{ name: 'imagenet', emptyDir: {} }]);
          expect(warnings.join()).to.match(/volume "imagenet" is not PVC "imagenet"/);
        },
      },
      {
        name: 'a container with another volume at the mount path is left alone, with a warning',
        pod: pod({ 'dataset.0.id': 'imagenet' }, { containers: [{ name: 'main', volumeMounts: [{ name: 'scratch', mountPath: '/mnt/datasets/imagenet' }] }] }),
        found: found(dataset('imagenet')),
        check: (out, warnings) => {
          expect(containers(out)[0].volumeMounts).to.deep.equal([{ name: 'scratch', mountPath: '/mnt/datasets/imagenet' }]);
          expect(warnings.join()).to.match(/container main mounts volume "scratch" at \/mnt\/datasets\/imagenet/);
        },
      },
      {
        name: 'read-only Dataset: the volume it adds is read-only (persistentVolumeClaim.readOnly, as Datashim sets it)',
        pod: pod({ 'dataset.0.id': 'imagenet' }),
        found: found(dataset('imagenet', { readOnly: true })),
        check: (out) => {
          expect(out.spec?.volumes).to.deep.include({ name: 'imagenet', persistentVolumeClaim: { claimName: 'imagenet', readOnly: true } });
          expect(containers(out)[0].volumeMounts).to.deep.include({ name: 'imagenet', mountPath: '/mnt/datasets/imagenet' });
        },
      },
      {
        name: 'read-only Dataset the pod mounts itself, labelled or not: its own volume is made read-only',
        pod: pod(
          { 'dataset.0.id': 'imagenet' },
          {
            volumes: [
              { name: 'data', persistentVolumeClaim: { claimName: 'imagenet' } },
              { name: 'logs', persistentVolumeClaim: { claimName: 'ro-share' } },
            ],
            containers: [
              {
                name: 'main',
                volumeMounts: [
                  { name: 'data', mountPath: '/data' },
                  { name: 'logs', mountPath: '/logs' },
                ],
              },
            ],
          },
        ),
        found: found(dataset('imagenet', { readOnly: true }), dataset('ro-share', { readOnly: true })),
        check: (out) => {
          expect(out.spec?.volumes).to.deep.equal([
            { name: 'data', persistentVolumeClaim: { claimName: 'imagenet', readOnly: true } },
            { name: 'logs', persistentVolumeClaim: { claimName: 'ro-share', readOnly: true } },
          ]);
          expect(containers(out)[0].volumeMounts).to.deep.equal([
            { name: 'data', mountPath: '/data' },
            { name: 'logs', mountPath: '/logs' },
          ]);
        },
      },
      {
        name: 'configmap: ConfigMap keys prefixed <name>_, credentials only through secretKeyRef',
        pod: pod({ 'dataset.0.id': 'books', 'dataset.0.useas': 'configmap' }, { initContainers: [{ name: 'init' }] }),
        found: found(dataset('books')),
        check: (out) => {
          for (const c of [...containers(out), ...containers(out, 'initContainers')]) {
            expect(c.env!.map((e) => e.name)).to.deep.equal([
              'books_endpoint',
              'books_bucket',
              'books_region',
              'books_prefix',
              'books_folder',
              'books_accessKeyID',
              'books_secretAccessKey',
            ]);
            expect(c.env!.every((e) => e.value === undefined)).to.equal(true);
            expect(c.env![0].valueFrom).to.deep.equal({ configMapKeyRef: { name: 'books', key: 'endpoint', optional: true } });
            expect(c.env![4].valueFrom).to.deep.equal({ configMapKeyRef: { name: 'books', key: 'prefix', optional: true } });
            expect(c.env![5].valueFrom).to.deep.equal({ secretKeyRef: { name: 'books-credentials', key: 'accessKeyID' } });
            expect(c.env![6].valueFrom).to.deep.equal({ secretKeyRef: { name: 'books-credentials', key: 'secretAccessKey' } });
            expect(c.volumeMounts?.some((m) => m.name === 'books') ?? false).to.equal(false);
          }
          expect(out.spec?.volumes?.some((v) => v.name === 'books')).to.equal(false);
        },
      },
      {
        name: 'configmap of a Dataset without credentials (NFS): its own keys, no Secret reference',
        pod: pod({ 'dataset.0.id': 'share', 'dataset.0.useas': 'configmap' }),
        found: found(dataset('share', { credentials: false, configKeys: ['server', 'share'] })),
        check: (out) => {
          expect(containers(out)[0].env!.map((e) => e.name)).to.deep.equal(['share_server', 'share_share']);
          expect(JSON.stringify(out)).not.to.contain('secretKeyRef');
        },
      },
      {
        name: 'an env var the pod already sets is not overridden',
        pod: pod(
          { 'dataset.0.id': 'books', 'dataset.0.useas': 'configmap' },
          { containers: [{ name: 'main', env: [{ name: 'books_bucket', value: 'mine' }] }] },
        ),
        found: found(dataset('books')),
        check: (out) => {
          const env = containers(out)[0].env!;
          expect(env.filter((e) => e.name === 'books_bucket')).to.deep.equal([{ name: 'books_bucket', value: 'mine' }]);
          expect(env).to.have.length(7);
        },
      },
      {
        name: 'mount.configmap: both',
        pod: pod({ 'dataset.0.id': 'books', 'dataset.0.useas': 'mount.configmap' }),
        found: found(dataset('books')),
        check: (out) => {
          expect(containers(out)[0].volumeMounts!.map((m) => m.name)).to.include('books');
          expect(containers(out)[0].env).to.have.length(7);
        },
      },
      {
        name: 'several Datasets: annotation lists them sorted',
        pod: pod({ 'dataset.0.id': 'zeta', 'dataset.1.id': 'alpha', 'dataset.1.useas': 'configmap' }),
        found: found(dataset('zeta'), dataset('alpha')),
        check: (out) => {
          expect(out.metadata?.annotations?.[DATASETS_ANNOTATION]).to.equal('alpha,zeta');
          expect(out.spec?.volumes!.map((v) => v.name)).to.deep.equal(['default-token-x', 'zeta']);
        },
      },
      {
        name: 'annotations already present: the key is added beside them',
        pod: { ...pod({ 'dataset.0.id': 'imagenet' }), metadata: { name: 'p', labels: { 'dataset.0.id': 'imagenet' }, annotations: { keep: 'me' } } },
        found: found(dataset('imagenet')),
        check: (out) => expect(out.metadata?.annotations).to.deep.equal({ keep: 'me', [DATASETS_ANNOTATION]: 'imagenet' }),
      },
      {
        name: 'no volumes, mounts or scheduler yet: whole arrays and fields are added',
        pod: { metadata: { name: 'p', labels: { 'dataset.0.id': 'books', 'dataset.0.useas': 'mount.configmap' } }, spec: { containers: [{ name: 'main' }] } },
        found: found(dataset('books')),
        check: (out) => {
          expect(out.spec?.volumes).to.deep.equal([{ name: 'books', persistentVolumeClaim: { claimName: 'books' } }]);
          expect(containers(out)[0].volumeMounts).to.deep.equal([{ name: 'books', mountPath: '/mnt/datasets/books' }]);
          expect(out.spec?.schedulerName).to.equal('locus-scheduler');
        },
      },
      {
        name: 'a pod naming another scheduler keeps it',
        pod: pod({ 'dataset.0.id': 'imagenet' }, { schedulerName: 'volcano' }),
        found: found(dataset('imagenet')),
        check: (out) => expect(out.spec?.schedulerName).to.equal('volcano'),
      },
      {
        name: 'scheduler switch off: default scheduler kept',
        pod: pod({ 'dataset.0.id': 'imagenet' }),
        found: found(dataset('imagenet')),
        opts: { schedulerName: undefined },
        check: (out) => expect(out.spec?.schedulerName).to.equal('default-scheduler'),
      },
      {
        name: 'another scheduler name by option',
        pod: pod({ 'dataset.0.id': 'imagenet' }),
        found: found(dataset('imagenet')),
        opts: { schedulerName: 'data-scheduler' },
        check: (out) => expect(out.spec?.schedulerName).to.equal('data-scheduler'),
      },
      {
        name: "a pod mounting a Dataset's PVC itself is routed and annotated, its volumes untouched",
        pod: pod(
          {},
          {
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'imagenet' } }],
            containers: [{ name: 'main', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          },
        ),
        found: found(dataset('imagenet')),
        check: (out) => {
          expect(out.spec?.volumes).to.deep.equal([{ name: 'data', persistentVolumeClaim: { claimName: 'imagenet' } }]);
          expect(containers(out)[0].volumeMounts).to.deep.equal([{ name: 'data', mountPath: '/data' }]);
          expect(out.spec?.schedulerName).to.equal('locus-scheduler');
          expect(out.metadata?.annotations?.[DATASETS_ANNOTATION]).to.equal('imagenet');
        },
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const m = mutatePod(c.pod, NS, c.found, { ...opts, ...c.opts });
        expect(m.denial).to.equal(undefined);
        const out = applied(c.pod, m.patch);
        c.check(out, m.warnings);
        expect(mutatePod(out, NS, c.found, { ...opts, ...c.opts }).patch, 'reinvocation').to.deep.equal([]);
      });
    }

    it('leaves pods without Datasets alone', () => {
      const p = pod({ app: 'web' }, { volumes: [{ name: 'cache', persistentVolumeClaim: { claimName: 'not-a-dataset' } }] });
      const m = mutatePod(p, NS, found(), opts);
      expect(m).to.deep.include({ patch: [], warnings: [], datasets: [], changes: [] });
    });

    it('describes per Dataset what it changed, for the audit Events', () => {
      const p = pod({ 'dataset.0.id': 'imagenet', 'dataset.1.id': 'books', 'dataset.1.useas': 'configmap' });
      const m = mutatePod(p, NS, found(dataset('imagenet'), dataset('books')), opts);
      expect(m.changes.map((c) => c.dataset)).to.deep.equal(['books', 'imagenet']);
      expect(m.changes[1].actions).to.deep.equal([
        'added volume "imagenet" from PVC "imagenet"',
        'mounted at /mnt/datasets/imagenet in container main',
        'schedulerName set to locus-scheduler',
      ]);
      expect(m.changes[0].actions[0]).to.equal('env books_* from ConfigMap "books" and Secret "books-credentials"');
    });

    it('patch paths escape "/" in the annotation key (RFC 6901)', () => {
      const p = { ...pod({ 'dataset.0.id': 'imagenet' }), metadata: { name: 'p', labels: { 'dataset.0.id': 'imagenet' }, annotations: {} } };
      const m = mutatePod(p, NS, found(dataset('imagenet')), opts);
      expect(m.patch.map((o) => o.path)).to.include('/metadata/annotations/locus.dev~1datasets');
    });
  });

  describe('denials', () => {
    const cases: Array<{ name: string; labels: Record<string, string>; found: Map<string, FoundDataset>; field: string; text: RegExp }> = [
      {
        name: "a Dataset missing in the pod's namespace",
        labels: { 'dataset.0.id': 'imagenet' },
        found: found(),
        field: 'dataset.0.id',
        text: /Dataset "imagenet", which does not exist in namespace "ml"; create it there .* or correct the label/,
      },
      {
        name: 'a Dataset being deleted',
        labels: { 'dataset.0.id': 'imagenet' },
        found: found(dataset('imagenet', { deleting: true })),
        field: 'dataset.0.id',
        text: /Dataset "imagenet", which is being deleted from namespace "ml"; wait for it to go and create it again, or correct the label/,
      },
      {
        name: 'a misspelt label key',
        labels: { 'dataset.O.id': 'imagenet' },
        found: found(dataset('imagenet')),
        field: 'dataset.O.id',
        text: /not of the form dataset.<index>.id/,
      },
      {
        name: 'an unknown use',
        labels: { 'dataset.0.id': 'imagenet', 'dataset.0.useas': 'mount.fuse' },
        found: found(dataset('imagenet')),
        field: 'dataset.0.useas',
        text: /unknown use "fuse"; use mount, configmap or mount.configmap/,
      },
      {
        name: 'useas without id',
        labels: { 'dataset.3.useas': 'mount' },
        found: found(),
        field: 'dataset.3.useas',
        text: /has no "dataset.3.id"/,
      },
      {
        name: 'an id that cannot be a Dataset name',
        labels: { 'dataset.0.id': 'ImageNet' },
        found: found(),
        field: 'dataset.0.id',
        text: /must name a Dataset/,
      },
      {
        name: 'mount of a Dataset that has no volume (a type Locus does not support, e.g. H3)',
        labels: { 'dataset.0.id': 'weights', 'dataset.0.useas': 'mount.configmap' },
        found: found(dataset('weights', { volume: false })),
        field: 'dataset.0.useas',
        text: /has no volume to mount .*; use "dataset.0.useas: configmap"/,
      },
      {
        name: 'configmap of a Dataset whose name starts with a digit (no valid env name)',
        labels: { 'dataset.0.id': '1k-images', 'dataset.0.useas': 'configmap' },
        found: found(dataset('1k-images')),
        field: 'dataset.0.useas',
        text: /use "dataset.0.useas: mount"/,
      },
    ];
    for (const c of cases) {
      it(`denies ${c.name}, naming the label and the fix`, () => {
        const m = mutatePod(pod(c.labels), NS, c.found, opts);
        expect(m.patch).to.deep.equal([]);
        expect(m.denial).to.be.a('string');
        expect(m.denial!.startsWith(`${c.field}: `)).to.equal(true, m.denial);
        expect(m.denial).to.match(c.text);
      });

      it(`admits ${c.name} with --allow-missing, warning instead`, () => {
        const m = mutatePod(pod(c.labels), NS, c.found, { ...opts, allowMissing: true });
        expect(m.denial).to.equal(undefined);
        expect(m.warnings.some((w) => w.includes(c.field))).to.equal(true, m.warnings.join('\n'));
      });
    }

    it('with --allow-missing still wires in the Datasets that exist', () => {
      const p = pod({ 'dataset.0.id': 'gone', 'dataset.1.id': 'imagenet' });
      const m = mutatePod(p, NS, found(dataset('imagenet')), { ...opts, allowMissing: true });
      const out = applied(p, m.patch);
      expect(out.spec?.volumes!.map((v) => v.name)).to.deep.equal(['default-token-x', 'imagenet']);
      expect(out.metadata?.annotations?.[DATASETS_ANNOTATION]).to.equal('imagenet');
    });

    it('reports every problem at once', () => {
      const m = mutatePod(pod({ 'dataset.0.id': 'gone', 'dataset.1.useas': 'mount' }), NS, found(), opts);
      expect(m.denial).to.contain('dataset.0.id: ').and.to.contain('dataset.1.useas: ');
    });
  });

  it('namesToLookUp: the labelled Datasets, and the other PVC claims, once', () => {
    const p = pod(
      { 'dataset.0.id': 'a', 'dataset.1.id': 'b' },
      {
        volumes: [
          { name: 'x', persistentVolumeClaim: { claimName: 'a' } },
          { name: 'y', persistentVolumeClaim: { claimName: 'c' } },
          { name: 'z', emptyDir: {} },
        ],
      },
    );
    expect(namesToLookUp(p, NS)).to.deep.equal({ labelled: ['a', 'b'], claims: ['c'] });
  });

  describe('reinvocation', () => {
    const name = fc.constantFrom('alpha', 'beta', 'gamma', 'delta', '9lives');
    const useas = fc.option(fc.constantFrom('mount', 'configmap', 'mount.configmap', 'configmap.mount', 'bogus', ''), { nil: undefined });
    const labels = fc.array(fc.record({ index: fc.nat(4), name, useas, idMissing: fc.boolean() }), { maxLength: 5 }).map((ls) => {
      const out: Record<string, string> = {};
      for (const l of ls) {
        if (!l.idMissing) out[`dataset.${l.index}.id`] = l.name;
        if (l.useas !== undefined) out[`dataset.${l.index}.useas`] = l.useas;
      }
      return out;
    });
    const container = (prefix: string) =>
      fc.record(
        {
          name: fc.constant(prefix),
          volumeMounts: fc.option(
            fc.subarray([
              { name: 'alpha', mountPath: '/elsewhere' },
              { name: 'other', mountPath: '/mnt/datasets/beta' },
            ]),
            { nil: undefined },
          ),
          env: fc.option(
            fc.subarray([
              { name: 'gamma_bucket', value: 'x' },
              { name: 'PATH', value: '/bin' },
              { name: 'AWS_ENDPOINT_URL_S3', value: 'http://mine' },
            ]),
            { nil: undefined },
          ),
        },
        { requiredKeys: ['name'] },
      );
    const podArb = fc
      .record({
        labels,
        containers: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }).chain((xs) => fc.tuple(...xs.map((_, i) => container(`c${i}`)))),
        initContainers: fc.option(
          fc.array(fc.nat(), { maxLength: 2 }).chain((xs) => fc.tuple(...xs.map((_, i) => container(`i${i}`)))),
          { nil: undefined },
        ),
        volumes: fc.option(
          fc.subarray([
            { name: 'beta', persistentVolumeClaim: { claimName: 'beta' } },
            { name: 'delta', emptyDir: {} },
            { name: 'data', persistentVolumeClaim: { claimName: 'gamma' } },
          ]),
          { nil: undefined },
        ),
        annotations: fc.option(fc.constantFrom({}, { a: 'b' }, { [DATASETS_ANNOTATION]: 'stale' }, { [AWS_ENV_ANNOTATION]: 'true' }), { nil: undefined }),
        schedulerName: fc.option(fc.constantFrom('default-scheduler', '', 'volcano'), { nil: undefined }),
      })
      .map((r): Pod => ({
        metadata: { name: 'p', labels: r.labels, ...(r.annotations ? { annotations: r.annotations } : {}) },
        spec: {
          containers: r.containers,
          ...(r.initContainers ? { initContainers: r.initContainers } : {}),
          ...(r.volumes ? { volumes: r.volumes } : {}),
          ...(r.schedulerName !== undefined ? { schedulerName: r.schedulerName } : {}),
        },
      }));
    const foundArb = fc.subarray(['alpha', 'beta', 'gamma', 'delta', '9lives']).chain((names) =>
      fc.tuple(
        ...names.map((n) =>
          fc.record({
            name: fc.constant(n),
            credentials: fc.boolean(),
            readOnly: fc.boolean(),
            volume: fc.boolean(),
            deleting: fc.boolean(),
            configKeys: fc.constantFrom(['endpoint', 'bucket', 'region', 'prefix'], ['server', 'share'], ['url', 'format', 'extract']),
            endpoint: fc.constantFrom(undefined, '', 'http://locus-agent.locus-system.svc:9300', 'http://minio:9000'),
          }),
        ),
      ),
    );

    it('applying the webhook to its own output yields an empty patch (property)', () => {
      fc.assert(
        fc.property(podArb, foundArb, fc.boolean(), fc.boolean(), (p, ds, allowMissing, routes) => {
          const o: MutateOptions = {
            allowMissing,
            schedulerName: routes ? 'locus-scheduler' : undefined,
            agentUrl: 'http://locus-agent.locus-system.svc:9300',
          };
          const byName = found(...ds);
          const first = mutatePod(p, NS, byName, o);
          if (first.denial) return first.patch.length === 0;
          const out = applied(p, first.patch);
          const second = mutatePod(out, NS, byName, o);
          expect(second.patch).to.deep.equal([]);
          expect(second.denial).to.equal(undefined);
          expect(second.datasets).to.deep.equal(first.datasets);
          return true;
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('AWS_* variables for the one Dataset a pod reads through the agents (annotation locus.dev/aws-env)', () => {
    const AGENT = 'http://locus-agent.locus-system.svc:9300';
    const agentOpts: MutateOptions = { ...opts, agentUrl: AGENT };
    const atAgent = (name: string) => dataset(name, { endpoint: AGENT });
    const atStore = (name: string) => dataset(name, { endpoint: 'http://minio.storage:9000' });
    const annotated = (labels: Record<string, string>, spec: Record<string, unknown> = {}): Pod => {
      const p = pod(labels, spec);
      return { ...p, metadata: { ...p.metadata, annotations: { [AWS_ENV_ANNOTATION]: 'true' } } };
    };
    const asConfigmap = (...names: string[]) =>
      Object.fromEntries(
        names.flatMap((n, i) => [
          [`dataset.${i}.id`, n],
          [`dataset.${i}.useas`, 'configmap'],
        ]),
      );
    const sdkEnv = (ds: string) => [
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: `${ds}-credentials`, key: 'accessKeyID' } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: `${ds}-credentials`, key: 'secretAccessKey' } } },
      { name: 'AWS_ENDPOINT_URL_S3', value: AGENT },
    ];
    const awsEnv = (c: Container) => (c.env ?? []).filter((e) => e.name.startsWith('AWS_'));

    const cases: Array<{ name: string; pod: Pod; found: Map<string, FoundDataset>; aws: string | null; warning?: RegExp }> = [
      {
        name: 'one Dataset at the agents, as configmap: its agent credentials and the agents',
        pod: annotated(asConfigmap('books')),
        found: found(atAgent('books')),
        aws: 'books',
      },
      {
        name: 'one at the agents beside one at a store: the one at the agents',
        pod: annotated(asConfigmap('direct', 'books')),
        found: found(atStore('direct'), atAgent('books')),
        aws: 'books',
      },
      {
        name: "no endpoint: the agents' default upstream, read through them",
        pod: annotated(asConfigmap('books')),
        found: found(dataset('books', { endpoint: '' })),
        aws: 'books',
      },
      { name: 'without the annotation: none', pod: pod(asConfigmap('books')), found: found(atAgent('books')), aws: null },
      {
        name: 'a Dataset at a store: none, and says why',
        pod: annotated(asConfigmap('books')),
        found: found(atStore('books')),
        aws: null,
        warning: /locus\.dev\/aws-env: no AWS_\* variables added: it reads no Dataset through the agents/,
      },
      {
        name: 'not resolved yet (a catalog entry): none',
        pod: annotated(asConfigmap('books')),
        found: found(dataset('books')),
        aws: null,
        warning: /has not resolved yet/,
      },
      {
        name: 'two Datasets at the agents: none, naming both',
        pod: annotated(asConfigmap('books', 'papers')),
        found: found(atAgent('books'), atAgent('papers')),
        aws: null,
        warning: /reads 2 Datasets through the agents \(books, papers\); use <name>_accessKeyID/,
      },
      {
        name: 'mounted only: none (the volume signs for itself)',
        pod: annotated({ 'dataset.0.id': 'books', 'dataset.0.useas': 'mount' }),
        found: found(atAgent('books')),
        aws: null,
        warning: /does not use Dataset "books" as configmap/,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const m = mutatePod(c.pod, NS, c.found, agentOpts);
        expect(m.denial).to.equal(undefined);
        const out = applied(c.pod, m.patch);
        expect(awsEnv(containers(out)[0])).to.deep.equal(c.aws ? sdkEnv(c.aws) : []);
        if (c.warning) expect(m.warnings.join('\n')).to.match(c.warning);
        else expect(m.warnings).to.deep.equal([]);
        expect(mutatePod(out, NS, c.found, agentOpts).patch, 'reinvocation').to.deep.equal([]);
      });
    }

    it('a container with any AWS_* variable of its own gets none of them (a mixed pair would not sign); the others get all', () => {
      const p = annotated(asConfigmap('books'), {
        containers: [{ name: 'own', env: [{ name: 'AWS_ACCESS_KEY_ID', value: 'MINE' }] }, { name: 'plain' }],
      });
      const out = applied(p, mutatePod(p, NS, found(atAgent('books')), agentOpts).patch);
      const [own, plain] = containers(out);
      expect(awsEnv(own)).to.deep.equal([{ name: 'AWS_ACCESS_KEY_ID', value: 'MINE' }]);
      expect(awsEnv(plain)).to.deep.equal(sdkEnv('books'));
      expect(own.env!.map((e) => e.name)).to.include('books_accessKeyID');
    });

    it('records them in the audit change', () => {
      const m = mutatePod(annotated(asConfigmap('books')), NS, found(atAgent('books')), agentOpts);
      expect(m.changes[0].actions.join('; ')).to.include('AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_ENDPOINT_URL_S3 for the agents');
    });
  });
});
