// The fake API server's state: objects, the global resourceVersion, the watch history, finalizers
// and garbage collection. No HTTP here; every failure is a StatusError the router serialises.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, OwnerReference } from '../../../src/kube/object.js';
import { apiVersionOf, type ResourceType } from '../../../src/kube/resources.js';
import { prune, type Schema, violations } from './schema.js';
import type { Selector } from './selectors.js';
import { validate } from './validation.js';
import { StatusError } from './status.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Watcher {
  res: ResourceType;
  namespace?: string;
  matches: Selector;
  send(type: EventType, obj: KubeObject): void;
}

interface HistoryEntry {
  rv: number;
  resId: string;
  type: EventType;
  object: KubeObject;
  /** The version before a MODIFIED, to turn selector transitions into ADDED/DELETED. */
  previous?: KubeObject;
}

export interface DeleteOptions {
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

const jsonClone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const resId = (res: ResourceType) => `${res.plural}.${res.group}`;
const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
/** `pods` or `datasets.locus.dev`, as the API server names resources in messages. */
const qualified = (res: ResourceType) => (res.group ? `${res.plural}.${res.group}` : res.plural);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class Store {
  private rv = 0;
  private readonly resources = new Map<string, ResourceType>();
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private history: HistoryEntry[] = [];
  /** Watches from a resourceVersion below this get 410: their events are gone. */
  private compactedRv = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly schemas = new Map<string, Schema>();
  gc = true;
  /** Refuse objects in namespaces that do not exist, as the real server does. */
  requireNamespaces = false;

  constructor(
    resources: readonly ResourceType[],
    private readonly historyLimit: number,
    private readonly now: () => Date,
  ) {
    for (const res of resources) this.register(res);
  }

  /** Prunes and validates custom resources of `res` by this structural schema from now on. */
  setSchema(res: ResourceType, schema: Schema): void {
    this.schemas.set(resId(res), schema);
  }

  register(res: ResourceType): void {
    this.resources.set(resId(res), res);
    if (!this.data.has(resId(res))) this.data.set(resId(res), new Map());
  }

  allResources(): ResourceType[] {
    return [...this.resources.values()];
  }

  /** By `plural`, `plural.group` or apiVersion+kind. */
  resolve(plural: string): ResourceType | undefined {
    const all = this.allResources();
    return all.find((r) => qualified(r) === plural) ?? all.find((r) => r.plural === plural);
  }

  resolveKind(apiVersion: string | undefined, kind: string | undefined): ResourceType | undefined {
    return this.allResources().find((r) => apiVersionOf(r) === (apiVersion ?? 'v1') && r.kind === kind);
  }

  resourceVersion(): string {
    return String(this.rv);
  }

  get(res: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.bucket(res).get(keyOf(res.namespaced ? namespace : undefined, name));
    return obj && jsonClone(obj);
  }

  /** Sorted by namespace and name, as etcd returns keys. */
  list(res: ResourceType, namespace: string | undefined, matches: Selector): KubeObject[] {
    return [...this.bucket(res).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o)
      .filter((o) => (!namespace || o.metadata.namespace === namespace) && matches(o))
      .map(jsonClone);
  }

  create(res: ResourceType, namespace: string | undefined, body: unknown, dryRun = false): KubeObject {
    const obj = jsonClone(typed(res, this.checkBody(res, body)));
    const meta = obj.metadata;
    if (res.namespaced) {
      if (!namespace) throw new StatusError(405, 'MethodNotAllowed', `create ${qualified(res)} needs a namespace in the path`);
      if (meta.namespace && meta.namespace !== namespace) {
        throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if (!meta.name) {
      if (!meta.generateName) throw this.invalid(res, '', 'metadata.name: Required value: name or generateName is required');
      meta.name = meta.generateName + randomUUID().replace(/-/g, '').slice(0, 5);
    }
    this.checkName(res, meta.name);
    validate(res, obj);
    if (meta.namespace && this.requireNamespaces && !this.findNamespace(meta.namespace)) {
      throw new StatusError(404, 'NotFound', `namespaces "${meta.namespace}" not found`, { name: meta.namespace, kind: 'namespaces' });
    }
    if (this.bucket(res).has(keyOf(meta.namespace, meta.name))) {
      throw new StatusError(409, 'AlreadyExists', `${qualified(res)} "${meta.name}" already exists`, this.details(res, meta.name));
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = this.timestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (res.group) meta.generation = 1;
    else delete meta.generation;
    if (res.statusSubresource && res.kind !== 'Node') {
      // Like the real strategies: a create cannot set status (nodes are the exception).
      delete obj.status;
      const initial = INITIAL_STATUS[res.kind];
      if (initial) obj.status = { ...initial };
    }
    this.conform(res, obj);
    if (dryRun) return obj;
    meta.resourceVersion = String(++this.rv);
    this.bucket(res).set(keyOf(meta.namespace, meta.name), obj);
    this.commit(res, 'ADDED', obj);
    this.checkOwnersSoon(res, obj);
    return jsonClone(obj);
  }

  /** PUT of the object or its status. */
  update(res: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource?: 'status'): KubeObject {
    const current = this.mustGet(res, namespace, name);
    const proposed = this.checkBody(res, body);
    if (proposed.metadata.name !== undefined && proposed.metadata.name !== name) {
      throw new StatusError(400, 'BadRequest', `the name of the object (${proposed.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (res.namespaced && proposed.metadata.namespace && proposed.metadata.namespace !== namespace) {
      throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const rv = proposed.metadata.resourceVersion;
    if (!rv && res.group) {
      // Custom resources refuse unconditional updates.
      throw new StatusError(
        422,
        'Invalid',
        `${qualified(res)} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`,
        this.details(res, name),
      );
    }
    return this.write(res, current, proposed, subresource, rv || undefined);
  }

  /** PATCH: `patched` is the current object with the patch applied. */
  patch(res: ResourceType, current: KubeObject, patched: KubeObject, subresource?: 'status'): KubeObject {
    // A patch that names a resourceVersion makes the write conditional on it.
    return this.write(res, current, patched, subresource, patched.metadata?.resourceVersion);
  }

  /** Sets spec.nodeName once, as pods/binding does. */
  bind(res: ResourceType, namespace: string, name: string, body: unknown): void {
    const pod = this.mustGet(res, namespace, name);
    const target = (body as { target?: { name?: string } } | undefined)?.target?.name;
    if (!target) throw this.invalid(res, name, 'target.name: Required value');
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (spec.nodeName) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${spec.nodeName}"`,
      );
    }
    const next = jsonClone(pod);
    next.spec = { ...spec, nodeName: target };
    this.commitUpdate(res, pod, next);
  }

  /** DELETE: marks objects with finalizers, removes the rest (and collects their dependents). */
  delete(res: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject {
    const current = this.mustGet(res, namespace, name);
    const pre = opts.preconditions ?? {};
    if ((pre.uid && pre.uid !== current.metadata.uid) || (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(res)} "${name}": Precondition failed: the object's uid or resourceVersion changed`,
        this.details(res, name),
      );
    }
    if (opts.propagationPolicy === 'Orphan') this.orphanDependents(current.metadata.uid!);
    if (current.metadata.finalizers?.length) {
      if (current.metadata.deletionTimestamp) return current;
      const next = jsonClone(current);
      next.metadata.deletionTimestamp = this.timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (next.metadata.generation !== undefined) next.metadata.generation += 1;
      return this.commitUpdate(res, current, next);
    }
    return this.remove(res, current);
  }

  /** Seeds an object as-is (status included), creating or overwriting without preconditions. */
  put(obj: KubeObject): KubeObject {
    const res = this.resolveKind(obj.apiVersion, obj.kind);
    if (!res) throw new Error(`no resource registered for ${obj.apiVersion ?? 'v1'} ${obj.kind}`);
    const next = jsonClone(typed(res, obj));
    const meta = next.metadata;
    if (!meta?.name) throw new Error('put: metadata.name is required');
    if (res.namespaced && !meta.namespace) throw new Error(`put: ${res.kind} "${meta.name}" needs metadata.namespace`);
    if (!res.namespaced) delete meta.namespace;
    const current = this.bucket(res).get(keyOf(meta.namespace, meta.name));
    meta.uid ??= current?.metadata.uid ?? randomUUID();
    meta.creationTimestamp ??= current?.metadata.creationTimestamp ?? this.timestamp();
    if (res.group) meta.generation ??= current?.metadata.generation ?? 1;
    meta.resourceVersion = String(++this.rv);
    this.bucket(res).set(keyOf(meta.namespace, meta.name), next);
    this.commit(res, current ? 'MODIFIED' : 'ADDED', next, current);
    return jsonClone(next);
  }

  /** Removes an object at once, ignoring finalizers (dependents are still collected). */
  forceRemove(res: ResourceType, namespace: string | undefined, name: string): boolean {
    const current = this.bucket(res).get(keyOf(res.namespaced ? namespace : undefined, name));
    if (!current) return false;
    this.remove(res, current);
    return true;
  }

  /** Streams events after `fromRv` (or the current state as ADDED when unset/"0"), then live ones. */
  watch(w: Watcher, fromRv: string | undefined): () => void {
    if (!fromRv || fromRv === '0') {
      for (const obj of this.list(w.res, w.namespace, w.matches)) w.send('ADDED', obj);
    } else {
      const from = Number(fromRv);
      if (!Number.isInteger(from) || from < 0) throw new StatusError(400, 'BadRequest', `invalid resource version: ${fromRv}`);
      if (from < this.compactedRv) {
        throw new StatusError(410, 'Expired', `too old resource version: ${from} (${this.compactedRv + 1})`);
      }
      for (const entry of this.history) if (entry.rv > from) this.deliver(w, entry);
    }
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** Forgets the watch history, as etcd compaction does: older watches then get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  private write(res: ResourceType, current: KubeObject, proposed: KubeObject, subresource: 'status' | undefined, rv: string | undefined): KubeObject {
    const name = current.metadata.name!;
    if (rv !== undefined && rv !== current.metadata.resourceVersion) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(res)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        this.details(res, name),
      );
    }
    if (proposed.metadata?.uid && proposed.metadata.uid !== current.metadata.uid) {
      throw new StatusError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${proposed.metadata.uid}, UID in object meta: ${current.metadata.uid}`,
        this.details(res, name),
      );
    }
    let next: KubeObject;
    if (subresource === 'status') {
      // Only status changes through /status.
      next = jsonClone(current);
      if (proposed.status === undefined) delete next.status;
      else next.status = jsonClone(proposed.status);
      this.conform(res, next);
    } else {
      next = jsonClone(typed(res, proposed));
      next.metadata = { ...next.metadata };
      for (const field of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        if (current.metadata[field] === undefined) delete next.metadata[field];
        else next.metadata[field] = current.metadata[field] as never;
      }
      if (res.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = jsonClone(current.status);
      }
      validate(res, next, current);
      this.conform(res, next);
      if (current.metadata.deletionTimestamp) {
        const added = (next.metadata.finalizers ?? []).filter((f) => !(current.metadata.finalizers ?? []).includes(f));
        if (added.length) {
          throw this.invalid(
            res,
            name,
            `metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
          );
        }
      }
      if (res.group && !isDeepStrictEqual(withoutMetaAndStatus(current), withoutMetaAndStatus(next))) {
        next.metadata.generation = (current.metadata.generation ?? 0) + 1;
      }
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.commitUpdate(res, current, next);
  }

  /** Applies the resource's CRD schema, if it has one: prunes unknown fields in place, then validates. */
  private conform(res: ResourceType, obj: KubeObject): void {
    const schema = this.schemas.get(resId(res));
    if (!schema) return;
    const pruned = prune(obj, schema) as KubeObject;
    for (const key of Object.keys(obj)) delete obj[key];
    Object.assign(obj, pruned);
    const errors = violations(obj, schema);
    if (errors.length) throw this.invalid(res, obj.metadata.name ?? '', errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
  }

  /** Stores a changed object (a write that changes nothing is not an event), removing it once finalized. */
  private commitUpdate(res: ResourceType, current: KubeObject, next: KubeObject): KubeObject {
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (isDeepStrictEqual(jsonClone(next), current)) return jsonClone(current);
    next.metadata.resourceVersion = String(++this.rv);
    this.bucket(res).set(keyOf(next.metadata.namespace, next.metadata.name!), next);
    this.commit(res, 'MODIFIED', next, current);
    this.checkOwnersSoon(res, next);
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) this.remove(res, next);
    return jsonClone(next);
  }

  private remove(res: ResourceType, obj: KubeObject): KubeObject {
    const key = keyOf(obj.metadata.namespace, obj.metadata.name!);
    if (!this.bucket(res).delete(key)) return jsonClone(obj);
    const gone = jsonClone(obj);
    gone.metadata.resourceVersion = String(++this.rv);
    this.commit(res, 'DELETED', gone);
    if (this.gc) {
      this.collectDependents(gone.metadata.uid!);
      if (res.group === '' && res.plural === 'namespaces') this.emptyNamespace(gone.metadata.name!);
    }
    return gone;
  }

  /** The garbage collector: dependents left without a live owner are deleted (cascading). */
  private collectDependents(uid: string): void {
    for (const [res, dep] of this.dependentsOf(uid)) {
      const current = this.bucket(res).get(keyOf(dep.metadata.namespace, dep.metadata.name!));
      if (!current) continue;
      const remaining = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      if (remaining.some((r) => this.findByUid(r.uid))) {
        const next = jsonClone(current);
        next.metadata.ownerReferences = remaining;
        this.commitUpdate(res, current, next);
      } else {
        this.delete(res, current.metadata.namespace, current.metadata.name!);
      }
    }
  }

  /**
   * The garbage collector also deletes an object written with owners that do not exist (owner
   * references are by uid), a moment after the write. Owners of kinds the server does not serve
   * cannot be checked and count as present.
   */
  private checkOwnersSoon(res: ResourceType, obj: KubeObject): void {
    if (!this.gc || !obj.metadata.ownerReferences?.length) return;
    const { namespace, name, uid } = obj.metadata;
    setImmediate(() => {
      const current = this.bucket(res).get(keyOf(namespace, name!));
      if (!this.gc || !current || current.metadata.uid !== uid) return;
      const refs = current.metadata.ownerReferences ?? [];
      const absent = refs.filter((r) => this.resolveKind(r.apiVersion, r.kind) && !this.findByUid(r.uid));
      if (absent.length === 0) return;
      if (absent.length === refs.length) {
        this.delete(res, namespace, name!);
        return;
      }
      const next = jsonClone(current);
      next.metadata.ownerReferences = refs.filter((r) => !absent.includes(r));
      this.commitUpdate(res, current, next);
    });
  }

  private findNamespace(name: string): boolean {
    const namespaces = this.allResources().find((r) => r.group === '' && r.plural === 'namespaces');
    return namespaces !== undefined && this.bucket(namespaces).has(keyOf(undefined, name));
  }

  private orphanDependents(uid: string): void {
    for (const [res, dep] of this.dependentsOf(uid)) {
      const next = jsonClone(dep);
      next.metadata.ownerReferences = (dep.metadata.ownerReferences ?? []).filter((r: OwnerReference) => r.uid !== uid);
      if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
      this.commitUpdate(res, dep, next);
    }
  }

  /** The namespace controller: deleting a namespace deletes what is in it. */
  private emptyNamespace(namespace: string): void {
    for (const res of this.allResources().filter((r) => r.namespaced)) {
      for (const obj of this.list(res, namespace, () => true)) {
        if (this.bucket(res).has(keyOf(namespace, obj.metadata.name!))) this.delete(res, namespace, obj.metadata.name!);
      }
    }
  }

  private dependentsOf(uid: string): [ResourceType, KubeObject][] {
    const found: [ResourceType, KubeObject][] = [];
    for (const res of this.allResources()) {
      for (const obj of this.bucket(res).values()) {
        if (obj.metadata.ownerReferences?.some((r) => r.uid === uid)) found.push([res, obj]);
      }
    }
    return found;
  }

  private findByUid(uid: string): KubeObject | undefined {
    for (const bucket of this.data.values()) {
      for (const obj of bucket.values()) if (obj.metadata.uid === uid) return obj;
    }
    return undefined;
  }

  private commit(res: ResourceType, type: EventType, object: KubeObject, previous?: KubeObject): void {
    const entry: HistoryEntry = { rv: Number(object.metadata.resourceVersion), resId: resId(res), type, object: jsonClone(object), previous };
    this.history.push(entry);
    // Trimmed in batches so that a long run of writes costs amortised O(1) each.
    if (this.history.length >= 2 * this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRv = dropped[dropped.length - 1].rv;
    }
    for (const w of [...this.watchers]) this.deliver(w, entry);
  }

  /** What a watcher sees of an event, given its namespace and selectors. */
  private deliver(w: Watcher, entry: HistoryEntry): void {
    if (resId(w.res) !== entry.resId) return;
    if (w.namespace && entry.object.metadata.namespace !== w.namespace) return;
    const now = w.matches(entry.object);
    const before = entry.previous !== undefined && w.matches(entry.previous);
    if (entry.type === 'MODIFIED') {
      if (now && before) w.send('MODIFIED', entry.object);
      else if (now) w.send('ADDED', entry.object);
      else if (before) w.send('DELETED', entry.object);
    } else if (now) {
      w.send(entry.type, entry.object);
    }
  }

  private mustGet(res: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.get(res, namespace, name);
    if (!obj) throw new StatusError(404, 'NotFound', `${qualified(res)} "${name}" not found`, this.details(res, name));
    return obj;
  }

  private checkBody(res: ResourceType, body: unknown): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new StatusError(400, 'BadRequest', 'the request body must be a JSON object');
    }
    const obj = body as KubeObject;
    if (typeof obj.metadata !== 'object' || obj.metadata === null) throw this.invalid(res, '', 'metadata: Required value');
    if ((obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(res)) || (obj.kind !== undefined && obj.kind !== res.kind)) {
      throw new StatusError(
        400,
        'BadRequest',
        `the API version in the data (${obj.apiVersion}) or kind (${obj.kind}) does not match the expected ${apiVersionOf(res)} ${res.kind}`,
      );
    }
    return obj;
  }

  private checkName(res: ResourceType, name: string): void {
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      throw this.invalid(
        res,
        name,
        `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      );
    }
  }

  /** `ConfigMap "x" is invalid: …`, `Dataset.locus.dev "x" is invalid: …`, as the server words it. */
  private invalid(res: ResourceType, name: string, cause: string): StatusError {
    const kind = res.group ? `${res.kind}.${res.group}` : res.kind;
    return new StatusError(422, 'Invalid', `${kind} "${name}" is invalid: ${cause}`, this.details(res, name));
  }

  private details(res: ResourceType, name: string) {
    return { name, group: res.group || undefined, kind: res.plural };
  }

  private bucket(res: ResourceType): Map<string, KubeObject> {
    const bucket = this.data.get(resId(res));
    if (!bucket) throw new Error(`resource ${qualified(res)} is not registered`);
    return bucket;
  }

  private timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
  }
}

/** What the real strategies put in status on create. */
const INITIAL_STATUS: Record<string, Record<string, unknown>> = {
  Pod: { phase: 'Pending' },
  Namespace: { phase: 'Active' },
  PersistentVolumeClaim: { phase: 'Pending' },
  PersistentVolume: { phase: 'Pending' },
};

/** The object with the resource's apiVersion and kind, listed first as the API server writes them. */
function typed(res: ResourceType, obj: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: undefined, kind: undefined, ...obj };
  out.apiVersion = apiVersionOf(res);
  out.kind = res.kind;
  return out;
}

/** The part of an object whose change bumps metadata.generation. */
function withoutMetaAndStatus(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}
