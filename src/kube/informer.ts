// A watch-backed cache of one resource type on client-node's ListWatch (what makeInformer builds),
// plus what it lacks: ListWatch gives up for good on a failed list or a broken watch, so this
// restarts it with exponential backoff and jitter until stop(), resuming from the last
// resourceVersion (the server answers 410 Gone when that is too old, and ListWatch then relists).
import { type KubeConfig, type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { KubeClient } from './client.js';
import type { KubeObject, ObjectRef } from './object.js';
import { type ResourceType, resourcePath } from './resources.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions {
  resource: ResourceType;
  /** Watch one namespace only (namespaced types); default all. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  backoff?: BackoffOptions;
  /** Jitter source (default Math.random). */
  random?: () => number;
  /** Called once per restart after an error: the metrics hook (e.g. a restarts counter). */
  onRestart?: (err: unknown, attempt: number, delayMs: number) => void;
  /** A handler threw; the informer carries on (default: ignore). */
  onHandlerError?: (err: unknown, event: InformerEvent, obj: KubeObject) => void;
}

type Handler<T> = (obj: T, old: T | undefined) => void;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly lw: ListWatch<KubernetesObject>;
  private readonly handlers: Record<InformerEvent, Handler<T>[]> = { add: [], update: [], delete: [] };
  /** Last object delivered per key, so update handlers also get the previous version. */
  private readonly last = new Map<string, T>();
  private running = false;
  private synced = false;
  private listedThisRun = false;
  private failedThisRun = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> = Promise.resolve();
  private syncWaiters: (() => void)[] = [];

  constructor(
    kc: KubeConfig,
    client: KubeClient,
    private readonly opts: InformerOptions,
  ) {
    const { resource, namespace, labelSelector, fieldSelector } = opts;
    const listFn = async () => {
      const list = await client.list(resource, { namespace, labelSelector, fieldSelector });
      this.listedThisRun = true;
      return list as unknown as { metadata: { resourceVersion?: string }; items: KubernetesObject[] };
    };
    this.lw = new ListWatch(resourcePath(resource, { namespace }), new Watch(kc), listFn, false, labelSelector, fieldSelector);
    this.lw.on('add', (o) => this.deliver('add', o as unknown as T));
    this.lw.on('update', (o) => this.deliver('update', o as unknown as T));
    this.lw.on('delete', (o) => this.deliver('delete', o as unknown as T));
    this.lw.on('error', (err) => this.failed(err));
  }

  /** Registers a handler; `old` is the previously seen version (update) or the last known one (delete). */
  on(event: InformerEvent, handler: Handler<T>): this {
    this.handlers[event].push(handler);
    return this;
  }

  /** Lists, then watches; returns at once. Safe to call again after stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.launch();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.lw.stop();
    // ListWatch checks for stop only before it lists: a run caught mid-list would still open a
    // watch afterwards, so wait for it and stop again.
    await this.inflight;
    await this.lw.stop();
  }

  /** True once the first full list has been delivered to the handlers (and stays true). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when hasSynced() becomes true. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(ref: ObjectRef): T | undefined {
    return this.lw.get(ref.name ?? '', this.opts.resource.namespaced ? ref.namespace : undefined) as unknown as T | undefined;
  }

  list(namespace?: string): T[] {
    return this.lw.list(namespace) as unknown as T[];
  }

  private launch(): void {
    this.inflight = this.run();
  }

  private async run(): Promise<void> {
    this.listedThisRun = false;
    this.failedThisRun = false;
    try {
      await this.lw.start();
    } catch (err) {
      // e.g. an exec credential plugin failing before any request is sent
      this.failed(err);
    }
    if (!this.running) return;
    if (this.listedThisRun && !this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    // A run that reached the watch without error resets the backoff.
    if (!this.failedThisRun) this.attempt = 0;
  }

  private failed(err: unknown): void {
    this.failedThisRun = true;
    // ListWatch reports the abort of its own request on stop(); that is not a failure.
    if (!this.running || this.timer) return;
    const delay = backoffDelay(this.attempt, this.opts.random ?? Math.random, this.opts.backoff);
    this.opts.onRestart?.(err, this.attempt, delay);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) this.launch();
    }, delay);
  }

  private deliver(event: InformerEvent, obj: T): void {
    if (!this.running) return;
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
    const old = this.last.get(key);
    if (event === 'delete') this.last.delete(key);
    else this.last.set(key, obj);
    for (const handler of this.handlers[event]) {
      try {
        handler(obj, old);
      } catch (err) {
        this.opts.onHandlerError?.(err, event, obj);
      }
    }
  }
}
