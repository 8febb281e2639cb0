// A small REST client for the test's own reads and writes, independent of Locus' kube layer under test.
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { cluster } from './env.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    method: string,
    path: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${typeof body === 'object' && body && 'message' in body ? String(body.message) : JSON.stringify(body)}`);
  }
}

const ca = readFileSync(cluster.caFile);
const token = readFileSync(cluster.tokenFile, 'utf8').trim();

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
    resourceVersion?: string;
  };
  // Kubernetes objects are open-ended; tests read what they need and assert on it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  status?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data?: any;
}

/** Sends one request as the cluster admin; resolves with the parsed body, rejects with ApiError on non-2xx. */
export function api<T = Obj>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const url = new URL(path, cluster.api);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      {
        method,
        ca,
        timeout: 15_000,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* keep the text */
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolvePromise(parsed as T);
          else reject(new ApiError(status, parsed, method, path));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 15s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export const get = <T = Obj>(path: string) => api<T>('GET', path);
export const create = <T = Obj>(path: string, body: unknown) => api<T>('POST', path, body);
export const mergePatch = <T = Obj>(path: string, body: unknown) => api<T>('PATCH', path, body, 'application/merge-patch+json');

/** Deletes at once (grace period 0: there is no kubelet to confirm); a missing object is fine. */
export async function remove(path: string): Promise<void> {
  try {
    await api('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
}

/** GET that answers undefined for 404. */
export async function find<T = Obj>(path: string): Promise<T | undefined> {
  try {
    return await get<T>(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Creates namespace `name` unless it exists (for scenarios that create no pods, so need no ServiceAccount). */
export async function ensureNamespace(name: string): Promise<void> {
  if (!(await find(`/api/v1/namespaces/${name}`))) await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}
