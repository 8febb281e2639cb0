// The extender fed by informers from the in-memory API server over loopback, as on a cluster.
import { expect } from 'chai';
import { encodeBlockSet } from '../../src/core/blockset.js';
import { startExtender, type RunningExtender } from '../../src/extender/server.js';
import { KubeSource } from '../../src/inventory/kube-source.js';
import { createKubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { capture, post, type Wire } from '../extender/harness.js';

const MiB = 1 << 20;
const T0 = Date.parse('2026-11-26T05:00:00Z');

/** Each node in a zone and region of its own, so scores count its own bytes only. */
const node = (name: string, zone: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': `r-${zone}` } },
});
const dataset: KubeObject = {
  apiVersion: 'locus.dev/v1alpha1',
  kind: 'Dataset',
  metadata: { name: 'my-dataset', namespace: 'default' },
  spec: { local: { type: 'S3', bucket: 'b' } },
  status: { catalog: { objectCount: 1, totalBytes: 100 * MiB, blockSize: MiB, blockCount: 100, version: 'v1', refreshedAt: '2026-11-26T04:00:00Z' } },
};
/** A NodeCache holding blocks [0, count) of my-dataset, owned by its Node (by uid) when given. */
function nodeCache(name: string, epoch: string, seq: number, count: number, opts: { uid?: string; at?: number } = {}): KubeObject {
  const blocks = Array.from({ length: count }, (_, i) => i);
  return {
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'NodeCache',
    metadata: { name, ...(opts.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: opts.uid }] } : {}) },
    spec: { nodeName: name },
    status: {
      epoch,
      seq,
      updatedAt: new Date(opts.at ?? T0).toISOString(),
      datasets: [
        {
          namespace: 'default',
          name: 'my-dataset',
          blockSize: MiB,
          catalogVersion: 'v1',
          bytes: count * MiB,
          blockCount: 100,
          blocks: encodeBlockSet(blocks, 100),
        },
      ],
    },
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('extender inventory from the API server (informers)', () => {
  let api: FakeApiServer;
  let ext: RunningExtender;
  let clock: number;
  const pod = capture('prioritize-nodecachecapable-true.json').Pod;
  const scores = async (): Promise<Record<string, number>> => {
    const res = await post(`${ext.url}/scheduler/prioritize`, { Pod: pod, NodeNames: ['node-a', 'node-b'] });
    return Object.fromEntries(res.json.map((h: Wire) => [h.Host, h.Score]));
  };
  const metric = async (line: RegExp): Promise<number> => {
    const m = line.exec(await (await fetch(`${ext.url}/metrics`)).text());
    return m ? Number(m[1]) : 0;
  };

  beforeEach(async () => {
    clock = T0;
    api = await FakeApiServer.start();
    const a = api.put(node('node-a', 'z1'));
    const b = api.put(node('node-b', 'z2'));
    api.put(dataset);
    api.put(nodeCache('node-a', 'a1', 5, 30, { uid: a.metadata.uid }));
    api.put(nodeCache('node-b', 'b1', 5, 80, { uid: b.metadata.uid }));
    const kc = api.kubeconfig();
    ext = await startExtender({
      port: 0,
      source: new KubeSource(kc, createKubeClient(kc), { backoff: { initialMs: 20, maxMs: 50 } }),
      ttlMs: 60_000,
      now: () => clock,
      expireEveryMs: 20,
    });
  });
  afterEach(async () => {
    await ext.close();
    await api.close();
  });

  it('is not ready until all three informers have synced, then scores from the objects', async () => {
    await ext.close();
    // The NodeCache list fails ten times (~0.4 s of backoff): the other two informers sync alone.
    api.failNext(10, { code: 503, verb: 'list', resource: 'nodecaches' });
    const kc = api.kubeconfig();
    ext = await startExtender({ port: 0, source: new KubeSource(kc, createKubeClient(kc), { backoff: { initialMs: 20, maxMs: 50 } }), now: () => clock });
    await until('a failed NodeCache list', () => api.requests.some((r) => r.code === 503));
    expect((await fetch(`${ext.url}/readyz`)).status).to.equal(503);
    await ext.synced;
    expect((await fetch(`${ext.url}/readyz`)).status).to.equal(200);
    expect(await scores()).to.deep.equal({ 'node-a': 3, 'node-b': 8 });
    expect(await metric(/locus_extender_inventories_total\{outcome="applied"\} (\d+)/)).to.equal(2);
  });

  it('applies a new epoch even with a lower seq, and ignores a stale seq within an epoch', async () => {
    await ext.synced;
    // A change to the spec only (warm-ahead items) brings the applied seq again: seen, not stale.
    const warmed = nodeCache('node-b', 'b1', 5, 80);
    api.put({ ...warmed, spec: { nodeName: 'node-b', warm: [] } });
    await until('the same seq to be seen', async () => (await metric(/locus_extender_inventories_total\{outcome="seen"\} (\d+)/)) === 1);
    api.put(nodeCache('node-b', 'b1', 4, 10));
    await until('the stale write to be seen', async () => (await metric(/locus_extender_inventories_total\{outcome="stale"\} (\d+)/)) === 1);
    expect((await scores())['node-b']).to.equal(8);
    api.put(nodeCache('node-b', 'b2', 1, 10));
    await until('the new epoch to apply', async () => (await scores())['node-b'] === 1);
    expect(ext.index.position('node-b')).to.include({ epoch: 'b2', seq: 1 });
  });

  it('scores a node 0 once its inventory is older than the TTL, and counts the expiry', async () => {
    await ext.synced;
    clock = T0 + 59_000;
    expect(await scores()).to.deep.equal({ 'node-a': 3, 'node-b': 8 });
    clock = T0 + 61_000;
    expect(await scores()).to.deep.equal({ 'node-a': 0, 'node-b': 0 });
    await until('the expiry metric', async () => (await metric(/locus_extender_node_ttl_expiries_total (\d+)/)) === 2);
    api.put(nodeCache('node-a', 'a1', 6, 30, { at: clock }));
    await until('a fresh write to count again', async () => (await scores())['node-a'] === 3);
  });

  it('forgets a node and its NodeCache when the node is deleted (the NodeCache goes with its owner)', async () => {
    await ext.synced;
    api.delete('nodes', 'node-b');
    expect(api.object('nodecaches', 'node-b')).to.equal(undefined);
    await until('node-b to leave the index', () => ext.index.topology('node-b') === undefined && ext.index.stats(clock).inventories === 1);
    expect(await scores()).to.deep.equal({ 'node-a': 3, 'node-b': 0 });
  });

  it('drops a NodeCache deleted on its own, keeping the node', async () => {
    await ext.synced;
    api.delete('nodecaches', 'node-a');
    await until("node-a's inventory to go", async () => (await scores())['node-a'] === 0);
    expect(ext.index.topology('node-a')).to.deep.equal({ name: 'node-a', zone: 'z1', region: 'r-z1' });
  });

  it('restarts the informers after their watches fail, and catches up with what changed meanwhile', async () => {
    await ext.synced;
    await api.goOffline();
    await until('a restart to be counted', async () => ext.metrics.informerRestarts.get().then((m) => m.values.reduce((s, v) => s + v.value, 0) >= 3));
    api.put(nodeCache('node-a', 'a1', 9, 100));
    await api.goOnline();
    await until('the write made while offline to apply', async () => (await scores())['node-a'] === 10);
    expect((await fetch(`${ext.url}/readyz`)).status).to.equal(200);
    const text = await (await fetch(`${ext.url}/metrics`)).text();
    for (const resource of ['nodes', 'datasets', 'nodecaches'])
      expect(text).to.match(new RegExp(`locus_extender_informer_restarts_total\\{resource="${resource}"\\} [1-9]`));
  });

  it('counts a malformed NodeCache as rejected and keeps the last good one', async () => {
    await ext.synced;
    const bad = nodeCache('node-b', 'b1', 9, 10);
    (bad.status as Wire).datasets[0].blocks = 'not-base64!';
    api.put(bad);
    await until('the rejection', async () => (await metric(/locus_extender_inventories_total\{outcome="rejected"\} (\d+)/)) === 1);
    expect((await scores())['node-b']).to.equal(8);
  });
});
