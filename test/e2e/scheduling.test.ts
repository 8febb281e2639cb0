// Scenarios 1 and 2: a real kube-scheduler named locus-scheduler, configured with the repo's own
// v1beta1 file, places pods next to their data through `locus extender`, and still binds pods when
// the extender is down, failing or hanging.
import { expect } from 'chai';
import { installCrds } from './support/crds.js';
import { cluster } from './support/env.js';
import { startBrokenExtender } from './support/broken-extender.js';
import { createListedDataset, deleteDataset } from './support/datasets.js';
import { indexGauge, startExtender } from './support/extender.js';
import { deleteNodeCache, writeNodeCache, type Holding } from './support/nodecache.js';
import { get, type Obj } from './support/api.js';
import { boundNode, createPod, deleteAllPods, pod, podPath } from './support/pods.js';
import type { Tracked } from './support/process.js';
import { startLocusScheduler } from './support/scheduler.js';
import { until } from './support/wait.js';
import { parseDuration } from '../../src/runtime/units.js';

const ns = 'e2e-placement';
const SCHEDULER_CONFIG = 'scheduler-config/locus-scheduler-v1beta1.yaml';
const catalog = { blockSize: 4 << 20, blockCount: 100, catalogVersion: 'v1' };
const holding = (name: string, from: number, to: number): Holding => ({ namespace: ns, name, from, to, ...catalog });

/** node-b holds 80% of dataset x, node-a 10% of it; node-c holds 90% of dataset y. */
const inventories: Record<string, Holding[]> = {
  'node-a': [holding('x', 0, 10)],
  'node-b': [holding('x', 0, 80)],
  'node-c': [holding('y', 5, 95)],
};

const datasetPod = (name: string, dataset: string) =>
  pod(ns, name, { schedulerName: 'locus-scheduler', labels: { 'dataset.0.id': dataset, 'dataset.0.useas': 'mount' } });

/** Creates `count` pods reading `dataset` and returns the node each was bound to. */
async function placeAll(prefix: string, dataset: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (const name of names) await createPod(datasetPod(name, dataset));
  return Promise.all(names.map((name) => boundNode(ns, name)));
}

describe('scenarios 1–2: scheduling through locus-scheduler and the extender', () => {
  let scheduler: Tracked;
  let extender: Tracked | undefined;
  let httpTimeoutMs = 0;

  before(async () => {
    await installCrds();
    await createListedDataset(ns, 'x', catalog.blockCount, catalog.blockSize, catalog.catalogVersion);
    await createListedDataset(ns, 'y', catalog.blockCount, catalog.blockSize, catalog.catalogVersion);
    for (const [node, holdings] of Object.entries(inventories)) await writeNodeCache(node, holdings);
    extender = await startExtender();
    await until(
      'the extender to index 3 live inventories and 2 datasets',
      async () => (await indexGauge('live_inventories')) === 3 && (await indexGauge('datasets')) >= 2,
    );
    const started = await startLocusScheduler(SCHEDULER_CONFIG);
    scheduler = started.proc;
    // kube-scheduler's default when the config names none
    const httpTimeout = started.config.extenders?.[0]?.httpTimeout ?? '30s';
    httpTimeoutMs = parseDuration(httpTimeout) ?? Number.NaN;
    expect(httpTimeoutMs, `httpTimeout "${httpTimeout}" of ${SCHEDULER_CONFIG}`).to.be.greaterThan(0);
  });

  after(async () => {
    await deleteAllPods(ns);
    await extender?.stop();
    await scheduler?.stop();
    for (const node of Object.keys(inventories)) await deleteNodeCache(node);
    await deleteDataset(ns, 'x');
    await deleteDataset(ns, 'y');
  });

  afterEach(() => deleteAllPods(ns));

  describe('scenario 1: placement', () => {
    it('binds every pod of dataset x to node-b, which holds most of x', async () => {
      expect(await placeAll('x', 'x', 4)).to.deep.equal(['node-b', 'node-b', 'node-b', 'node-b']);
    });

    it('binds every pod of dataset y to node-c, which holds y', async () => {
      expect(await placeAll('y', 'y', 4)).to.deep.equal(['node-c', 'node-c', 'node-c', 'node-c']);
    });

    it("spreads the same pods with --policy none (the placement above is the extender's doing)", async () => {
      await extender!.stop();
      extender = await startExtender(['--policy', 'none']);
      const nodes = await placeAll('none', 'x', 6);
      expect(new Set(nodes).size, `nodes chosen: ${nodes.join(', ')}`).to.be.greaterThan(1);
    });
  });

  describe('locality required', () => {
    it("leaves a pod no node can serve Pending, with the extender's reasons intact in the FailedScheduling Event", async () => {
      // kube-scheduler formats extender reasons as a format string: a `%` in them would come out as `%!o(MISSING)`.
      await createPod(
        pod(ns, 'picky', {
          schedulerName: 'locus-scheduler',
          labels: { 'dataset.0.id': 'x', 'dataset.0.useas': 'mount' },
          annotations: { 'locus.dev/locality': 'required', 'locus.dev/min-local-fraction': '0.95' },
        }),
      );
      const event = await until(
        'a FailedScheduling Event for pod picky',
        async () => {
          const list = await get<{ items: Obj[] }>(
            `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent('involvedObject.name=picky,reason=FailedScheduling')}`,
          );
          return list.items.find((e) => String((e as { message?: string }).message).includes('holds'));
        },
        { timeoutMs: 60_000 },
      );
      const message = String((event as { message?: string }).message);
      expect(message).to.include('holds 80 percent of e2e-placement/x, pod requires 95 percent');
      expect(message).to.include('holds 10 percent of e2e-placement/x, pod requires 95 percent');
      expect(message).to.not.match(/%|MISSING/);
      expect((await get(podPath(ns, 'picky'))).spec.nodeName).to.equal(undefined);
    });
  });

  describe('scenario 2: fail open', () => {
    it('binds a dataset pod while the extender is stopped', async () => {
      await extender?.stop();
      extender = undefined;
      await createPod(datasetPod('stopped', 'x'));
      expect(cluster.nodes).to.include(await boundNode(ns, 'stopped'));
    });

    it('binds a dataset pod while the extender answers HTTP 500', async () => {
      const broken = await startBrokenExtender(cluster.ports.extender, 'error-500');
      try {
        await createPod(datasetPod('error-500', 'x'));
        expect(cluster.nodes).to.include(await boundNode(ns, 'error-500'));
        expect(broken.calls, 'the scheduler did call the extender').to.include('/scheduler/filter');
      } finally {
        await broken.close();
      }
    });

    it('binds a dataset pod while the extender hangs past httpTimeout', async () => {
      const broken = await startBrokenExtender(cluster.ports.extender, 'hang');
      try {
        const t0 = Date.now();
        await createPod(datasetPod('hang', 'x'));
        expect(cluster.nodes).to.include(await boundNode(ns, 'hang', 4 * httpTimeoutMs + 30_000));
        expect(broken.calls, 'the scheduler did call the extender').to.include('/scheduler/filter');
        expect(Date.now() - t0, "binding waited for the scheduler's httpTimeout").to.be.at.least(httpTimeoutMs);
      } finally {
        await broken.close();
      }
    });

    it('places by locality again once the extender is back', async () => {
      extender = await startExtender();
      expect(await placeAll('back', 'x', 3)).to.deep.equal(['node-b', 'node-b', 'node-b']);
    });
  });
});
