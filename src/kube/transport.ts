// Sends one REST request through client-node's own HTTP stack, so authentication (tokens, exec plugins,
// client certificates, CA bundles) is exactly what the KubeConfig says, and returns plain parsed JSON.
import { HttpMethod, IsomorphicFetchHttpLibrary, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { apiErrorFrom } from './errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestSpec {
  method: Method;
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
}

export class Transport {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly server: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs: number,
    private readonly userAgent: string,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the KubeConfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  /** Resolves with the parsed body of a 2xx answer; rejects with an ApiError (or the network error). */
  async request<T>(spec: RequestSpec): Promise<T> {
    const ctx = new RequestContext(this.server + spec.path, HttpMethod[spec.method]);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) ctx.setQueryParam(key, value);
    }
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('User-Agent', this.userAgent);
    if (spec.body !== undefined) {
      ctx.setHeaderParam('Content-Type', spec.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(spec.body));
    }
    // A hung API server must not hang a reconcile loop or an agent's status write forever.
    ctx.setSignal(AbortSignal.timeout(this.timeoutMs));
    await this.kc.applySecurityAuthentication(ctx);
    const res = await this.http.send(ctx).toPromise();
    const text = await res.body.text();
    const body = parseBody(text);
    if (res.httpStatusCode >= 200 && res.httpStatusCode < 300) return body as T;
    throw apiErrorFrom(res.httpStatusCode, body, `${spec.method} ${spec.path}`);
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
