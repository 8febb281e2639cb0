// Probe 4 (issue 14): the extender kept 10,000 whole pods (nine 50 MB bodies added ~51 MB each),
// served `GET /v1/explain?pod=ns/name` to anyone, reading any pod with its cluster-wide `get pods`,
// and a pod forged through /scheduler/filter changed what explain showed for the real one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { PodLike } from '../../src/core/index.js';
import { recentPods, RECENT_PODS, type RunningExtender } from '../../src/extender/server.js';
import { handler } from '../../src/runtime/serve.js';
import { capture, fixtureExtender, post } from '../extender/harness.js';

const REQUEST = capture('filter-nodecachecapable-true.json');
const REAL: PodLike = REQUEST.Pod;
const withAnnotation = (pod: PodLike, name: string, bytes: number): PodLike => ({
  ...pod,
  metadata: { ...pod.metadata, name, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(bytes) } },
});

describe('security probe 4: the extender remembers little, and explain by name is not for anyone', () => {
  it('keeps only what scoring reads of recent pods, bounded in bytes', () => {
    const recent = recentPods();
    // The probe's pods: 50 MB each. None is remembered; nothing else is evicted for them.
    recent.remember(REAL);
    for (let i = 0; i < 15; i++) recent.remember(withAnnotation(REAL, `big-${i}`, 50 * 1024 * 1024));
    expect(recent.get('default/big-0')).to.equal(undefined);
    const kept = recent.get('default/capture-basic')!;
    expect(Object.keys(kept.metadata!).sort()).to.deep.equal(['annotations', 'labels', 'name', 'namespace', 'ownerReferences']);
    expect(JSON.stringify(kept)).to.not.match(/managedFields|containers|resourceVersion/);
    // Many ordinary pods: the total stays within the byte bound.
    for (let i = 0; i < 5_000; i++) recent.remember(withAnnotation(REAL, `pod-${i}`, 8 * 1024));
    expect(recent.bytes).to.be.at.most(RECENT_PODS.maxBytes);
    expect(recent.get('default/pod-4999')).to.not.equal(undefined);
  });

  describe('over HTTP', () => {
    let ext: RunningExtender;
    let remote: Server;
    let remoteUrl: string;
    const apiPods = new Map<string, PodLike>();
    before(async () => {
      ext = await fixtureExtender({ readPod: async (ns, name) => apiPods.get(`${ns}/${name}`) });
      // The same app, seen from another address of the pod network (as a tenant's pod would reach it).
      const app = handler(ext.app);
      remote = createServer((req, res) => {
        Object.defineProperty(req.socket, 'remoteAddress', { value: '10.244.1.7' });
        return app(req, res);
      });
      await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
      remoteUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise((r) => remote.close(r));
      await ext.close();
    });

    it('refuses explain by name to callers not on the loopback, and still answers the scheduler', async () => {
      apiPods.set('default/capture-basic', REAL);
      const res = await fetch(`${remoteUrl}/v1/explain?pod=default/capture-basic`);
      expect(res.status).to.equal(403);
      expect(((await res.json()) as { Error: string }).Error).to.match(/answers only on loopback .*kubectl locus explain/);
      expect((await post(`${remoteUrl}/scheduler/filter`, REQUEST)).status).to.equal(200);
      expect((await fetch(`${ext.url}/v1/explain?pod=default/capture-basic`)).status).to.equal(200);
    });

    it("explains the API's pod, not one forged through /scheduler/filter under its name", async () => {
      apiPods.set('default/capture-basic', REAL);
      const forged = { ...REQUEST, Pod: { ...REAL, metadata: { ...REAL.metadata, labels: { 'dataset.0.id': 'forged', 'dataset.0.useas': 'mount' } } } };
      expect((await post(`${remoteUrl}/scheduler/filter`, forged)).status).to.equal(200);
      const body = (await (await fetch(`${ext.url}/v1/explain?pod=default/capture-basic`)).json()) as { datasets: string[] };
      expect(body.datasets).to.deep.equal(['default/my-dataset']);
    });
  });
});
