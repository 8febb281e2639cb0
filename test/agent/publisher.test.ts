// The NodeCache publisher against the in-memory API server over loopback HTTP.
import { expect } from 'chai';
import { Publisher, type PublisherOptions } from '../../src/agent/publisher.js';
import { ClusterSizedInterval, DAEMON_SETS, DEFAULT_INTERVAL_POLICY, reportIntervalMs } from '../../src/agent/report-interval.js';
import type { DatasetHoldings } from '../../src/agent/inventory.js';
import { nodeCacheToSnapshot } from '../../src/inventory/nodecache.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { agentMetrics } from '../../src/metrics/agent.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { silent } from './harness.js';

const NODE = 'node-a';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function holding(blocks: number[]): DatasetHoldings {
  return {
    inventory: { dataset: 'ml/train', bytes: blocks.length * 1024, blockSize: 1024, catalogVersion: 'v1', blocks: Uint32Array.from(blocks) },
    blockCount: 64,
  };
}

describe('agent NodeCache publisher', function () {
  this.timeout(20_000);
  let api: FakeApiServer;
  let client: KubeClient;
  /** `status.seq` of every status write attempted, in order. */
  let seqs: number[];
  /** When each status write started and when its answer came back (Date.now), in order. */
  let writes: { startedAt: number; endedAt?: number }[];
  let held: number[];
  let publisher: Publisher | undefined;

  const start = (opts: Partial<PublisherOptions> = {}) => {
    publisher = new Publisher({
      client,
      node: NODE,
      epoch: 'epoch-1',
      snapshot: () => ({ datasets: held.length > 0 ? [holding(held)] : [], capacityBytes: 1 << 20, usedBytes: held.length * 1024 }),
      interval: () => 300,
      backoff: { initialMs: 20, maxMs: 100 },
      metrics: agentMetrics(),
      log: silent,
      now: Date.now,
      random: Math.random,
      ...opts,
    });
    publisher.start();
  };
  const stored = () => api.object<KubeObject & { status?: { seq: number; epoch: string } }>('nodecaches', NODE);

  beforeEach(async () => {
    api = await FakeApiServer.start();
    api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, uid: 'uid-node-a' } });
    const real = createKubeClient(api.kubeconfig());
    seqs = [];
    writes = [];
    client = Object.assign(Object.create(real) as KubeClient, {
      replaceStatus: async <T extends KubeObject>(res: Parameters<KubeClient['replaceStatus']>[0], obj: T) => {
        seqs.push((obj as unknown as { status: { seq: number } }).status.seq);
        const write: { startedAt: number; endedAt?: number } = { startedAt: Date.now() };
        writes.push(write);
        try {
          return await real.replaceStatus(res, obj);
        } finally {
          write.endedAt = Date.now();
        }
      },
    });
    held = [];
  });
  afterEach(async () => {
    await publisher?.stop();
    publisher = undefined;
    await api.close();
  });

  it("creates its node's NodeCache, owned by the Node, and writes the new epoch at once", async () => {
    held = [0, 1, 5];
    start();
    await eventually(() => expect(stored()?.status?.seq).to.equal(1));
    const obj = stored()!;
    expect(obj.metadata.ownerReferences).to.deep.equal([{ apiVersion: 'v1', kind: 'Node', name: NODE, uid: 'uid-node-a' }]);
    const snap = nodeCacheToSnapshot(obj)!;
    expect([snap.epoch, snap.seq, [...snap.datasets[0].blocks!]]).to.deep.equal(['epoch-1', 1, [0, 1, 5]]);
  });

  it('writes only when something changed, at most once per interval', async () => {
    start();
    await eventually(() => expect(writes[0]?.endedAt).to.be.a('number'));
    for (let i = 0; i < 10; i++) {
      // a burst of changes right after a write: one write, an interval later
      held = [...held, i];
      publisher!.changed();
    }
    await eventually(() => expect(seqs).to.have.length(2), { timeoutMs: 2000 });
    // The publisher counts the interval from the end of a write, as measured here (its own clock reads
    // the end a little later still). Node's timers round to whole milliseconds, so a timer may fire up
    // to 1 ms before Date.now() says the delay has passed.
    expect(writes[1].startedAt - writes[0].endedAt!).to.be.at.least(300 - 1);
    await eventually(() => expect([...nodeCacheToSnapshot(stored())!.datasets[0].blocks!]).to.deep.equal([...Array(10).keys()]));
    publisher!.changed(); // nothing actually changed
    await sleep(700);
    expect(seqs).to.have.length(2);
  });

  it('rewrites an unchanged inventory once the refresh interval has passed', async () => {
    start({ refreshMs: 400 });
    await eventually(() => expect(seqs).to.have.length(1));
    await eventually(() => expect(seqs.length).to.be.at.least(3), { timeoutMs: 3000 });
    expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
  });

  it('retries API errors and conflicts with backoff, and seq strictly increases across attempts', async () => {
    api.failNext(3, { code: 500, verb: 'update', resource: 'nodecaches' });
    start();
    await eventually(() => expect(stored()?.status?.seq).to.equal(4), { timeoutMs: 5000 });
    expect(seqs).to.deep.equal([1, 2, 3, 4]);
    // Another writer bumps the object: the next write conflicts, re-reads and succeeds.
    api.put({ ...stored()!, metadata: { ...stored()!.metadata, labels: { touched: 'yes' } } });
    held = [7];
    publisher!.changed();
    await eventually(() => expect(nodeCacheToSnapshot(stored())!.datasets).to.have.length(1), { timeoutMs: 5000 });
    expect(seqs).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(stored()!.status!.seq).to.equal(6);
  });

  it("reads the cluster size from the agents' DaemonSet, in the background", async () => {
    api.register(DAEMON_SETS);
    api.put({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { namespace: 'locus-system', name: 'locus-agent' },
      status: { desiredNumberScheduled: 800 },
    });
    let now = 0;
    const interval = new ClusterSizedInterval({
      client,
      daemonSet: { namespace: 'locus-system', name: 'locus-agent' },
      policy: DEFAULT_INTERVAL_POLICY,
      refreshMs: 60_000,
      fallbackAgents: 1,
      now: () => now,
      log: silent,
    });
    expect(interval.get()).to.equal(2000); // nothing read yet: the fallback
    await eventually(() => expect(interval.get()).to.equal(10_000));
    api.put({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { namespace: 'locus-system', name: 'locus-agent' },
      status: { desiredNumberScheduled: 5000 },
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(interval.get()).to.equal(10_000); // not re-read before refreshMs
    now = 60_000;
    await eventually(() => expect(interval.get()).to.equal(60_000));
  });

  it('sizes the write interval to the cluster: ~2 s small, 60 s at 5,000 nodes', () => {
    expect(reportIntervalMs(3)).to.equal(2000);
    expect(reportIntervalMs(800)).to.equal(10_000);
    expect(reportIntervalMs(5000)).to.equal(60_000);
    const perSecond = (n: number) => n / (reportIntervalMs(n) / 1000);
    expect(perSecond(1000)).to.be.closeTo(80, 1);
  });
});
