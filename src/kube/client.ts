// KubeClient: the few API calls Locus makes, on plain JSON objects, with typed errors.
// Parts take a KubeClient, so tests hand them one pointed at the in-memory API server.
import type { KubeConfig } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import { NotFoundError } from './errors.js';
import { eventFor, type EventInput, eventKey, eventTime } from './events.js';
import type { KubeList, KubeObject, ObjectRef } from './object.js';
import { apiVersionOf, EVENTS, type ResourceType, resourcePath } from './resources.js';
import { Transport } from './transport.js';

export interface ListOptions {
  /** Omit for all namespaces (or for cluster-scoped types). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Delete only if the object still has this uid / resourceVersion (409 otherwise). */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface KubeClient {
  /** The object, or undefined when it does not exist. */
  get<T extends KubeObject = KubeObject>(res: ResourceType, ref: ObjectRef): Promise<T | undefined>;
  /** Items carry apiVersion and kind (the API server omits them on core lists). */
  list<T extends KubeObject = KubeObject>(res: ResourceType, opts?: ListOptions): Promise<KubeList<T>>;
  /** Throws AlreadyExistsError when the name is taken. */
  create<T extends KubeObject>(res: ResourceType, obj: T): Promise<T>;
  /** Throws ConflictError when obj.metadata.resourceVersion is stale. Status is ignored for types with a status subresource. */
  replace<T extends KubeObject>(res: ResourceType, obj: T): Promise<T>;
  /** Writes only `status`; ConflictError on a stale resourceVersion. */
  replaceStatus<T extends KubeObject>(res: ResourceType, obj: T): Promise<T>;
  /** RFC 7386 merge patch; `null` deletes a field. A patch naming metadata.resourceVersion is conditional. */
  mergePatch<T extends KubeObject = KubeObject>(res: ResourceType, ref: ObjectRef, patch: object): Promise<T>;
  mergePatchStatus<T extends KubeObject = KubeObject>(res: ResourceType, ref: ObjectRef, patch: object): Promise<T>;
  /** Deleting an absent object is not an error. With finalizers the object stays, marked for deletion. */
  delete(res: ResourceType, ref: ObjectRef, opts?: DeleteOptions): Promise<void>;
  /**
   * Records a core/v1 Event about an object (cluster-scoped objects' events go to `default`).
   * A repeat within 10 minutes (same object, type, reason, message, component) bumps the first
   * one's `count` and `lastTimestamp` instead of creating another.
   */
  createEvent(input: EventInput): Promise<void>;
}

export interface KubeClientOptions {
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Sent with every write, recorded in managedFields (default 'locus'). */
  fieldManager?: string;
  userAgent?: string;
  /** Clock for event timestamps (tests). */
  now?: () => Date;
}

export function createKubeClient(kc: KubeConfig, opts: KubeClientOptions = {}): KubeClient {
  const transport = new Transport(kc, opts.timeoutMs ?? 30_000, opts.userAgent ?? 'locus');
  return new RestKubeClient(transport, opts.fieldManager ?? 'locus', opts.now ?? (() => new Date()));
}

class RestKubeClient implements KubeClient {
  /** Events recently created, so that a reconcile loop failing over and over does not flood etcd. */
  private readonly recentEvents = new LRUCache<string, { name: string; namespace: string; count: number }>({ max: 4096, ttl: 10 * 60_000 });

  constructor(
    private readonly transport: Transport,
    private readonly fieldManager: string,
    private readonly now: () => Date,
  ) {}

  async get<T extends KubeObject>(res: ResourceType, ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.transport.request<T>({ method: 'GET', path: resourcePath(res, named(res, ref)) });
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(res: ResourceType, opts: ListOptions = {}): Promise<KubeList<T>> {
    const list = await this.transport.request<KubeList<T>>({
      method: 'GET',
      path: resourcePath(res, { namespace: opts.namespace }),
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
    });
    const apiVersion = apiVersionOf(res);
    list.items = (list.items ?? []).map((item) => ({ ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? res.kind }));
    return list;
  }

  async create<T extends KubeObject>(res: ResourceType, obj: T): Promise<T> {
    const namespace = obj.metadata.namespace;
    if (res.namespaced && !namespace) throw new Error(`${res.kind} ${describe(obj)}: metadata.namespace is required`);
    return this.transport.request<T>({
      method: 'POST',
      path: resourcePath(res, { namespace }),
      query: { fieldManager: this.fieldManager },
      body: typed(res, obj),
    });
  }

  async replace<T extends KubeObject>(res: ResourceType, obj: T): Promise<T> {
    return this.put(res, obj);
  }

  async replaceStatus<T extends KubeObject>(res: ResourceType, obj: T): Promise<T> {
    return this.put(res, obj, 'status');
  }

  async mergePatch<T extends KubeObject>(res: ResourceType, ref: ObjectRef, patch: object): Promise<T> {
    return this.patch<T>(res, ref, patch, 'application/merge-patch+json');
  }

  async mergePatchStatus<T extends KubeObject>(res: ResourceType, ref: ObjectRef, patch: object): Promise<T> {
    return this.patch<T>(res, ref, patch, 'application/merge-patch+json', 'status');
  }

  async delete(res: ResourceType, ref: ObjectRef, opts: DeleteOptions = {}): Promise<void> {
    const body =
      opts.propagationPolicy || opts.preconditions
        ? { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: opts.propagationPolicy, preconditions: opts.preconditions }
        : undefined;
    try {
      await this.transport.request({ method: 'DELETE', path: resourcePath(res, named(res, ref)), body });
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
  }

  async createEvent(input: EventInput): Promise<void> {
    const now = this.now();
    const key = eventKey(input);
    const seen = this.recentEvents.get(key);
    if (seen) {
      try {
        await this.mergePatch(EVENTS, seen, { count: seen.count + 1, lastTimestamp: eventTime(now) });
        seen.count++;
        return;
      } catch (err) {
        // Expired or deleted meanwhile: record it afresh.
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    const event = eventFor(input, now);
    const namespace = event.metadata.namespace!;
    await this.transport.request({ method: 'POST', path: resourcePath(EVENTS, { namespace }), body: event });
    this.recentEvents.set(key, { name: event.metadata.name!, namespace, count: 1 });
  }

  private async put<T extends KubeObject>(res: ResourceType, obj: T, subresource?: string): Promise<T> {
    return this.transport.request<T>({
      method: 'PUT',
      path: resourcePath(res, named(res, obj.metadata), subresource),
      query: { fieldManager: this.fieldManager },
      body: typed(res, obj),
    });
  }

  private async patch<T extends KubeObject>(res: ResourceType, ref: ObjectRef, patch: object, contentType: string, subresource?: string): Promise<T> {
    return this.transport.request<T>({
      method: 'PATCH',
      path: resourcePath(res, named(res, ref), subresource),
      query: { fieldManager: this.fieldManager },
      body: patch,
      contentType,
    });
  }
}

/** The API server requires apiVersion/kind in bodies; callers may omit them. */
function typed<T extends KubeObject>(res: ResourceType, obj: T): T {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(res), kind: obj.kind ?? res.kind };
}

function named(res: ResourceType, ref: ObjectRef): ObjectRef {
  if (!ref.name) throw new Error(`${res.kind}: metadata.name is required`);
  return ref;
}

function describe(obj: KubeObject): string {
  return `"${obj.metadata.name ?? obj.metadata.generateName ?? '?'}"`;
}
