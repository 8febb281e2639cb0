// Publishes the node's cache inventory as the status of its NodeCache object. On start it makes sure
// the object exists (owned by the Node, so it goes with the node) and writes the new epoch at once.
// After that it writes only when the inventory changed, at most once per interval (sized from the
// cluster by the caller), and rewrites an unchanged inventory every `refreshMs` so that readers can
// bound its staleness. Every attempt takes the next `seq`, so seq strictly increases within the epoch
// even when a write whose answer was lost did land. Failures (API errors, 409 conflicts) are retried
// with exponential backoff and jitter. All of it runs on timers: a read never waits for a report.
import type { Logger } from 'pino';
import type { NodeCacheStatus } from '../api/nodecache.js';
import { snapshotToNodeCache, snapshotToNodeCacheStatus } from '../inventory/nodecache.js';
import { backoffDelay, type BackoffOptions } from '../kube/backoff.js';
import type { KubeClient } from '../kube/client.js';
import { AlreadyExistsError, ApiError, ConflictError, NotFoundError } from '../kube/errors.js';
import type { KubeObject } from '../kube/object.js';
import { NODE_CACHES, NODES } from '../kube/resources.js';
import type { AgentMetrics } from '../metrics/agent.js';
import { AGENT_REFRESH_MS } from '../runtime/settings.js';
import type { InventorySnapshot } from '../core/types.js';
import type { DatasetHoldings } from './inventory.js';
import { ZONE_LABEL } from './peer-directory.js';

export interface PublisherOptions {
  client: KubeClient;
  node: string;
  epoch: string;
  snapshot(): { datasets: DatasetHoldings[]; capacityBytes: number; usedBytes: number };
  /** Where agents of the zone read this node's blocks (status.peer); absent, none does. */
  peer?: { url: string; zone?: string };
  /** Least time between two writes of a changed inventory, in ms (asked before every write). */
  interval(): number;
  /** An unchanged inventory is rewritten after this long (default 10 minutes). */
  refreshMs?: number;
  backoff?: BackoffOptions;
  metrics: AgentMetrics;
  log: Logger;
  now(): number;
  random(): number;
}

export class Publisher {
  private seq = 0;
  private object: KubeObject | undefined;
  private lastWriteAt = -Infinity;
  private lastWritten: string | undefined;
  private dirty = true;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Infinity;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly refreshMs: number;
  private labelFailed = false;

  constructor(private readonly opts: PublisherOptions) {
    this.refreshMs = opts.refreshMs ?? AGENT_REFRESH_MS;
  }

  start(): void {
    this.schedule(this.opts.now());
  }

  /** The inventory may have changed: write it as soon as the interval allows (a retry keeps its backoff). */
  changed(): void {
    this.dirty = true;
    if (this.running || this.stopped || this.failures > 0) return;
    const at = this.lastWriteAt + this.opts.interval();
    if (!this.timer || at < this.dueAt) this.schedule(at);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs the next write attempt at time `at` (ms, the clock of `now`). */
  private schedule(at: number): void {
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.dueAt = Infinity;
        this.running = this.run().finally(() => {
          this.running = undefined;
        });
      },
      Math.max(0, at - this.opts.now()),
    );
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const now = this.opts.now();
    const snap = this.opts.snapshot();
    const status = this.status(snap, now);
    const content = JSON.stringify({ ...status, seq: 0, updatedAt: '' });
    const refreshDue = now - this.lastWriteAt >= this.refreshMs;
    this.dirty = false;
    if (content !== this.lastWritten || refreshDue) {
      const t0 = process.hrtime.bigint();
      try {
        await this.write(status);
        this.opts.metrics.reportSeconds.observe({ outcome: 'ok' }, seconds(t0));
        this.opts.metrics.lastReport.set(now / 1000);
        this.lastWriteAt = this.opts.now(); // from the end of a write, so writes start at least an interval apart
        this.lastWritten = content;
        this.failures = 0;
      } catch (err) {
        this.opts.metrics.reportSeconds.observe({ outcome: err instanceof ConflictError ? 'conflict' : 'error' }, seconds(t0));
        this.dirty = true;
        const delay = backoffDelay(this.failures++, this.opts.random, this.opts.backoff);
        this.opts.log.warn({ err, node: this.opts.node, retryInMs: delay }, 'NodeCache status write failed');
        if (!this.stopped) this.schedule(this.opts.now() + delay);
        return;
      }
    }
    if (this.stopped) return;
    this.schedule(this.dirty ? this.lastWriteAt + this.opts.interval() : this.lastWriteAt + this.refreshMs);
  }

  private status(snap: ReturnType<PublisherOptions['snapshot']>, now: number): NodeCacheStatus {
    const snapshot: InventorySnapshot = {
      node: this.opts.node,
      epoch: this.opts.epoch,
      seq: this.seq + 1,
      capacityBytes: snap.capacityBytes,
      usedBytes: snap.usedBytes,
      datasets: snap.datasets.map((d) => d.inventory),
    };
    const blockCounts = new Map(snap.datasets.map((d) => [d.inventory.dataset, d.blockCount]));
    const status = snapshotToNodeCacheStatus(snapshot, { blockCounts, updatedAt: new Date(now) });
    return this.opts.peer ? { ...status, peer: this.opts.peer } : status;
  }

  /** One write of the status: creates the object when missing, re-reads it after a conflict. */
  private async write(status: NodeCacheStatus): Promise<void> {
    const { client, node } = this.opts;
    this.object ??= await client.get(NODE_CACHES, { name: node });
    if (!this.object) this.object = await this.create(status);
    this.object = await this.labelZone(this.object);
    status.seq = ++this.seq;
    try {
      this.object = await client.replaceStatus(NODE_CACHES, { ...this.object, status });
    } catch (err) {
      if (err instanceof ConflictError || err instanceof NotFoundError) this.object = undefined;
      throw err;
    }
  }

  /**
   * With a peer address, the object carries the node's zone as a label, so that agents watch only the
   * NodeCaches of their zone (a label selector); an object written without it is patched. A failed patch
   * refused (403: RBAC without `patch`) is logged once and costs only peer fill from this node, not the inventory.
   */
  private async labelZone(obj: KubeObject): Promise<KubeObject> {
    const peer = this.opts.peer;
    const want = peer?.zone;
    if (!peer || this.labelFailed || obj.metadata.labels?.[ZONE_LABEL] === want) return obj;
    try {
      return await this.opts.client.mergePatch(NODE_CACHES, { name: this.opts.node }, { metadata: { labels: { [ZONE_LABEL]: want ?? null } } });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 403)) throw err; // retried with the write
      this.labelFailed = true;
      this.opts.log.warn({ err, node: this.opts.node }, 'could not label the NodeCache with its zone: agents of the zone will not read from this node');
      return obj;
    }
  }

  private async create(status: NodeCacheStatus): Promise<KubeObject> {
    const { client, node } = this.opts;
    const nodeObj = await client.get(NODES, { name: node });
    if (!nodeObj?.metadata.uid) throw new NotFoundError(404, 'NotFound', `Node "${node}" not found: --node must name the node the agent runs on`);
    const obj = snapshotToNodeCache({ node, epoch: status.epoch, seq: 0, datasets: [] }, { nodeUid: nodeObj.metadata.uid });
    delete (obj as { status?: unknown }).status;
    const zone = this.opts.peer?.zone;
    if (zone !== undefined) obj.metadata.labels = { [ZONE_LABEL]: zone };
    try {
      return await client.create(NODE_CACHES, obj as KubeObject);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      const existing = await client.get(NODE_CACHES, { name: node });
      if (!existing) throw err;
      return existing;
    }
  }
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
