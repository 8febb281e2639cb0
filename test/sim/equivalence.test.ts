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
import type { PlaceContext, PodObject } from '../../sim/policies/types.js';
import { stageDag } from '../../sim/workloads/dag.js';
import { syntheticWorkload, SyntheticParams } from '../../sim/workloads/synthetic.js';
import type { Workload } from '../../sim/workloads/types.js';

/** The slice a pod declares, as `key=value` pairs of its slice labels and annotations. */
function declared(pod: PodObject): string {
  const all = { ...pod.metadata.labels, ...pod.metadata.annotations };
  return Object.keys(all)
    .filter((k) => k.startsWith('locus.dev/') || k.startsWith('training.kubeflow.org/'))
    .sort()
    .map((k) => `${k}=${all[k]}`)
    .join(' ');
}

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
  const cluster = buildCluster(
    parseCluster(
      {
        name: 'eq',
        nodes: 12,
        slotsPerNode: 4,
        zones: 3,
        cacheGiBPerNode: 8,
        localReadGBps: 2,
        nicGbps: 10,
        objectStoreGbps: 20,
        objectStoreStreamGbps: 1,
        blockMiB: 64,
      },
      'test',
    ),
  );
  const synthetic = syntheticWorkload(
    SyntheticParams.parse({ jobs: 20, rate: 0.3, datasets: 5, zipf: 1, datasetMedianBytes: 1e9, taskSeconds: 3 }),
    7,
    cluster.blockSize,
  );
  // Training jobs of 8 workers, each reading its eighth of one of 3 Datasets of 40 blocks, one job every 10 s.
  const sharded: Workload = {
    source: 'sharded',
    kind: 'training',
    notes: [],
    datasets: [0, 1, 2].map((d) => ({ name: `train-${d}`, bytes: 40 * cluster.blockSize })),
    jobs: Array.from({ length: 36 }, (_, j) => ({
      id: `train${j}`,
      arrival: 10 * j,
      stages: stageDag(`train${j}`, [
        {
          name: 'workers',
          tasks: 8,
          dataset: j % 3,
          readBlocks: 40,
          passes: 1,
          rotate: false,
          computeSeconds: 12,
          overlapIO: true,
          needs: [],
        },
      ]),
    })),
  };
  let extender: RunningExtender;
  let simNowMs = 0;
  let source: PushSource;

  before(async () => {
    const objects = [synthetic, sharded].map((w) => clusterObjects(cluster, w));
    const nodes = objects[0].nodes;
    const datasets = objects.flatMap((o) => o.datasets);
    source = new PushSource([...nodes.map((n) => ['Node', n] as ['Node', object]), ...datasets.map((d) => ['Dataset', d] as ['Dataset', object])]);
    extender = await startExtender({ source, port: 0, policy: 'locality', ttlMs: cluster.spec.inventoryTtlSeconds * 1000, now: () => simNowMs });
    await extender.synced;
  });
  after(async () => extender?.close());

  /** Every placement, in process or through the extender over HTTP, and the slices the pods declared. */
  const placements = async (workload: Workload, remote: boolean) => {
    const out: string[] = [];
    const slices = new Set<string>();
    const blockCounts = new Map(workload.datasets.map((d) => [`${SIM_NAMESPACE}/${d.name}`, Math.ceil(d.bytes / cluster.blockSize)]));
    const client = extenderClientPolicy('locality', `${extender.url}/scheduler`);
    const inProcess = makePolicy('locality', cluster.spec);
    const policy = remote
      ? {
          ...client,
          place: (ctx: PlaceContext) => {
            simNowMs = Math.floor(ctx.now * 1000);
            return client.place(ctx);
          },
        }
      : {
          ...inProcess,
          place: (ctx: PlaceContext) => {
            slices.add(declared(ctx.pod()));
            return inProcess.place(ctx);
          },
        };
    // A new run's agents start their sequence again: the extender forgets the last run's NodeCaches first.
    if (remote) for (const name of cluster.names) source.feed!.apply('NodeCache', 'delete', { metadata: { name } });
    const run = await runSimulation({
      cluster,
      workload,
      policy,
      seed: 3,
      onPlace: (p) => out.push(`${p.time.toFixed(6)} ${p.job}/${p.stage}/${p.task} → ${p.node}`),
      // The remote run's agents publish NodeCache objects to the extender, as through the API server.
      sink: remote
        ? (snap, atMs) => {
            simNowMs = atMs;
            source.feed!.apply('NodeCache', 'upsert', snapshotToNodeCache(snap, { blockCounts, updatedAt: new Date(atMs) }));
          }
        : undefined,
    });
    return { out, run, slices };
  };

  const same = async (workload: Workload) => {
    const local = await placements(workload, false);
    const remote = await placements(workload, true);
    expect(local.out.length).to.be.greaterThan(200);
    expect(remote.out).to.deep.equal(local.out);
    // Not a vacuous comparison: the caches were used and scores steered placement.
    expect(local.run.blockHits).to.be.greaterThan(0);
    const spread = await runSimulation({ cluster, workload, policy: makePolicy('default', cluster.spec), seed: 3 });
    expect(local.run.localBytes).to.not.equal(spread.localBytes);
    return local.slices;
  };

  it('places every map task, each declaring its block range, on the same node in process and over HTTP', async () => {
    const slices = await same(synthetic);
    expect([...slices].filter((s) => s.startsWith('locus.dev/slice=blocks ')).length).to.be.greaterThan(50);
  });

  it('places every training worker, each declaring its shard as a replica index, on the same node in process and over HTTP', async () => {
    const slices = await same(sharded);
    expect([...slices].filter((s) => /^locus\.dev\/shards=8 training\.kubeflow\.org\/replica-index=\d$/.test(s))).to.have.length(8);
  });
});
