// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the holder
// renews `spec.renewTime` well within `leaseDurationSeconds`; another candidate takes the Lease over only
// after it has seen the same record unchanged for a whole lease duration on its own clock (so clocks of
// different machines need not agree), and every write is conditional on the resourceVersion it read, so
// two candidates never both win. Releasing empties the holder, so the next candidate need not wait.
import { AlreadyExistsError, ConflictError } from './errors.js';
import type { KubeClient } from './client.js';
import type { KubeObject } from './object.js';
import { LEASES } from './resources.js';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export type Lease = KubeObject & { spec?: LeaseSpec };

export interface LeaseLockOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** This candidate, unique among all (e.g. pod name and a random suffix). */
  identity: string;
  durationMs: number;
  now: () => number;
}

export class LeaseLock {
  /** The record last read and when (on our clock) it last changed. */
  private observed: { key: string; at: number } | undefined;
  private held = false;

  constructor(private readonly opts: LeaseLockOptions) {}

  get isHolder(): boolean {
    return this.held;
  }

  /** Acquires the Lease or renews it; true while this candidate holds it. Throws on API errors other than conflicts. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity, durationMs, now } = this.opts;
    const t = now();
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(durationMs / 1000)),
      acquireTime: microTime(t),
      renewTime: microTime(t),
      leaseTransitions: 0,
    };
    const current = await client.get<Lease>(LEASES, { namespace, name });
    if (!current) {
      try {
        await client.create<Lease>(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace, name }, spec });
        return this.won(true, t, spec);
      } catch (err) {
        if (err instanceof AlreadyExistsError) return this.won(false);
        throw err;
      }
    }
    const old = current.spec ?? {};
    const key = JSON.stringify([old.holderIdentity, old.renewTime, old.leaseDurationSeconds, old.leaseTransitions]);
    if (this.observed?.key !== key) this.observed = { key, at: t };
    const holder = old.holderIdentity ?? '';
    const mine = holder === identity;
    const expired = this.observed.at + (old.leaseDurationSeconds ?? 0) * 1000 <= t;
    if (holder !== '' && !mine && !expired) return this.won(false);
    const next: LeaseSpec = mine
      ? { ...old, renewTime: spec.renewTime, leaseDurationSeconds: spec.leaseDurationSeconds }
      : { ...spec, leaseTransitions: (old.leaseTransitions ?? 0) + 1 };
    try {
      await client.replace<Lease>(LEASES, { ...current, spec: next });
      return this.won(true, t, next);
    } catch (err) {
      if (err instanceof ConflictError) return this.won(false);
      throw err;
    }
  }

  /** Gives the Lease up when this candidate holds it (best effort: it expires anyway). */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const { client, namespace, name, identity } = this.opts;
    const current = await client.get<Lease>(LEASES, { namespace, name });
    if (!current || current.spec?.holderIdentity !== identity) return;
    try {
      await client.replace<Lease>(LEASES, { ...current, spec: { ...current.spec, holderIdentity: null, leaseDurationSeconds: 1 } });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  private won(held: boolean, at?: number, spec?: LeaseSpec): boolean {
    this.held = held;
    if (held && at !== undefined && spec) {
      this.observed = { key: JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds, spec.leaseTransitions]), at };
    }
    return held;
  }
}

export interface LeaderElectionOptions extends Omit<LeaseLockOptions, 'now'> {
  /** How often candidates try and the leader renews; at most a third of durationMs. */
  retryMs: number;
  now?: () => number;
  onChange(leading: boolean): void;
  onError?(err: unknown): void;
}

/**
 * Runs a LeaseLock until stopped: tries every `retryMs`, reports each change of leadership. A leader
 * that fails to renew for a lease duration steps down (another candidate may hold it by then).
 */
export class LeaderElection {
  private readonly lock: LeaseLock;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private running = false;
  private round: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly opts: LeaderElectionOptions) {
    if (!(opts.retryMs * 3 <= opts.durationMs)) throw new RangeError(`retryMs (${opts.retryMs}) must be at most a third of durationMs (${opts.durationMs})`);
    this.now = opts.now ?? Date.now;
    this.lock = new LeaseLock({ ...opts, now: this.now });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Stops trying; a leader releases the Lease. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.round;
    this.set(false);
    await this.lock.release().catch((err: unknown) => this.opts.onError?.(err));
  }

  private tick(): void {
    this.round = this.lock.tryAcquireOrRenew().then(
      (held) => {
        if (held) this.lastRenew = this.now();
        if (this.running) this.set(held);
      },
      (err: unknown) => {
        this.opts.onError?.(err);
        // Step down before any other candidate can take over (it waits a whole duration from our last renewal).
        if (this.leading && this.now() - this.lastRenew >= (this.opts.durationMs * 2) / 3) this.set(false);
      },
    );
    void this.round.then(() => {
      if (this.running) this.timer = setTimeout(() => this.tick(), this.opts.retryMs);
    });
  }

  private set(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.opts.onChange(leading);
  }
}

/** metav1.MicroTime on the wire: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
