// REST routing of the fake API server: paths, verbs, watch streams, injected failures.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../../src/kube/object.js';
import { apiVersionOf, type ResourceType } from '../../../src/kube/resources.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { applyPatch } from './patches.js';
import { parseFieldSelector, parseLabelSelector, type Selector } from './selectors.js';
import { StatusError, statusBody } from './status.js';
import type { DeleteOptions, Store } from './store.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface Injection {
  /** Answer with this error code; without one the request is only delayed. */
  code?: number;
  /** Hold the request this long first (before failing or serving it). */
  delayMs?: number;
  reason?: string;
  message?: string;
  /** Only requests with this verb (default any resource request). */
  verb?: Verb;
  /** Only this resource (plural, e.g. `nodecaches`). */
  resource?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  verb?: Verb;
  resource?: string;
  contentType?: string;
  code?: number;
}

interface Target {
  res: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

interface OpenWatch {
  end(): void;
  bookmark(): void;
}

export interface RouterOptions {
  token?: string;
  bookmarkIntervalMs: number;
}

export class Router {
  readonly requests: RequestRecord[] = [];
  readonly watches = new Set<OpenWatch>();
  private readonly injections: (Injection & { remaining: number })[] = [];

  constructor(
    private readonly store: Store,
    private readonly opts: RouterOptions,
  ) {}

  inject(times: number, injection: Injection): void {
    this.injections.push({ ...injection, remaining: times });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: RequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'],
    };
    this.requests.push(record);
    try {
      if (this.opts.token !== undefined && req.headers.authorization !== `Bearer ${this.opts.token}`) {
        throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      }
      const discovery = this.discovery(url.pathname);
      if (discovery !== undefined) return send(res, record, 200, discovery);
      const target = this.target(url.pathname);
      const verb = verbOf(record.method, target, url.searchParams);
      record.verb = verb;
      record.resource = target.res.plural;
      await this.injected(verb, target.res);
      const body = await readBody(req);
      await this.dispatch(verb, target, url.searchParams, record, body, req, res);
    } catch (err) {
      // The real server's mux answers paths it does not serve in plain text, not with a Status.
      if (err === PAGE_NOT_FOUND) return send(res, record, 404, '404 page not found\n');
      if (err instanceof StatusError) return send(res, record, err.code, err.body());
      send(res, record, 500, statusBody(500, 'InternalError', `fake apiserver: ${(err as Error).stack ?? String(err)}`));
    }
  }

  private async dispatch(verb: Verb, t: Target, q: URLSearchParams, record: RequestRecord, raw: string, req: IncomingMessage, res: ServerResponse) {
    const { res: r, namespace, name, subresource } = t;
    const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim();
    switch (verb) {
      case 'list': {
        const items = this.store.list(r, namespace, this.selector(r, q));
        return send(res, record, 200, {
          kind: `${r.kind}List`,
          apiVersion: apiVersionOf(r),
          metadata: { resourceVersion: this.store.resourceVersion() },
          // Core lists carry no per-item apiVersion/kind; custom resource lists do.
          items: r.group ? items : items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
        });
      }
      case 'watch':
        return this.watch(t, q, record, res);
      case 'get':
        return send(res, record, 200, this.mustGet(t));
      case 'create': {
        if (r.plural === 'pods' && subresource === 'binding') {
          this.store.bind(r, namespace!, name!, parseJson(raw));
          return send(res, record, 201, statusBody(201, '', ''));
        }
        if (name !== undefined) throw notFoundPath();
        return send(res, record, 201, this.store.create(r, namespace, parseJson(raw), q.get('dryRun') === 'All'));
      }
      case 'update':
        return send(res, record, 200, this.store.update(r, namespace, name!, parseJson(raw), this.status(t)));
      case 'patch': {
        const current = this.store.get(r, namespace, name!);
        if (!current) throw this.notFound(t);
        return send(res, record, 200, this.store.patch(r, current, applyPatch(current, contentType, raw), this.status(t)));
      }
      case 'delete': {
        const options = { ...(raw ? (parseJson(raw) as DeleteOptions) : {}) };
        options.propagationPolicy = q.get('propagationPolicy') ?? options.propagationPolicy;
        const result = this.store.delete(r, namespace, name!, options);
        const gone = this.store.get(r, namespace, name!) === undefined;
        return send(
          res,
          record,
          200,
          gone ? { ...statusBody(200, '', ''), details: { name, group: r.group || undefined, kind: r.plural, uid: result.metadata.uid } } : result,
        );
      }
      case 'deletecollection': {
        const deleted = this.store.list(r, namespace, this.selector(r, q)).map((o) => this.store.delete(r, o.metadata.namespace, o.metadata.name!));
        return send(res, record, 200, {
          kind: `${r.kind}List`,
          apiVersion: apiVersionOf(r),
          metadata: { resourceVersion: this.store.resourceVersion() },
          items: deleted,
        });
      }
    }
  }

  /** A long-lived newline-delimited JSON stream of {type, object}. */
  private watch(t: Target, q: URLSearchParams, record: RequestRecord, res: ServerResponse): void {
    const matches = this.selector(t.res, q);
    const write = (type: string, object: unknown) => res.write(JSON.stringify({ type, object }) + '\n');
    record.code = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const timers: NodeJS.Timeout[] = [];
    let unsubscribe = () => {};
    let ended = false;
    const open: OpenWatch = {
      end: () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        timers.forEach(clearTimeout);
        this.watches.delete(open);
        res.end();
      },
      bookmark: () => write('BOOKMARK', { kind: t.res.kind, apiVersion: apiVersionOf(t.res), metadata: { resourceVersion: this.store.resourceVersion() } }),
    };
    this.watches.add(open);
    // The response closes when the client goes away (the request's 'close' only means its body was read).
    res.on('close', () => open.end());
    try {
      unsubscribe = this.store.watch({ res: t.res, namespace: t.namespace, matches, send: write }, q.get('resourceVersion') ?? undefined);
    } catch (err) {
      // A too-old resourceVersion is reported in the stream, as the real server does.
      if (!(err instanceof StatusError)) throw err;
      write('ERROR', err.body());
      return open.end();
    }
    const timeout = Number(q.get('timeoutSeconds'));
    if (timeout > 0) timers.push(setTimeout(open.end, timeout * 1000));
    if (q.get('allowWatchBookmarks') === 'true' && this.opts.bookmarkIntervalMs > 0) {
      timers.push(setInterval(open.bookmark, this.opts.bookmarkIntervalMs));
    }
  }

  private selector(res: ResourceType, q: URLSearchParams): Selector {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), res);
    return (o) => labels(o) && fields(o);
  }

  private status(t: Target): 'status' | undefined {
    if (t.subresource === undefined) return undefined;
    if (t.subresource === 'status' && t.res.statusSubresource) return 'status';
    throw notFoundPath();
  }

  private mustGet(t: Target): KubeObject {
    if (t.subresource !== undefined) this.status(t);
    const obj = this.store.get(t.res, t.namespace, t.name!);
    if (!obj) throw this.notFound(t);
    return obj;
  }

  private notFound(t: Target): StatusError {
    const what = t.res.group ? `${t.res.plural}.${t.res.group}` : t.res.plural;
    return new StatusError(404, 'NotFound', `${what} "${t.name}" not found`, { name: t.name, group: t.res.group || undefined, kind: t.res.plural });
  }

  private async injected(verb: Verb, res: ResourceType): Promise<void> {
    const hit = this.injections.find((i) => i.remaining > 0 && (!i.verb || i.verb === verb) && (!i.resource || i.resource === res.plural));
    if (!hit) return;
    hit.remaining--;
    if (hit.delayMs) await new Promise((resolve) => setTimeout(resolve, hit.delayMs));
    if (hit.code !== undefined) throw new StatusError(hit.code, hit.reason ?? 'InternalError', hit.message ?? `injected failure (${hit.code})`);
  }

  private discovery(path: string): unknown {
    const all = this.store.allResources();
    if (path === '/api') return apiVersions();
    if (path === '/apis') return apiGroupList(all);
    if (path === '/api/v1')
      return apiResourceList(
        'v1',
        all.filter((r) => r.group === ''),
      );
    if (path === '/version') return { major: '1', minor: '30', gitVersion: 'v1.30.0-locus-fake', platform: 'linux/amd64' };
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return 'ok';
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (!m) return undefined;
    const [, group, version] = m;
    const inGroup = all.filter((r) => r.group === group);
    if (inGroup.length === 0) return undefined;
    if (!version) return apiGroup(group, [...new Set(inGroup.map((r) => r.version))]);
    const inVersion = inGroup.filter((r) => r.version === version);
    return inVersion.length ? apiResourceList(`${group}/${version}`, inVersion) : undefined;
  }

  /** `/api/v1/…` or `/apis/<group>/<version>/…`, then `[namespaces/<ns>/]<plural>[/<name>[/<sub>]]`. */
  private target(path: string): Target {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api') [group, version, rest] = ['', parts[1], parts.slice(2)];
    else if (parts[0] === 'apis') [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
    else throw PAGE_NOT_FOUND;
    const find = (plural: string) => this.store.allResources().find((r) => r.group === group && r.version === version && r.plural === plural);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && find(rest[2])?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const res = find(rest[0]);
    if (!res || rest.length > 3) throw PAGE_NOT_FOUND;
    return { res, namespace, name: rest[1], subresource: rest[2] };
  }
}

function verbOf(method: string, t: Target, q: URLSearchParams): Verb {
  const watch = q.get('watch') === 'true' || q.get('watch') === '1';
  switch (method) {
    case 'GET':
      return t.name === undefined ? (watch ? 'watch' : 'list') : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      if (t.name !== undefined) return 'update';
      break;
    case 'PATCH':
      if (t.name !== undefined) return 'patch';
      break;
    case 'DELETE':
      return t.name === undefined ? 'deletecollection' : 'delete';
  }
  throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
}

/** A known resource without the requested subresource or verb. */
function notFoundPath(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

/** A path outside every served resource. */
const PAGE_NOT_FOUND = new StatusError(404, 'NotFound', '404 page not found');

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new StatusError(400, 'BadRequest', `the request body is not JSON: ${(err as Error).message}`);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, record: RequestRecord, code: number, body: unknown): void {
  record.code = code;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
