import { KubeConfig, KubernetesObjectApi, makeInformer, type KubernetesObject, PatchStrategy, Watch } from '@kubernetes/client-node';
import { expect } from 'chai';
import fc from 'fast-check';
import { createKubeClient } from '../../src/kube/client.js';
import { loadKubeConfig } from '../../src/kube/config.js';
import { Informer } from '../../src/kube/informer.js';
import type { KubeObject } from '../../src/kube/object.js';
import { NODES } from '../../src/kube/resources.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

interface Answer {
  code: number;
  body: Record<string, unknown> & { metadata?: KubeObject['metadata'] };
}

const DS = '/apis/locus.dev/v1alpha1/namespaces/ns/datasets';
const CM = '/api/v1/namespaces/ns/configmaps';

describe('test support: the fake API server', () => {
  let api: FakeApiServer;

  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> => {
    const res = await fetch(api.url + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { code: res.status, body: (res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : { text }) as Answer['body'] };
  };

  /** The first `n` lines of a watch stream (or fewer if it ends first). */
  const watchLines = async (path: string, n: number, timeoutMs = 5000): Promise<{ type: string; object: KubeObject }[]> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const res = await fetch(api.url + path, { signal: controller.signal });
    const lines: { type: string; object: KubeObject }[] = [];
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += Buffer.from(chunk).toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
          if (lines.length === n) {
            controller.abort();
            return lines;
          }
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    } finally {
      clearTimeout(timer);
    }
    return lines;
  };

  const dataset = (name: string, labels?: Record<string, string>) => ({
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name, labels },
    spec: { size: 1 },
  });

  beforeEach(async () => {
    api = await FakeApiServer.start();
  });
  afterEach(() => api.close());

  describe('resourceVersion and optimistic concurrency', () => {
    it('resourceVersion strictly increases over any sequence of writes, and lists carry the latest', async () => {
      const op = fc.record({ verb: fc.constantFrom('create', 'put', 'patch', 'delete'), name: fc.constantFrom('a', 'b', 'c') });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
          let last = Number(api.resourceVersion());
          for (const { verb, name } of ops) {
            const current = api.object('configmaps', name, 'ns');
            let answer: Answer;
            if (verb === 'create') answer = await call('POST', CM, { metadata: { name }, data: { v: String(last) } });
            else if (verb === 'put')
              answer = await call('PUT', `${CM}/${name}`, {
                metadata: { name, resourceVersion: current?.metadata.resourceVersion },
                data: { v: String(last) },
              });
            else if (verb === 'patch') answer = await call('PATCH', `${CM}/${name}`, { data: { w: String(last) } }, 'application/merge-patch+json');
            else answer = await call('DELETE', `${CM}/${name}`);
            if (answer.code >= 300) continue;
            const rv = Number(api.resourceVersion());
            expect(rv).to.be.greaterThan(last);
            if (verb !== 'delete') expect(answer.body.metadata?.resourceVersion).to.equal(String(rv));
            last = rv;
          }
          const list = await call('GET', CM);
          expect((list.body.metadata as { resourceVersion: string }).resourceVersion).to.equal(String(last));
        }),
        { numRuns: 10 },
      );
    });

    it('rejects a PUT with a stale resourceVersion with 409 Conflict', async () => {
      const created = await call('POST', DS, dataset('d'));
      const rv = created.body.metadata!.resourceVersion;
      expect((await call('PUT', `${DS}/d`, { ...dataset('d'), metadata: { name: 'd', resourceVersion: rv }, spec: { size: 2 } })).code).to.equal(200);
      const stale = await call('PUT', `${DS}/d`, { ...dataset('d'), metadata: { name: 'd', resourceVersion: rv }, spec: { size: 3 } });
      expect(stale.code).to.equal(409);
      expect(stale.body).to.deep.include({ kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409 });
      expect(api.object<KubeObject>('datasets', 'd', 'ns')?.spec).to.deep.equal({ size: 2 });
    });

    it('requires a resourceVersion on custom resource updates (422), not on core ones', async () => {
      await call('POST', DS, dataset('d'));
      expect((await call('PUT', `${DS}/d`, dataset('d'))).body).to.include({ code: 422, reason: 'Invalid' });
      await call('POST', CM, { metadata: { name: 'c' } });
      expect((await call('PUT', `${CM}/c`, { metadata: { name: 'c' }, data: { k: 'v' } })).code).to.equal(200);
    });

    it('does not bump resourceVersion or emit an event for a write that changes nothing', async () => {
      const created = await call('POST', CM, { metadata: { name: 'c' }, data: { k: 'v' } });
      const again = await call('PUT', `${CM}/c`, created.body);
      const rv = created.body.metadata!.resourceVersion;
      expect(again.body.metadata!.resourceVersion).to.equal(rv);
      await call('PATCH', `${CM}/c`, { data: { k: 'w' } }, 'application/merge-patch+json');
      // The first event after the create is the real change.
      const events = await watchLines(`${CM}?watch=1&resourceVersion=${rv}`, 1);
      expect(events.map((e) => [e.type, e.object.metadata.resourceVersion, e.object.data])).to.deep.equal([['MODIFIED', String(Number(rv) + 1), { k: 'w' }]]);
    });
  });

  describe('errors as Status objects', () => {
    it('GET of a missing object is a 404 NotFound Status', async () => {
      const answer = await call('GET', `${DS}/missing`);
      expect(answer.code).to.equal(404);
      expect(answer.body).to.deep.include({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: 'datasets.locus.dev "missing" not found',
      });
      expect(answer.body.details).to.deep.include({ name: 'missing', group: 'locus.dev', kind: 'datasets' });
    });

    it('POST of a taken name is 409 AlreadyExists; a bad name is 422', async () => {
      await call('POST', CM, { metadata: { name: 'c' } });
      expect((await call('POST', CM, { metadata: { name: 'c' } })).body).to.include({ code: 409, reason: 'AlreadyExists' });
      expect((await call('POST', CM, { metadata: { name: 'Not_A_Name' } })).body).to.include({ code: 422, reason: 'Invalid' });
    });

    it('unknown resources are 404, a body of the wrong kind is 400', async () => {
      // Paths outside every served resource get the mux's plain-text 404, as from a real server.
      expect(await call('GET', '/apis/apps/v1/deployments')).to.deep.equal({ code: 404, body: { text: '404 page not found\n' } });
      expect((await call('PUT', `${CM}/x/status`, { metadata: { name: 'x' } })).body).to.include({ kind: 'Status', code: 404 });
      expect((await call('POST', CM, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } })).code).to.equal(400);
    });

    it('injects failures for matching requests only, then recovers', async () => {
      api.failNext(2, { code: 500, verb: 'create', resource: 'configmaps' });
      expect((await call('GET', CM)).code).to.equal(200);
      expect((await call('POST', CM, { metadata: { name: 'c' } })).body).to.include({ code: 500, reason: 'InternalError' });
      expect((await call('POST', CM, { metadata: { name: 'c' } })).code).to.equal(500);
      expect((await call('POST', CM, { metadata: { name: 'c' } })).code).to.equal(201);
    });

    it('refuses objects in a missing namespace when asked to', async () => {
      await api.close();
      api = await FakeApiServer.start({ requireNamespaces: true });
      expect((await call('POST', CM, { metadata: { name: 'c' } })).body).to.include({ code: 404, message: 'namespaces "ns" not found' });
      await call('POST', '/api/v1/namespaces', { metadata: { name: 'ns' } });
      expect((await call('POST', CM, { metadata: { name: 'c' } })).code).to.equal(201);
    });

    it('checks the bearer token when one is configured', async () => {
      await api.close();
      api = await FakeApiServer.start({ token: 's3cret' });
      expect((await call('GET', CM)).code).to.equal(401);
      const objects = KubernetesObjectApi.makeApiClient(api.kubeconfig());
      const list = await objects.list('v1', 'ConfigMap', 'ns');
      expect(list.items).to.deep.equal([]);
    });
  });

  describe('status subresource, generation, patches', () => {
    it('/status changes only status; the main resource ignores status; generation follows spec', async () => {
      const created = await call('POST', DS, { ...dataset('d'), status: { phase: 'Forged' } });
      expect(created.body.status).to.equal(undefined);
      expect(created.body.metadata!.generation).to.equal(1);
      const status = await call('PATCH', `${DS}/d/status`, { spec: { size: 9 }, status: { phase: 'Ready' } }, 'application/merge-patch+json');
      expect(status.body).to.deep.include({ spec: { size: 1 }, status: { phase: 'Ready' } });
      expect(status.body.metadata!.generation).to.equal(1);
      const main = await call('PATCH', `${DS}/d`, { spec: { size: 2 }, status: { phase: 'Lost' } }, 'application/merge-patch+json');
      expect(main.body).to.deep.include({ spec: { size: 2 }, status: { phase: 'Ready' } });
      expect(main.body.metadata!.generation).to.equal(2);
      const labels = await call('PATCH', `${DS}/d`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
      expect(labels.body.metadata!.generation).to.equal(2);
      expect((await call('PUT', `${CM}/x/status`, { metadata: { name: 'x' } })).code).to.equal(404);
    });

    it('merge-patches (null deletes a key); other patch types are refused with 415', async () => {
      await call('POST', CM, { metadata: { name: 'c' }, data: { a: '1', b: '2' } });
      expect((await call('PATCH', `${CM}/c`, { data: { a: null, c: '3' } }, 'application/merge-patch+json')).body.data).to.deep.equal({ b: '2', c: '3' });
      expect((await call('PATCH', `${CM}/c`, [{ op: 'add', path: '/data/d', value: '4' }], 'application/json-patch+json')).code).to.equal(415);
      expect((await call('PATCH', `${CM}/c`, {}, 'text/plain')).code).to.equal(415);
      expect((await call('PATCH', `${CM}/missing`, {}, 'application/merge-patch+json')).code).to.equal(404);
    });

    it('binds a pod once', async () => {
      await call('POST', '/api/v1/namespaces/ns/pods', { metadata: { name: 'p' }, spec: { containers: [] } });
      const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'node-a' } };
      expect((await call('POST', '/api/v1/namespaces/ns/pods/p/binding', binding)).code).to.equal(201);
      expect((api.object('pods', 'p', 'ns')?.spec as { nodeName: string }).nodeName).to.equal('node-a');
      expect((api.object('pods', 'p', 'ns')?.status as { phase: string }).phase).to.equal('Pending');
      expect((await call('POST', '/api/v1/namespaces/ns/pods/p/binding', binding)).code).to.equal(409);
    });
  });

  describe('watch', () => {
    it('the state at any resourceVersion plus the events after it is the current state (property)', async () => {
      const op = fc.record({ verb: fc.constantFrom('put', 'patch', 'delete'), name: fc.constantFrom('a', 'b', 'c'), n: fc.nat(9) });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), fc.nat(), async (ops, pick) => {
          await api.close();
          api = await FakeApiServer.start();
          const key = (o: KubeObject) => o.metadata.name!;
          const snapshots: { rv: string; state: Map<string, KubeObject> }[] = [];
          const snapshot = () => snapshots.push({ rv: api.resourceVersion(), state: new Map(api.objects('configmaps', 'ns').map((o) => [key(o), o])) });
          api.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seed', namespace: 'ns' } });
          snapshot();
          for (const { verb, name, n } of ops) {
            if (verb === 'put') api.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data: { n: String(n) } });
            else if (verb === 'patch') await call('PATCH', `${CM}/${name}`, { data: { m: String(n) } }, 'application/merge-patch+json');
            else await call('DELETE', `${CM}/${name}`);
            snapshot();
          }
          const { rv, state } = snapshots[pick % snapshots.length];
          const expectedEvents = Number(api.resourceVersion()) - Number(rv);
          // A sentinel write marks the end of the replay.
          const lines = watchLines(`${CM}?watch=true&resourceVersion=${rv}`, expectedEvents + 1);
          await eventually(() => expect(api.openWatchCount()).to.equal(1));
          api.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sentinel', namespace: 'ns' } });
          const events = await lines;
          expect(events.at(-1)?.object.metadata.name).to.equal('sentinel');
          for (const { type, object } of events.slice(0, -1)) {
            if (type === 'DELETED') state.delete(key(object));
            else state.set(key(object), object);
          }
          const current = api.objects('configmaps', 'ns').filter((o) => key(o) !== 'sentinel');
          expect([...state.values()].sort((x, y) => key(x).localeCompare(key(y)))).to.deep.equal(current);
        }),
        { numRuns: 8 },
      );
    });

    it('from a resourceVersion replays only newer events, in order', async () => {
      await call('POST', DS, dataset('old'));
      const from = api.resourceVersion();
      await call('POST', DS, dataset('new'));
      await call('PATCH', `${DS}/new`, { spec: { size: 2 } }, 'application/merge-patch+json');
      await call('DELETE', `${DS}/old`);
      const events = await watchLines(`${DS}?watch=true&resourceVersion=${from}`, 3);
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).to.deep.equal(['ADDED new', 'MODIFIED new', 'DELETED old']);
      const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
      expect(rvs.every((rv, i) => rv > Number(from) && (i === 0 || rv > rvs[i - 1]))).to.equal(true);
    });

    it('without a resourceVersion starts with the current state as ADDED', async () => {
      await call('POST', DS, dataset('a'));
      await call('POST', DS, dataset('b'));
      await call('DELETE', `${DS}/a`);
      const lines = watchLines(`${DS}?watch=1`, 2);
      await eventually(() => expect(api.openWatchCount()).to.equal(1));
      await call('POST', DS, dataset('c'));
      expect((await lines).map((e) => `${e.type} ${e.object.metadata.name}`)).to.deep.equal(['ADDED b', 'ADDED c']);
    });

    it('answers a compacted resourceVersion with one 410 ERROR event and ends the stream', async () => {
      await call('POST', DS, dataset('a'));
      const from = api.resourceVersion();
      await call('POST', DS, dataset('b'));
      api.compact();
      const events = await watchLines(`${DS}?watch=true&resourceVersion=${from}`, 5);
      expect(events).to.have.length(1);
      expect(events[0].type).to.equal('ERROR');
      expect(events[0].object).to.deep.include({ kind: 'Status', code: 410, reason: 'Expired' });
    });

    it('keeps at least historyLimit events for resuming, and answers older ones with 410', async () => {
      await api.close();
      api = await FakeApiServer.start({ historyLimit: 3 });
      const rvs: string[] = [];
      for (let i = 0; i < 6; i++) rvs.push((await call('POST', CM, { metadata: { name: `c${i}` } })).body.metadata!.resourceVersion!);
      const old = await watchLines(`${CM}?watch=true&resourceVersion=${rvs[0]}`, 1);
      expect(old.map((e) => [e.type, e.object.code])).to.deep.equal([['ERROR', 410]]);
      const recent = await watchLines(`${CM}?watch=true&resourceVersion=${rvs[2]}`, 3);
      expect(recent.map((e) => e.object.metadata.name)).to.deep.equal(['c3', 'c4', 'c5']);
    });

    it('filters by label selector forms, turning selector exits into DELETED', async () => {
      // (resourceVersion "0" would mean "current state", so start from a real one)
      await call('POST', CM, { metadata: { name: 'unrelated' } });
      const from = api.resourceVersion();
      await call('POST', DS, dataset('a', { tier: 'hot' }));
      await call('POST', DS, dataset('b', { tier: 'cold' }));
      await call('POST', DS, dataset('c'));
      await call('PATCH', `${DS}/a`, { metadata: { labels: { tier: 'cold' } } }, 'application/merge-patch+json');
      const selectors: Record<string, string[]> = {
        'tier=hot': ['ADDED a', 'DELETED a'],
        'tier!=hot': ['ADDED b', 'ADDED c', 'ADDED a'],
        'tier in (hot,cold)': ['ADDED a', 'ADDED b', 'MODIFIED a'],
        'tier notin (cold)': ['ADDED a', 'ADDED c', 'DELETED a'],
        tier: ['ADDED a', 'ADDED b', 'MODIFIED a'],
        '!tier': ['ADDED c'],
      };
      for (const [selector, expected] of Object.entries(selectors)) {
        const events = await watchLines(`${DS}?watch=true&resourceVersion=${from}&labelSelector=${encodeURIComponent(selector)}`, expected.length);
        expect(
          events.map((e) => `${e.type} ${e.object.metadata.name}`),
          selector,
        ).to.deep.equal(expected);
      }
      expect((await call('GET', `${DS}?fieldSelector=metadata.name%3Db`)).body.items).to.have.length(1);
      expect((await call('GET', `${DS}?fieldSelector=spec.size%3D1`)).code).to.equal(400);
      expect((await call('GET', `${DS}?labelSelector=${encodeURIComponent('a in b')}`)).code).to.equal(400);
    });

    it('ends after timeoutSeconds and sends bookmarks when allowed', async () => {
      const started = Date.now();
      const lines = watchLines(`${DS}?watch=true&timeoutSeconds=1&allowWatchBookmarks=true&resourceVersion=${api.resourceVersion()}`, 5, 3000);
      await eventually(() => expect(api.openWatchCount()).to.equal(1));
      api.bookmark();
      const events = await lines;
      expect(Date.now() - started).to.be.within(900, 4000);
      expect(events.map((e) => e.type)).to.deep.equal(['BOOKMARK']);
      expect(events[0].object.metadata.resourceVersion).to.equal(api.resourceVersion());
    });
  });

  describe('deletion', () => {
    it('keeps an object with finalizers, marked, until an update empties them; no new finalizers meanwhile', async () => {
      await call('POST', DS, { ...dataset('d'), metadata: { name: 'd', finalizers: ['x/y'] } });
      const marked = await call('DELETE', `${DS}/d`);
      expect(marked.body.metadata!.deletionTimestamp).to.be.a('string');
      const current = api.object('datasets', 'd', 'ns')!;
      const more = await call('PUT', `${DS}/d`, { ...current, metadata: { ...current.metadata, finalizers: ['x/y', 'z/w'] } });
      expect(more.code).to.equal(422);
      await call('PUT', `${DS}/d`, { ...current, metadata: { ...current.metadata, finalizers: [] } });
      expect(api.object('datasets', 'd', 'ns')).to.equal(undefined);
    });

    it('collects dependents in cascade, keeps those with another live owner, orphans on request', async () => {
      const owner = (o: Answer, name: string) => ({ apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', name, uid: o.body.metadata!.uid! });
      const a = await call('POST', DS, dataset('a'));
      const b = await call('POST', DS, dataset('b'));
      const cm = await call('POST', CM, { metadata: { name: 'cm', ownerReferences: [owner(a, 'a')] } });
      await call('POST', '/api/v1/namespaces/ns/secrets', {
        metadata: { name: 'grandchild', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: cm.body.metadata!.uid }] },
      });
      await call('POST', CM, { metadata: { name: 'shared', ownerReferences: [owner(a, 'a'), owner(b, 'b')] } });
      await call('DELETE', `${DS}/a`);
      expect(api.objects('secrets')).to.deep.equal([]);
      expect(api.objects('configmaps').map((c) => [c.metadata.name, c.metadata.ownerReferences?.map((r) => r.name)])).to.deep.equal([['shared', ['b']]]);
      await call('DELETE', `${DS}/b?propagationPolicy=Orphan`);
      expect(api.objects('configmaps').map((c) => [c.metadata.name, c.metadata.ownerReferences])).to.deep.equal([['shared', undefined]]);
    });

    it('deleting a namespace deletes its contents; a collection DELETE honours selectors', async () => {
      await call('POST', '/api/v1/namespaces', { metadata: { name: 'ns' } });
      await call('POST', CM, { metadata: { name: 'a', labels: { x: '1' } } });
      await call('POST', CM, { metadata: { name: 'b' } });
      await call('POST', '/api/v1/namespaces/other/configmaps', { metadata: { name: 'c' } });
      await call('DELETE', `${CM}?labelSelector=x`);
      expect(api.objects('configmaps').map((c) => c.metadata.name)).to.deep.equal(['b', 'c']);
      await call('DELETE', '/api/v1/namespaces/ns');
      expect(api.objects('configmaps').map((c) => c.metadata.name)).to.deep.equal(['c']);
    });

    it('collects an object written with owners that do not exist, unless the owner kind is not served', async () => {
      const a = await call('POST', DS, dataset('a'));
      const live = { apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', name: 'a', uid: a.body.metadata!.uid };
      const dangling = { ...live, name: 'gone', uid: 'no-such-uid' };
      const unserved = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid' };
      await call('POST', CM, { metadata: { name: 'orphan', ownerReferences: [dangling] } });
      await call('POST', CM, { metadata: { name: 'half', ownerReferences: [live, dangling] } });
      await call('POST', CM, { metadata: { name: 'unserved', ownerReferences: [unserved] } });
      await eventually(() =>
        expect(api.objects('configmaps').map((c) => [c.metadata.name, c.metadata.ownerReferences?.map((r) => r.name)])).to.deep.equal([
          ['half', ['a']],
          ['unserved', ['rs']],
        ]),
      );
      api.setGarbageCollection(false);
      await call('POST', CM, { metadata: { name: 'kept', ownerReferences: [dangling] } });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(api.object('configmaps', 'kept', 'ns')).to.not.equal(undefined);
    });

    it('honours delete preconditions', async () => {
      await call('POST', CM, { metadata: { name: 'c' } });
      const answer = await call('DELETE', `${CM}/c`, { preconditions: { uid: 'someone-else' } });
      expect(answer.code).to.equal(409);
      expect(api.object('configmaps', 'c', 'ns')).to.not.equal(undefined);
    });
  });

  describe('validation a real server would apply', () => {
    it('rejects bad labels and non-string map values', async () => {
      expect((await call('POST', CM, { metadata: { name: 'a', labels: { 'bad key!': 'x' } } })).code).to.equal(422);
      expect((await call('POST', CM, { metadata: { name: 'a', labels: { ok: 'not ok' } } })).code).to.equal(422);
      expect((await call('POST', CM, { metadata: { name: 'a', labels: { 'locus.dev/x': 'fine_1.0', empty: '' } } })).code).to.equal(201);
      expect((await call('POST', CM, { metadata: { name: 'b', annotations: { n: 1 } } })).code).to.equal(400);
      expect((await call('POST', CM, { metadata: { name: 'b' }, data: { n: 1 } })).code).to.equal(400);
      expect((await call('POST', '/api/v1/namespaces', { metadata: { name: 'has.dot' } })).code).to.equal(422);
    });

    it('folds Secret stringData into base64 data and refuses data that is not base64', async () => {
      const created = await call('POST', '/api/v1/namespaces/ns/secrets', {
        metadata: { name: 's' },
        stringData: { accessKeyID: 'AK' },
        data: { other: 'eA==' },
      });
      expect(created.body).to.deep.include({ type: 'Opaque', data: { other: 'eA==', accessKeyID: Buffer.from('AK').toString('base64') } });
      expect(created.body.stringData).to.equal(undefined);
      expect((await call('POST', '/api/v1/namespaces/ns/secrets', { metadata: { name: 't' }, data: { k: 'not base64!' } })).code).to.equal(400);
    });

    it("requires an Event in its object's namespace, or in default for cluster-scoped objects", async () => {
      const event = (ns: string, involvedNs?: string) => ({
        metadata: { name: `e${Math.random().toString(36).slice(2, 8)}` },
        involvedObject: { kind: 'X', name: 'x', namespace: involvedNs },
      });
      expect((await call('POST', '/api/v1/namespaces/ns/events', event('ns', 'ns'))).code).to.equal(201);
      expect((await call('POST', '/api/v1/namespaces/ns/events', event('ns', 'other'))).code).to.equal(422);
      expect((await call('POST', '/api/v1/namespaces/default/events', event('default'))).code).to.equal(201);
      expect((await call('POST', '/api/v1/namespaces/ns/events', event('ns'))).code).to.equal(422);
    });

    it('keeps a PVC spec immutable except its size and a first volumeName', async () => {
      const PVC = '/api/v1/namespaces/ns/persistentvolumeclaims';
      await call('POST', PVC, { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } });
      const patch = (p: object) => call('PATCH', `${PVC}/c`, p, 'application/merge-patch+json');
      expect((await patch({ spec: { resources: { requests: { storage: '2Gi' } } } })).code).to.equal(200);
      expect((await patch({ spec: { volumeName: 'pv-1' } })).code).to.equal(200);
      expect((await patch({ spec: { volumeName: 'pv-2' } })).code).to.equal(422);
      expect((await patch({ spec: { accessModes: ['ReadOnlyMany'] } })).body).to.include({ code: 422, reason: 'Invalid' });
      expect((await patch({ metadata: { labels: { a: 'b' } } })).code).to.equal(200);
    });
  });

  describe('client-node, unmodified', () => {
    it('KubernetesObjectApi discovers, creates, reads, patches, lists and deletes', async () => {
      const objects = KubernetesObjectApi.makeApiClient(api.kubeconfig({ namespace: 'ns' }));
      const spec = { apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', metadata: { name: 'd' }, spec: { size: 1 } } as KubernetesObject;
      await objects.create(spec);
      const read = await objects.read({ apiVersion: 'locus.dev/v1alpha1', kind: 'Dataset', metadata: { name: 'd', namespace: 'ns' } });
      expect((read as unknown as KubeObject).spec).to.deep.equal({ size: 1 });
      await objects.patch(
        { ...spec, metadata: { name: 'd', namespace: 'ns' }, spec: { size: 2 } } as KubernetesObject,
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.MergePatch,
      );
      expect(api.object<KubeObject>('datasets', 'd', 'ns')?.spec).to.deep.equal({ size: 2 });
      const cms = await objects.list('v1', 'ConfigMap', 'ns');
      expect(cms.items).to.deep.equal([]);
      await objects.delete({ ...spec, metadata: { name: 'd', namespace: 'ns' } });
      expect(api.objects('datasets')).to.deep.equal([]);
    });

    it('makeInformer and Watch see the stream', async () => {
      const kc = api.kubeconfig();
      const objects = KubernetesObjectApi.makeApiClient(kc);
      const informer = makeInformer(kc, '/apis/locus.dev/v1alpha1/nodecaches', () => objects.list('locus.dev/v1alpha1', 'NodeCache'));
      const added: string[] = [];
      informer.on('add', (o) => added.push(o.metadata!.name!));
      await informer.start();
      api.put({ apiVersion: 'locus.dev/v1alpha1', kind: 'NodeCache', metadata: { name: 'node-a' } });
      await eventually(() => expect(added).to.deep.equal(['node-a']));
      await informer.stop();

      const seen: string[] = [];
      const watch = new Watch(kc);
      const done = new Promise<unknown>((resolve) => {
        void watch.watch(
          '/apis/locus.dev/v1alpha1/nodecaches',
          { resourceVersion: '0' },
          (type, obj: KubeObject) => seen.push(`${type} ${obj.metadata.name}`),
          resolve,
        );
      });
      await eventually(() => expect(seen).to.deep.equal(['ADDED node-a']));
      api.closeWatches();
      expect(await done).to.equal(null);
    });
  });

  describe('setup', () => {
    it('serves HTTPS whose certificate the kubeconfig trusts, and nobody else does', async () => {
      await api.close();
      api = await FakeApiServer.start({ tls: true });
      expect(api.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } });
      const fromFile = loadKubeConfig({ kubeconfig: api.writeKubeconfig() }).kc;
      for (const kc of [api.kubeconfig(), fromFile]) {
        expect((await createKubeClient(kc).get(NODES, { name: 'node-a' }))?.metadata.name).to.equal('node-a');
      }
      const informer = new Informer(api.kubeconfig(), createKubeClient(api.kubeconfig()), { resource: NODES });
      informer.start();
      await informer.waitForSync();
      api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b' } });
      await eventually(() =>
        expect(
          informer
            .list()
            .map((n) => n.metadata.name)
            .sort(),
        ).to.deep.equal(['node-a', 'node-b']),
      );
      await informer.stop();

      const untrusting = new KubeConfig();
      untrusting.loadFromOptions({
        clusters: [{ name: 'c', server: api.url, skipTLSVerify: false }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const err = await createKubeClient(untrusting)
        .get(NODES, { name: 'node-a' })
        .catch((e: unknown) => e);
      expect(String((err as Error & { cause?: unknown }).cause ?? err)).to.match(/self.signed|certificate/i);
    });

    it('registers a resource from a CustomResourceDefinition and serves discovery for it', async () => {
      const res = api.registerCrd({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        spec: { group: 'example.dev', scope: 'Cluster', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true }] },
      });
      expect(res).to.deep.equal({ group: 'example.dev', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: false, statusSubresource: false });
      expect((await call('POST', '/apis/example.dev/v1/widgets', { metadata: { name: 'w' } })).code).to.equal(201);
      const discovery = await call('GET', '/apis/example.dev/v1');
      expect(discovery.body.resources).to.deep.equal([
        {
          name: 'widgets',
          singularName: 'widget',
          namespaced: false,
          kind: 'Widget',
          verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        },
      ]);
      const groups = (await call('GET', '/apis')).body.groups as { name: string }[];
      expect(groups.map((g) => g.name)).to.deep.equal(['batch', 'coordination.k8s.io', 'locus.dev', 'example.dev']);
    });
  });
});
