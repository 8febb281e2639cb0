import { expect } from 'chai';
import { createKubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { webhookMetrics } from '../../src/metrics/webhook.js';
import { kubeAuditRecorder } from '../../src/webhook/audit.js';
import { kubeDatasetLookup } from '../../src/webhook/kube-lookup.js';
import { review } from '../../src/webhook/review.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { captureLog } from './logs.js';
import { NS, pod } from './pods.js';

interface Event extends KubeObject {
  involvedObject: { kind: string; name: string };
  reason: string;
  message: string;
  type: string;
}

describe('webhook: slice annotations at admission', () => {
  let api: FakeApiServer;
  beforeEach(async () => {
    api = await FakeApiServer.start();
    api.put({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { namespace: NS, name: 'imagenet' },
      spec: { local: { type: 'S3', bucket: 'imagenet', endpoint: 'http://minio:9000' } },
    });
  });
  afterEach(() => api.close());

  const deps = () => {
    const kube = createKubeClient(api.kubeconfig());
    return {
      lookup: kubeDatasetLookup(kube),
      audit: kubeAuditRecorder(kube),
      options: { schedulerName: 'locus-scheduler', allowMissing: false },
      log: captureLog().log,
      metrics: webhookMetrics(() => undefined),
    };
  };
  const admit = (annotations: Record<string, string>) => {
    const p = pod({ 'dataset.0.id': 'imagenet' });
    p.metadata!.annotations = annotations;
    return review({ uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: NS, operation: 'CREATE', object: p }, deps(), 5000);
  };
  const warnings = () => api.objects<Event>('events', NS).filter((e) => e.type === 'Warning');

  it('admits a pod with a malformed slice, warning in the answer and in a Warning Event on the pod', async () => {
    const v = await admit({ 'locus.dev/slice': 'shard 3 of 4' });
    expect(v.denial).to.equal(undefined);
    expect(v.patch!.length).to.be.greaterThan(0);
    expect(v.warnings!.some((w) => w.startsWith('locus.dev/slice: annotation "locus.dev/slice": "shard 3 of 4" is no shard'))).to.equal(true);
    const [event] = await eventually(() => {
      const evs = warnings();
      expect(evs).to.have.length(1);
      return evs;
    });
    expect(event).to.deep.include({ reason: 'InvalidSlice' });
    expect(event.involvedObject).to.deep.include({ kind: 'Pod', name: 'trainer' });
    expect(event.message).to.match(/shard <i>\/<n>.*the pod is scored on the whole Dataset/);
  });

  it('says nothing of a well-formed slice', async () => {
    const v = await admit({ 'locus.dev/slice.0': 'blocks 0-127,512-639' });
    expect(v.warnings!.filter((w) => w.includes('slice'))).to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(warnings()).to.deep.equal([]);
  });
});
