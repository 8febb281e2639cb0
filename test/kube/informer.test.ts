import { expect } from 'chai';
import fc from 'fast-check';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { Informer, type InformerOptions } from '../../src/kube/informer.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DATASETS, NODE_CACHES } from '../../src/kube/resources.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const nodeCache = (name: string, seq = 1): KubeObject => ({
  apiVersion: 'locus.dev/v1alpha1',
  kind: 'NodeCache',
  metadata: { name },
  spec: { nodeName: name },
  status: { epoch: 'e', seq },
});

/** What the handlers saw, as `event name old-seq→new-seq`. */
function recorder(informer: Informer) {
  const seen: string[] = [];
  const seq = (o?: KubeObject) => (o ? String((o.status as { seq?: number } | undefined)?.seq) : '-');
  informer
    .on('add', (o) => seen.push(`add ${o.metadata.name} ${seq(o)}`))
    .on('update', (o, old) => seen.push(`update ${o.metadata.name} ${seq(old)}→${seq(o)}`))
    .on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
  return seen;
}

const names = (informer: Informer) =>
  informer
    .list()
    .map((o) => o.metadata.name)
    .sort();

describe('kube/informer against the fake API server', () => {
  let api: FakeApiServer;
  let client: KubeClient;
  let informer: Informer | undefined;
  const restarts: { attempt: number; delayMs: number; err: unknown }[] = [];

  const start = (opts: Partial<InformerOptions> = {}) => {
    informer = new Informer(api.kubeconfig(), client, {
      resource: NODE_CACHES,
      backoff: { initialMs: 20, maxMs: 200 },
      onRestart: (err, attempt, delayMs) => restarts.push({ err, attempt, delayMs }),
      ...opts,
    });
    return informer;
  };

  beforeEach(async () => {
    restarts.length = 0;
    api = await FakeApiServer.start();
    client = createKubeClient(api.kubeconfig(), { timeoutMs: 2000 });
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await api.close();
  });

  it('lists, reports synced, then delivers additions, updates (with the old version) and deletions', async () => {
    api.put(nodeCache('node-a'));
    const inf = start();
    const seen = recorder(inf);
    expect(inf.hasSynced()).to.equal(false);
    inf.start();
    await inf.waitForSync();
    expect(inf.hasSynced()).to.equal(true);
    expect(seen).to.deep.equal(['add node-a 1']);

    api.put(nodeCache('node-b'));
    await client.mergePatchStatus(NODE_CACHES, { name: 'node-a' }, { status: { seq: 2 } });
    await client.delete(NODE_CACHES, { name: 'node-b' });
    await eventually(() => expect(seen).to.deep.equal(['add node-a 1', 'add node-b 1', 'update node-a 1→2', 'delete node-b']));
    expect(inf.get({ name: 'node-a' })?.status).to.deep.equal({ epoch: 'e', seq: 2 });
    expect(restarts).to.deep.equal([]);
  });

  it('resumes from its resourceVersion after the server ends the watch, without relisting', async () => {
    api.put(nodeCache('node-a'));
    const inf = start();
    const seen = recorder(inf);
    inf.start();
    await inf.waitForSync();
    const listedAt = api.resourceVersion();
    await eventually(() => expect(api.openWatchCount()).to.equal(1));
    expect(api.closeWatches()).to.equal(1);
    api.put(nodeCache('node-b'));
    await eventually(() => expect(seen).to.deep.equal(['add node-a 1', 'add node-b 1']));
    const watches = api.requests.filter((r) => r.verb === 'watch');
    expect(api.requests.filter((r) => r.verb === 'list')).to.have.length(1);
    expect(watches.map((w) => w.query.resourceVersion)).to.deep.equal([listedAt, listedAt]);
  });

  it('restarts with growing backoff while watches fail, then converges', async () => {
    const inf = start();
    const seen = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await eventually(() => expect(api.openWatchCount()).to.equal(1));
    api.failNext(3, { code: 500, verb: 'watch' });
    api.closeWatches();
    api.put(nodeCache('node-a'));
    await eventually(() => expect(seen).to.deep.equal(['add node-a 1']), { timeoutMs: 8000 });
    // The first failure is ListWatch's own reconnect; then two of ours fail before the third lands.
    expect(restarts.map((r) => r.attempt)).to.deep.equal([0, 1, 2]);
    expect(restarts.every((r, i) => r.delayMs >= 10 * 2 ** i && r.delayMs <= 20 * 2 ** i)).to.equal(true);
  });

  it('keeps retrying a failing initial list and syncs once the list succeeds', async () => {
    api.put(nodeCache('node-a'));
    api.failNext(3, { code: 503, verb: 'list', resource: 'nodecaches' });
    const inf = start();
    inf.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(inf.hasSynced()).to.equal(false);
    await inf.waitForSync();
    expect(names(inf)).to.deep.equal(['node-a']);
    expect(restarts.map((r) => r.attempt)).to.deep.equal([0, 1, 2]);
    expect(restarts.map((r) => (r.err as { code?: number }).code)).to.deep.equal([503, 503, 503]);
  });

  it('survives the API server going away and coming back, catching up on what changed meanwhile', async () => {
    api.put(nodeCache('node-a'));
    api.put(nodeCache('node-b'));
    const inf = start();
    const seen = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await eventually(() => expect(api.openWatchCount()).to.equal(1));
    await api.goOffline();
    api.delete('nodecaches', 'node-a');
    api.put(nodeCache('node-b', 5));
    api.put(nodeCache('node-c'));
    await eventually(() => expect(restarts.length).to.be.at.least(2));
    await api.goOnline();
    await eventually(() => expect(names(inf)).to.deep.equal(['node-b', 'node-c']), { timeoutMs: 8000 });
    expect(seen.slice(2)).to.deep.equal(['delete node-a', 'update node-b 1→5', 'add node-c 1']);
  });

  it('relists when its resourceVersion has been compacted away (410) and reports what vanished', async () => {
    api.put(nodeCache('node-a'));
    api.put(nodeCache('node-b'));
    const inf = start();
    const seen = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await eventually(() => expect(api.openWatchCount()).to.equal(1));
    await api.goOffline();
    api.delete('nodecaches', 'node-a');
    api.put(nodeCache('node-c'));
    api.compact();
    await api.goOnline();
    await eventually(() => expect(names(inf)).to.deep.equal(['node-b', 'node-c']), { timeoutMs: 8000 });
    expect(seen.slice(2).sort()).to.deep.equal(['add node-c 1', 'delete node-a']);
    expect(api.requests.filter((r) => r.verb === 'list')).to.have.length(2);
  });

  it('whatever happens to the server, what the handlers saw converges to its state (property)', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), name: fc.constantFrom('n1', 'n2', 'n3'), seq: fc.nat(50) }),
      fc.record({ kind: fc.constant('delete' as const), name: fc.constantFrom('n1', 'n2', 'n3') }),
      fc.record({ kind: fc.constantFrom('closeWatches' as const, 'compact' as const, 'failWatches' as const, 'failLists' as const, 'bounce' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        await informer?.stop();
        const inf = start();
        const view = new Map<string, string | undefined>();
        inf
          .on('add', (o) => view.set(o.metadata.name!, o.metadata.resourceVersion))
          .on('update', (o) => view.set(o.metadata.name!, o.metadata.resourceVersion))
          .on('delete', (o) => view.delete(o.metadata.name!));
        inf.start();
        await inf.waitForSync();
        for (const s of steps) {
          if (s.kind === 'put') api.put(nodeCache(s.name, s.seq));
          else if (s.kind === 'delete') api.delete('nodecaches', s.name);
          else if (s.kind === 'closeWatches') api.closeWatches();
          else if (s.kind === 'compact') api.compact();
          else if (s.kind === 'failWatches') api.failNext(2, { code: 500, verb: 'watch' });
          else if (s.kind === 'failLists') api.failNext(2, { code: 500, verb: 'list' });
          else {
            await api.goOffline();
            await api.goOnline();
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        // A last write proves the watch is live again, whatever state the steps left it in.
        api.put(nodeCache('last'));
        const truth = () => new Map(api.objects('nodecaches').map((o) => [o.metadata.name!, o.metadata.resourceVersion]));
        await eventually(() => expect(view).to.deep.equal(truth()), { timeoutMs: 15_000 });
        expect(new Map(inf.list().map((o) => [o.metadata.name!, o.metadata.resourceVersion]))).to.deep.equal(truth());
        for (const n of ['n1', 'n2', 'n3', 'last']) api.delete('nodecaches', n);
      }),
      { numRuns: 6 },
    );
  });

  it('watches one namespace with a label selector', async () => {
    const ds = (name: string, namespace: string, team: string): KubeObject => ({
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name, namespace, labels: { team } },
    });
    api.put(ds('a', 'ns1', 'x'));
    api.put(ds('b', 'ns1', 'y'));
    api.put(ds('c', 'ns2', 'x'));
    const inf = start({ resource: DATASETS, namespace: 'ns1', labelSelector: 'team in (x)' });
    const seen: string[] = [];
    inf.on('add', (o) => seen.push(`add ${o.metadata.name}`)).on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
    inf.start();
    await inf.waitForSync();
    api.put(ds('d', 'ns1', 'x'));
    api.put(ds('e', 'ns2', 'x'));
    // Leaving the selector looks like a deletion to the watcher.
    api.put(ds('a', 'ns1', 'z'));
    await eventually(() => expect(seen).to.deep.equal(['add a', 'add d', 'delete a']));
    expect(inf.get({ name: 'd', namespace: 'ns1' })?.metadata.name).to.equal('d');
  });

  it('keeps delivering after a handler throws, reporting the error', async () => {
    const errors: string[] = [];
    const inf = start({ onHandlerError: (err, event, obj) => errors.push(`${event} ${obj.metadata.name}: ${(err as Error).message}`) });
    const seen = recorder(inf);
    inf.on('add', (o) => {
      if (o.metadata.name === 'bad') throw new Error('boom');
    });
    inf.start();
    await inf.waitForSync();
    api.put(nodeCache('bad'));
    api.put(nodeCache('good'));
    await eventually(() => expect(seen).to.deep.equal(['add bad 1', 'add good 1']));
    expect(errors).to.deep.equal(['add bad: boom']);
  });

  it('stopped in the middle of its list, opens no watch and delivers nothing', async () => {
    api.put(nodeCache('node-a'));
    api.failNext(1, { delayMs: 150, verb: 'list' });
    const inf = start();
    const seen = recorder(inf);
    inf.start();
    await eventually(() => expect(api.requests.filter((r) => r.verb === 'list')).to.have.length(1));
    await inf.stop();
    // Longer than the list takes, so a watch opened after it would show.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(api.openWatchCount()).to.equal(0);
    expect(seen).to.deep.equal([]);
    expect(inf.hasSynced()).to.equal(false);
  });

  it('stops: no events, no restarts, no open watch', async () => {
    const inf = start();
    const seen = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await inf.stop();
    api.put(nodeCache('node-a'));
    await eventually(() => expect(api.openWatchCount()).to.equal(0));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).to.deep.equal([]);
    expect(restarts).to.deep.equal([]);
  });
});
