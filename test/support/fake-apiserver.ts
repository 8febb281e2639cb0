/*
 * FakeApiServer: an in-memory Kubernetes API server on real HTTP (127.0.0.1, random port) that
 * @kubernetes/client-node and src/kube talk to unmodified. Use it instead of a cluster in tests.
 *
 *   const api = await FakeApiServer.start();             // core v1 + locus.dev/v1alpha1 registered
 *   const kc = api.kubeconfig();                          // client-node KubeConfig (or api.writeKubeconfig())
 *   const client = createKubeClient(kc);                  // src/kube/client.ts
 *   api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, status: {...} });
 *   ...
 *   await api.close();
 *
 * Resources: nodes, pods (+ pods/binding), secrets, configmaps, persistentvolumeclaims,
 * persistentvolumes, events, namespaces (core v1); datasets (namespaced) and nodecaches (cluster)
 * in locus.dev/v1alpha1, jobs (batch/v1), leases (coordination.k8s.io/v1); more with
 * register(ResourceType) or registerCrd(crdObject). loadCrds('crds')
 * (or registerCrd with a schema) makes custom resources behave as their CRD says: unknown fields
 * pruned silently, then validated (type, required, enum, bounds, lengths, pattern, anyOf/allOf) → 422.
 * Discovery: /api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v>, /version, /healthz.
 *
 * Semantics, as the real server (test/kube/fidelity.test.ts sends the same requests and watches to
 * the fake and to a real 1.20 kube-apiserver and expects the same answers: run it with
 * LOCUS_REAL_KUBECONFIG=<admin kubeconfig of a disposable cluster with crds/ applied>):
 * - one global, monotonically increasing resourceVersion; lists carry metadata.resourceVersion;
 *   core list items carry no apiVersion/kind (custom resource items do); items sorted by namespace/name.
 * - create: 201; uid, creationTimestamp, resourceVersion set; generateName honoured; name must be a
 *   DNS subdomain (422); taken name → 409 AlreadyExists; status dropped for types with a status
 *   subresource (nodes keep it; pods/PVCs/PVs start Pending, namespaces Active); ?dryRun=All.
 * - get: 404 `Status` (reason NotFound). Unknown paths: 404.
 * - update (PUT): stale metadata.resourceVersion → 409 Conflict; custom resources require a
 *   resourceVersion (422); a write that changes nothing does not bump resourceVersion or emit an event.
 * - status subresource (pods, nodes, PVCs, PVs, namespaces, datasets, nodecaches): PUT/PATCH on
 *   `/status` change only status; writes to the main resource ignore status.
 * - metadata.generation (custom resources): 1 on create, +1 when anything but metadata/status changes.
 * - PATCH: merge-patch+json, the only patch Locus sends (other content types → 415). A patch that
 *   names metadata.resourceVersion is conditional (409 when stale).
 * - DELETE: objects with finalizers get deletionTimestamp (generation +1) and stay until an update
 *   empties finalizers; new finalizers cannot be added then (422). DeleteOptions preconditions
 *   (uid/resourceVersion) and propagationPolicy (Orphan strips owner references; Foreground acts as
 *   Background). DELETE on a collection deletes what matches the selectors.
 * - garbage collection (on by default, setGarbageCollection(false) to mimic a cluster without
 *   controller-manager): when an object goes, dependents (ownerReferences by uid) with no other
 *   live owner are deleted, cascading and honouring their finalizers; deleting a namespace deletes
 *   its contents. An object created or updated through the API with owners that do not exist (no
 *   object with that uid) is deleted a moment later (setImmediate), or loses the dangling references
 *   if another owner lives; owners of unregistered kinds count as present. put() seeds are not checked.
 * - watch (?watch=true|1): newline-delimited {type, object}; ADDED/MODIFIED/DELETED; from
 *   `resourceVersion` replays only newer events; unset or "0" starts with ADDED for the current
 *   state; a resourceVersion older than the kept history (compact(), or historyLimit) → one ERROR
 *   event (Status 410, reason Expired) and the stream ends; objects moving into/out of a selector
 *   arrive as ADDED/DELETED; `timeoutSeconds` ends the stream; `allowWatchBookmarks=true` gets
 *   BOOKMARK events every bookmarkIntervalMs (and on bookmark()).
 * - labelSelector: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
 *   fieldSelector: `=`/`==`/`!=` on metadata.name, metadata.namespace and the fields the real
 *   server indexes for core types (e.g. pods spec.nodeName, status.phase); others → 400.
 * - validation a real server applies to Locus's writes: label keys/values, string-only labels,
 *   annotations and ConfigMap data (400), Secret data must be base64 (400) and stringData is folded
 *   into data, Secret type immutable, Event namespace must match involvedObject.namespace (or be
 *   `default` for cluster-scoped objects), PVC spec immutable except resources.requests and a first
 *   volumeName (422), namespace names are DNS labels.
 * - optional bearer token check (401); optional HTTPS (tls: true) with a self-signed certificate
 *   that kubeconfig()/writeKubeconfig() carry as certificate-authority-data.
 * Not modelled: namespaces need not exist unless requireNamespaces is set; no admission; custom
 * resources are schema-checked only after loadCrds/registerCrd, and only with the keywords crds/ use (no
 * formats, no list-type uniqueness); no defaulting; no managedFields; no strategic-merge, JSON or apply
 * patches; no pagination (limit is ignored; all items returned), no graceful pod deletion.
 *
 * Options: FakeApiServer.start({ garbageCollection, requireNamespaces, historyLimit, token, tls,
 * bookmarkIntervalMs, now, port, resources }).
 * Test hooks: closeWatches(), failNext(n, {code?, delayMs?, reason?, message?, verb?, resource?}), compact(),
 * bookmark(), objects(plural, ns?), object(plural, name, ns?), put(obj), delete(plural, name, ns?),
 * setGarbageCollection(on), goOffline()/goOnline() (same port, state kept), requests (log),
 * openWatchCount(), resourceVersion(), loadCrds(dir), registerCrd(crd), register(res), caCert.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { generate } from 'selfsigned';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../src/kube/object.js';
import { ALL_RESOURCES, type ResourceType } from '../../src/kube/resources.js';
import { type Injection, type RequestRecord, Router } from './fake-apiserver/router.js';
import type { Schema } from './fake-apiserver/schema.js';
import { Store } from './fake-apiserver/store.js';

export type { Injection, RequestRecord } from './fake-apiserver/router.js';

export interface FakeApiServerOptions {
  /** Resources in addition to the default set (core v1 and locus.dev). */
  resources?: ResourceType[];
  /** Simulate the garbage collector and namespace controller (default true). */
  garbageCollection?: boolean;
  /** Refuse (404) objects in a namespace that does not exist (default false: any namespace works). */
  requireNamespaces?: boolean;
  /** Watch events kept for resuming watches (at least this many, default 10,000); older resourceVersions get 410. */
  historyLimit?: number;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Interval of BOOKMARK events on watches that allow them (default 0: only on bookmark()). */
  bookmarkIntervalMs?: number;
  /** Clock for creationTimestamp/deletionTimestamp. */
  now?: () => Date;
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Serve HTTPS with a fresh self-signed certificate for 127.0.0.1; kubeconfigs then carry it as their CA. */
  tls?: boolean;
}

type PluralOrResource = string | ResourceType;

export class FakeApiServer {
  private readonly store: Store;
  private readonly router: Router;
  private server: Server | undefined;
  private port = 0;
  private pem: { cert: string; key: string } | undefined;

  private constructor(private readonly opts: FakeApiServerOptions) {
    this.store = new Store([...ALL_RESOURCES, ...(opts.resources ?? [])], opts.historyLimit ?? 10_000, opts.now ?? (() => new Date()));
    this.store.gc = opts.garbageCollection ?? true;
    this.store.requireNamespaces = opts.requireNamespaces ?? false;
    this.router = new Router(this.store, { token: opts.token, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 0 });
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const api = new FakeApiServer(opts);
    api.port = opts.port ?? 0;
    if (opts.tls) api.pem = await selfSignedFor127();
    await api.goOnline();
    return api;
  }

  /** `http://127.0.0.1:<port>` (https with the tls option) */
  get url(): string {
    return `${this.pem ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The serving certificate (PEM) with the tls option: the CA a client must trust. */
  get caCert(): string | undefined {
    return this.pem?.cert;
  }

  /** Every request received, in order (method, path, query, verb, resource, content type, answer code). */
  get requests(): RequestRecord[] {
    return this.router.requests;
  }

  /** A client-node KubeConfig for this server; `namespace` becomes the context's default namespace. */
  kubeconfig(opts: { namespace?: string } = {}): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        this.pem
          ? { name: 'fake', server: this.url, caData: Buffer.from(this.pem.cert).toString('base64'), skipTLSVerify: false }
          : // client-node refuses plain http unless TLS verification is explicitly off
            { name: 'fake', server: this.url, skipTLSVerify: true },
      ],
      users: [{ name: 'fake', token: this.opts.token ?? 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: opts.namespace }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Writes the kubeconfig as YAML (to `path`, or a fresh temporary file) and returns its path. */
  writeKubeconfig(path?: string, opts: { namespace?: string } = {}): string {
    const file = path ?? join(mkdtempSync(join(tmpdir(), 'locus-kubeconfig-')), 'config');
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'fake',
          cluster: this.pem
            ? { server: this.url, 'certificate-authority-data': Buffer.from(this.pem.cert).toString('base64') }
            : { server: this.url, 'insecure-skip-tls-verify': true },
        },
      ],
      users: [{ name: 'fake', user: { token: this.opts.token ?? 'fake-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
      'current-context': 'fake',
    };
    writeFileSync(file, stringify(doc));
    return file;
  }

  register(res: ResourceType): void {
    this.store.register(res);
  }

  /**
   * Registers the resource a CustomResourceDefinition object declares; with an openAPIV3Schema,
   * writes are pruned and validated by it as a real server does.
   */
  registerCrd(crd: unknown): ResourceType {
    const spec = (crd as { spec?: CrdSpec }).spec;
    const version = spec?.versions?.find((v) => v.storage) ?? spec?.versions?.[0];
    if (!spec?.group || !spec.names?.plural || !spec.names.kind || !version?.name) {
      throw new Error('registerCrd: expected a CustomResourceDefinition with spec.group, spec.names.plural/kind and spec.versions');
    }
    const res: ResourceType = {
      group: spec.group,
      version: version.name,
      plural: spec.names.plural,
      kind: spec.names.kind,
      namespaced: spec.scope !== 'Cluster',
      statusSubresource: version.subresources?.status !== undefined,
    };
    this.register(res);
    if (version.schema?.openAPIV3Schema) this.store.setSchema(res, version.schema.openAPIV3Schema);
    return res;
  }

  /** registerCrd() for every CustomResourceDefinition in the YAML files of `dir` (e.g. the repo's crds/). */
  loadCrds(dir: string): ResourceType[] {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as { kind?: string }))
      .filter((doc) => doc?.kind === 'CustomResourceDefinition')
      .map((doc) => this.registerCrd(doc));
  }

  /** Copies of the stored objects of a resource (`plural`, `plural.group` or a ResourceType), sorted by namespace/name. */
  objects<T extends KubeObject = KubeObject>(resource: PluralOrResource, namespace?: string): T[] {
    return this.store.list(this.resource(resource), namespace, () => true) as T[];
  }

  object<T extends KubeObject = KubeObject>(resource: PluralOrResource, name: string, namespace?: string): T | undefined {
    return this.store.get(this.resource(resource), namespace, name) as T | undefined;
  }

  /** Seeds an object (by apiVersion/kind) as given, status included: creates or overwrites, emitting the watch event. */
  put<T extends KubeObject = KubeObject>(obj: KubeObject): T {
    return this.store.put(obj) as T;
  }

  /** Removes an object at once, ignoring finalizers (garbage collection still runs). False if absent. */
  delete(resource: PluralOrResource, name: string, namespace?: string): boolean {
    return this.store.forceRemove(this.resource(resource), namespace, name);
  }

  setGarbageCollection(on: boolean): void {
    this.store.gc = on;
  }

  /**
   * Makes the next `times` matching resource requests fail with `code` (as a Status), after
   * `delayMs` if given; with only `delayMs` they are slow but served.
   */
  failNext(times: number, injection: Injection): void {
    this.router.inject(times, injection);
  }

  /** Ends every open watch stream cleanly (clients see the stream close); returns how many. */
  closeWatches(): number {
    const open = [...this.router.watches];
    open.forEach((w) => w.end());
    return open.length;
  }

  openWatchCount(): number {
    return this.router.watches.size;
  }

  /** Sends a BOOKMARK with the current resourceVersion on every open watch. */
  bookmark(): void {
    this.router.watches.forEach((w) => w.bookmark());
  }

  /** Forgets the watch history: watches resuming from an older resourceVersion get 410 Expired. */
  compact(): void {
    this.store.compact();
  }

  resourceVersion(): string {
    return this.store.resourceVersion();
  }

  /** Stops listening and drops every connection (watches break mid-stream); state is kept. */
  async goOffline(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Listens again, on the same port once one was assigned. */
  async goOnline(): Promise<void> {
    if (this.server) return;
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.router.handle(req, res);
    const server = this.pem ? createHttpsServer(this.pem, handler) : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async close(): Promise<void> {
    await this.goOffline();
  }

  private resource(resource: PluralOrResource): ResourceType {
    if (typeof resource !== 'string') return resource;
    const res = this.store.resolve(resource);
    if (!res) throw new Error(`unknown resource "${resource}"`);
    return res;
  }
}

/** One self-signed certificate that is both the CA and the serving certificate for 127.0.0.1. */
async function selfSignedFor127(): Promise<{ cert: string; key: string }> {
  const out = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { cert: out.cert, key: out.private };
}

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { plural?: string; kind?: string };
  versions?: { name?: string; storage?: boolean; subresources?: { status?: object }; schema?: { openAPIV3Schema?: Schema } }[];
}
