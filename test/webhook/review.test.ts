import { expect } from 'chai';
import { webhookMetrics } from '../../src/metrics/webhook.js';
import type { AdmissionRequest } from '../../src/webhook/admission.js';
import type { AuditRecorder } from '../../src/webhook/audit.js';
import { review, type DatasetLookup } from '../../src/webhook/review.js';
import { captureLog } from './logs.js';
import { dataset, mapLookup, NS, pod } from './pods.js';

function request(object: unknown, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: NS, operation: 'CREATE', object, dryRun: false, ...extra };
}

describe('webhook review', () => {
  const deps = (lookup: DatasetLookup, audit?: AuditRecorder) => ({
    lookup,
    audit,
    options: { schedulerName: 'locus-scheduler', allowMissing: false },
    log: captureLog().log,
    metrics: webhookMetrics(() => undefined),
  });

  it("looks Datasets up only in the pod's namespace, never using another namespace's", async () => {
    const lookup = mapLookup({ 'other/imagenet': dataset('imagenet'), 'ml/books': dataset('books') });
    const v = await review(request(pod({ 'dataset.0.id': 'imagenet', 'dataset.1.id': 'books' })), deps(lookup), 1000);
    expect(lookup.asked.sort()).to.deep.equal(['ml/books', 'ml/imagenet']);
    expect(v.denial?.message).to.match(/Dataset "imagenet", which does not exist in namespace "ml"/);
  });

  it("uses the request's namespace when the pod object has none (as on CREATE)", async () => {
    const lookup = mapLookup({ 'ml/imagenet': dataset('imagenet') });
    const p = pod({ 'dataset.0.id': 'imagenet' });
    delete p.metadata!.namespace;
    const v = await review(request(p), deps(lookup), 1000);
    expect(v.denial).to.equal(undefined);
    expect(v.patch?.length).to.be.greaterThan(0);
  });

  it('denies with 503 when a labelled Dataset cannot be read, and only warns for a PVC that might be one', async () => {
    const failing: DatasetLookup = {
      find: async (_ns, name) => {
        if (name !== 'ok') throw new Error('connection refused');
        return dataset('ok');
      },
    };
    const labelled = await review(request(pod({ 'dataset.0.id': 'imagenet' })), deps(failing), 1000);
    expect(labelled.denial).to.deep.include({ code: 503, reason: 'ServiceUnavailable' });
    expect(labelled.denial?.message).to.equal('could not read Dataset "imagenet" in namespace "ml": connection refused; the pod was not admitted, try again');

    const pvc = await review(
      request(pod({ 'dataset.0.id': 'ok' }, { volumes: [{ name: 'x', persistentVolumeClaim: { claimName: 'scratch' } }] })),
      deps(failing),
      1000,
    );
    expect(pvc.denial).to.equal(undefined);
    expect(pvc.warnings).to.deep.equal(['could not check whether PVC "scratch" belongs to a Dataset; scheduler left unchanged for it']);
  });

  it('names the field of a pod object it cannot read', async () => {
    const v = await review(request({ metadata: { labels: { 'dataset.0.id': 7 } } }), deps(mapLookup({})), 1000);
    expect(v.denial).to.deep.include({ code: 400 });
    expect(v.denial?.message).to.match(/^pod field object.metadata.labels.dataset.0.id: /);
  });

  it('lets anything but a pod CREATE through untouched', async () => {
    const d = deps(mapLookup({}));
    expect(await review(request(pod({ 'dataset.0.id': 'gone' }), { operation: 'UPDATE' }), d, 1000)).to.deep.equal({});
    expect(await review(request({}, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }), d, 1000)).to.deep.equal({});
  });

  it('records what it changed, except on dry runs and when nothing changed', async () => {
    const recorded: string[][] = [];
    const audit: AuditRecorder = {
      record: async (_p, _ns, changes) => {
        recorded.push(changes.map((c) => c.dataset));
      },
    };
    const d = deps(mapLookup({ 'ml/imagenet': dataset('imagenet') }), audit);
    await review(request(pod({ 'dataset.0.id': 'imagenet' }), { dryRun: true }), d, 1000);
    expect(recorded).to.deep.equal([]);
    await review(request(pod({ 'dataset.0.id': 'imagenet' })), d, 1000);
    expect(recorded).to.deep.equal([['imagenet']]);
    await review(request(pod({ app: 'web' })), d, 1000);
    expect(recorded).to.have.length(1);
  });

  it('admits even when recording the Event fails, counting the failure', async () => {
    const d = deps(mapLookup({ 'ml/imagenet': dataset('imagenet') }), { record: () => Promise.reject(new Error('forbidden')) });
    const v = await review(request(pod({ 'dataset.0.id': 'imagenet' })), d, 1000);
    expect(v.denial).to.equal(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await d.metrics.eventErrors.get()).values[0].value).to.equal(1);
  });
});
