import { expect } from 'chai';
import { WorkQueue } from '../../src/operator/queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('operator work queue', () => {
  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).to.equal(2);
    expect(await q.get()).to.equal('a');
    expect(await q.get()).to.equal('b');
  });

  it('never hands out a key in process; one added meanwhile comes back after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.length).to.equal(0);
    let next: string | undefined;
    void q.get().then((k) => {
      next = k;
    });
    await tick(1);
    expect(next).to.equal(undefined);
    q.done(key!);
    await tick(1);
    expect(next).to.equal('a');
  });

  it('wakes a waiting worker on add', async () => {
    const q = new WorkQueue();
    const got = q.get();
    q.add('x');
    expect(await got).to.equal('x');
  });

  it('backs off exponentially per key until forgotten', () => {
    const q = new WorkQueue({ backoff: { initialMs: 100, maxMs: 1000 }, random: () => 1 });
    expect([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')]).to.deep.equal([
      100, 200, 400, 800, 1000,
    ]);
    expect(q.addRateLimited('b')).to.equal(100);
    q.forget('a');
    expect(q.addRateLimited('a')).to.equal(100);
    q.shutDown();
  });

  it('adds delayed keys when due, the earliest request winning', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 5000);
    q.addAfter('a', 20);
    q.addAfter('a', 3000);
    expect(q.length).to.equal(0);
    await tick(60);
    expect(q.length).to.equal(1);
    q.shutDown();
  });

  it('releases waiting workers on shut down', async () => {
    const q = new WorkQueue();
    const got = q.get();
    q.shutDown();
    expect(await got).to.equal(undefined);
    q.add('late');
    expect(await q.get()).to.equal(undefined);
  });
});
