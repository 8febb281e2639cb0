// Probe 5 (disk and connections): on a full disk the agent never evicted and stayed stuck (every
// later block failed to store), and its S3 server had no timeouts (15 idle clients held their
// connections and memory for 100 s+). Now a write that finds the disk full (ENOSPC, simulated by a
// disk smaller than the configured capacity) lowers the capacity to what fits, evicts and stores;
// slow-header, idle, non-reading and idle keep-alive clients are cut off, and connections are capped.
import { rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import type { Agent } from '../../src/agent/agent.js';
import { BlockStore } from '../../src/agent/block-store.js';
import { blockId, type BlockSpec } from '../../src/agent/layout.js';
import { agentMetrics } from '../../src/metrics/agent.js';
import { agentFor, bytes, dirBytes, MiB, silent, smallDisk, tempDir } from '../agent/harness.js';
import { startRemote, type Remote } from '../agent/remote.js';

const spec = (i: number): BlockSpec => ({ bucket: 'data', parts: [{ key: 'ds/object', etag: '"e"', offset: i * MiB, length: MiB }], length: MiB });

describe('security probe 5: the agent evicts to make room on a full disk', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps storing new blocks when the disk fills before the configured capacity', async () => {
    const DISK = 5.5 * MiB;
    const metrics = agentMetrics();
    const store = await BlockStore.open({ dir, capacityBytes: 64 * MiB, metrics, log: silent, open: smallDisk(dir, DISK) });
    const body = bytes(12 * MiB, 5);
    for (let i = 0; i < 12; i++) {
      const stored = await store.fetch(spec(i), (s, sink) => sink(0, body.subarray(s.parts[0].offset, s.parts[0].offset + MiB)));
      expect(stored, `block ${i} stored`).to.equal(true);
      await store.settle();
      expect(await dirBytes(dir), `disk after block ${i}`).to.be.at.most(DISK);
    }
    expect((await metrics.diskFull.get()).values[0].value).to.be.at.least(1);
    expect(store.capacityBytes).to.be.below(DISK);
    expect((await metrics.capacityBytes.get()).values[0].value).to.equal(store.capacityBytes);
    // The newest blocks are the ones kept, and they read back intact.
    expect(store.has(blockId(spec(11)))).to.equal(true);
    expect(store.has(blockId(spec(0)))).to.equal(false);
    expect((await store.read(blockId(spec(11)), 100, 50))!.equals(body.subarray(11 * MiB + 100, 11 * MiB + 150))).to.equal(true);
  });
});

/** Resolves with the milliseconds until the server closed the socket (or `limitMs` if it did not). */
function closedWithin(s: Socket, limitMs: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(limitMs), limitMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

function socketTo(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => resolve(s));
    s.on('error', () => undefined); // a reset by the server is what some cases expect
    s.once('error', reject);
  });
}

describe("security probe 5: the agent's S3 server times out idle and slow clients", function () {
  this.timeout(60_000);
  const LIMITS = { headersTimeoutMs: 600, requestTimeoutMs: 1_200, keepAliveTimeoutMs: 300, idleTimeoutMs: 800, maxConnections: 12 };
  const GIVE_UP = 4_000; // below Node's own defaults (keep-alive 5 s, headers 60 s), which the agent had before
  let remote: Remote;
  let dir: string;
  let agent: Agent;

  before(async () => {
    remote = await startRemote(['data']);
    await remote.direct.put('data', 'big', bytes(24 * MiB, 9));
    await remote.direct.put('data', 'small', 'hello');
    dir = await tempDir();
    agent = await agentFor(remote, dir, { s3Limits: LIMITS });
  });
  after(async () => {
    await agent.close();
    await remote.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('closes a client that sends its headers a line at a time and never finishes (slowloris)', async () => {
    const s = await socketTo(agent.s3Url);
    s.write('GET /data/small HTTP/1.1\r\nHost: agent\r\n');
    const drip = setInterval(() => s.write('X-Drip: 1\r\n'), 100);
    const ms = await closedWithin(s, GIVE_UP);
    clearInterval(drip);
    expect(ms).to.be.below(GIVE_UP);
  });

  it('closes a client that connects and sends nothing', async () => {
    expect(await closedWithin(await socketTo(agent.s3Url), GIVE_UP)).to.be.below(GIVE_UP);
  });

  it('cuts off a client that asks for a big object and stops reading', async () => {
    const s = await socketTo(agent.s3Url);
    s.write('GET /data/big HTTP/1.1\r\nHost: agent\r\n\r\n');
    s.pause();
    await new Promise((r) => setTimeout(r, 3 * LIMITS.idleTimeoutMs));
    // A paused socket cannot see the server hang up: read what reached it, then the end.
    let received = 0;
    s.on('data', (c: Buffer) => {
      received += c.length;
    });
    s.resume();
    expect(await closedWithin(s, GIVE_UP)).to.be.below(GIVE_UP);
    expect(received, 'bytes before the server hung up').to.be.below(24 * MiB);
  });

  it('closes an idle keep-alive connection after its answer', async () => {
    const s = await socketTo(agent.s3Url);
    s.write('GET /data/small HTTP/1.1\r\nHost: agent\r\n\r\n');
    s.resume();
    expect(await closedWithin(s, GIVE_UP)).to.be.below(GIVE_UP);
  });

  it('caps the connections it holds', async () => {
    const sockets = await Promise.all(Array.from({ length: LIMITS.maxConnections + 6 }, () => socketTo(agent.s3Url)));
    const closed = await Promise.all(sockets.map((s) => closedWithin(s, 300)));
    expect(closed.filter((ms) => ms < 300).length).to.be.at.least(6);
    for (const s of sockets) s.destroy();
  });
});
