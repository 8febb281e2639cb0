// The simulator's in-process placements equal those made through the real extender over loopback
// HTTP, fed the same inventories as NodeCache objects.
import { expect } from 'chai';
import { startExtender, type RunningExtender } from '../../src/extender/server.js';
import type { InventoryFeed } from '../../src/inventory/feed.js';
import { snapshotToNodeCache } from '../../src/inventory/nodecache.js';
import type { InventorySource } from '../../src/inventory/source.js';
import { buildCluster, parseCluster } from '../../sim/cluster.js';
import { runSimulation } from '../../sim/engine.js';
import { clusterObjects, SIM_NAMESPACE } from '../../sim/inventory.js';
import { makePolicy } from '../../sim/policies/index.js';
import { extenderClientPolicy } from '../../sim/policies/remote.js';
import { syntheticWorkload, SyntheticParams } from '../../sim/workloads/synthetic.js';

/** An inventory source the test pushes objects into, as informers would. */
class PushSource implements InventorySource {
  feed?: InventoryFeed;
  constructor(private readonly initial: Array<['Node' | 'Dataset', object]>) {}
  async start(feed: InventoryFeed): Promise<void> {
    this.feed = feed;
    for (const [kind, obj] of this.initial) feed.apply(kind, 'upsert', obj);
  }
  synced(): boolean {
    return this.feed !== undefined;
  }
  async close(): Promise<void> {}
}

describe('sim: equivalence with the live extender', function () {
  this.timeout(60_000);
  const cluster = buildCluster(parseCluster({
    name: 'eq', nodes: 12, slotsPerNode: 4, zones: 3, cacheGiBPerNode: 8, localReadGBps: 2, nicGbps: 10,
    objectStoreGbps: 20, objectStoreStreamGbps: 1, blockMiB: 64,
  }, 'test'));
  const workload = syntheticWorkload(SyntheticParams.parse({ jobs: 20, rate: 0.3, datasets: 5, zipf: 1, datasetMedianBytes: 1e9, taskSeconds: 3 }), 7, cluster.blockSize);
  let extender: RunningExtender;
  let simNowMs = 0;
  let source: PushSource;

  before(async () => {
    const { nodes, datasets } = clusterObjects(cluster, workload);
    source = new PushSource([...nodes.map((n) => ['Node', n] as ['Node', object]), ...datasets.map((d) => ['Dataset', d] as ['Dataset', object])]);
    extender = await startExtender({ source, port: 0, policy: 'locality', ttlMs: cluster.spec.inventoryTtlSeconds * 1000, now: () => simNowMs });
    await extender.synced;
  });
  after(async () => extender?.close());

  it('places every task on the same node, in process and through filter + prioritize over HTTP', async () => {
    const placements = async (remote: boolean) => {
      const out: string[] = [];
      const blockCounts = new Map(workload.datasets.map((d) => [`${SIM_NAMESPACE}/${d.name}`, Math.ceil(d.bytes / cluster.blockSize)]));
      const client = extenderClientPolicy('locality', `${extender.url}/scheduler`);
      const policy = remote
        ? { ...client, place: (ctx: Parameters<typeof client.place>[0]) => { simNowMs = Math.floor(ctx.now * 1000); return client.place(ctx); } }
        : makePolicy('locality', cluster.spec);
      const run = await runSimulation({
        cluster, workload, policy, seed: 3,
        onPlace: (p) => out.push(`${p.time.toFixed(6)} ${p.job}/${p.stage}/${p.task} → ${p.node}`),
        // The remote run's agents publish NodeCache objects to the extender, as through the API server.
        sink: remote ? (snap, atMs) => {
          simNowMs = atMs;
          source.feed!.apply('NodeCache', 'upsert', snapshotToNodeCache(snap, { blockCounts, updatedAt: new Date(atMs) }));
        } : undefined,
      });
      return { out, run };
    };
    const local = await placements(false);
    const remote = await placements(true);
    expect(local.out.length).to.be.greaterThan(200);
    expect(remote.out).to.deep.equal(local.out);
    // Not a vacuous comparison: the caches were used and scores steered placement.
    expect(local.run.blockHits).to.be.greaterThan(0);
    const spread = await runSimulation({ cluster, workload, policy: makePolicy('default', cluster.spec), seed: 3 });
    expect(local.run.localBytes).to.not.equal(spread.localBytes);
  });
});
