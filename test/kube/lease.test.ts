// Leader election on a Lease, against the in-memory API server: one holder at a time, takeover only
// after a whole lease duration without renewal (on the candidate's own clock), release hands over at once.
import { expect } from 'chai';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { LeaderElection, LeaseLock, microTime, type Lease } from '../../src/kube/lease.js';
import { LEASES } from '../../src/kube/resources.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

describe('kube/lease against the fake API server', () => {
  let api: FakeApiServer;
  let client: KubeClient;
  let clock = 0;
  const now = () => clock;
  const lock = (identity: string) => new LeaseLock({ client, namespace: 'locus-system', name: 'warm', identity, durationMs: 15_000, now });
  const lease = () => api.object('leases', 'warm', 'locus-system') as Lease | undefined;

  beforeEach(async () => {
    api = await FakeApiServer.start();
    client = createKubeClient(api.kubeconfig());
    clock = Date.parse('2026-12-04T10:00:00Z');
  });
  afterEach(() => api.close());

  it('creates the Lease for the first candidate, with MicroTime stamps', async () => {
    const a = lock('a');
    expect(await a.tryAcquireOrRenew()).to.equal(true);
    expect(lease()?.spec).to.deep.equal({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-12-04T10:00:00.000000Z',
      renewTime: '2026-12-04T10:00:00.000000Z',
      leaseTransitions: 0,
    });
    expect(microTime(Date.parse('2026-12-04T10:00:01.234Z'))).to.equal('2026-12-04T10:00:01.234000Z');
  });

  it('keeps a second candidate out while the holder renews, and lets it in a lease duration after the last renewal it saw', async () => {
    const [a, b] = [lock('a'), lock('b')];
    expect(await a.tryAcquireOrRenew()).to.equal(true);
    expect(await b.tryAcquireOrRenew()).to.equal(false);
    clock += 10_000;
    expect(await a.tryAcquireOrRenew()).to.equal(true); // renewed: b's observation starts again
    expect(lease()?.spec?.renewTime).to.equal(microTime(clock));
    clock += 10_000;
    expect(await b.tryAcquireOrRenew()).to.equal(false); // saw the renewal now
    clock += 14_999;
    expect(await b.tryAcquireOrRenew()).to.equal(false);
    clock += 1;
    expect(await b.tryAcquireOrRenew()).to.equal(true);
    expect(lease()?.spec).to.include({ holderIdentity: 'b', leaseTransitions: 1 });
    // The old holder finds it lost the Lease.
    expect(await a.tryAcquireOrRenew()).to.equal(false);
    expect(a.isHolder).to.equal(false);
  });

  it('lets only one of two candidates win a race for an expired Lease', async () => {
    const a = lock('a');
    await a.tryAcquireOrRenew();
    const [b, c] = [lock('b'), lock('c')];
    await Promise.all([b.tryAcquireOrRenew(), c.tryAcquireOrRenew()]);
    clock += 15_000;
    const won = await Promise.all([b.tryAcquireOrRenew(), c.tryAcquireOrRenew()]);
    expect(won.filter(Boolean)).to.have.length(1);
    expect(lease()?.spec?.holderIdentity).to.equal(won[0] ? 'b' : 'c');
  });

  it('hands the Lease over at once on release', async () => {
    const [a, b] = [lock('a'), lock('b')];
    await a.tryAcquireOrRenew();
    expect(await b.tryAcquireOrRenew()).to.equal(false);
    await a.release();
    expect(lease()?.spec?.holderIdentity ?? undefined).to.equal(undefined); // null here; the real server drops it
    expect(await b.tryAcquireOrRenew()).to.equal(true);
    await a.release(); // not the holder: leaves b's Lease alone
    expect(lease()?.spec?.holderIdentity).to.equal('b');
  });

  it('LeaderElection reports leadership and hands it over when stopped', async () => {
    const changes: string[] = [];
    const elect = (identity: string) =>
      new LeaderElection({
        client,
        namespace: 'locus-system',
        name: 'warm',
        identity,
        durationMs: 3_000,
        retryMs: 50,
        onChange: (l) => changes.push(`${identity}:${l}`),
      });
    const [a, b] = [elect('a'), elect('b')];
    a.start();
    await eventually(() => expect(a.isLeader).to.equal(true));
    b.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(b.isLeader).to.equal(false);
    await a.stop();
    await eventually(() => expect(b.isLeader).to.equal(true));
    await b.stop();
    expect(changes).to.deep.equal(['a:true', 'a:false', 'b:true', 'b:false']);
    expect(() => new LeaderElection({ client, namespace: 'x', name: 'y', identity: 'z', durationMs: 100, retryMs: 50, onChange: () => undefined })).to.throw(
      /a third/,
    );
    expect(await client.get(LEASES, { namespace: 'locus-system', name: 'warm' })).to.not.equal(undefined);
  });
});
