// The one PATCH content type Locus sends, applied to a stored object: JSON merge patch (RFC 7386).
import type { KubeObject } from '../../../src/kube/object.js';
import { StatusError } from './status.js';

export const MERGE = 'application/merge-patch+json';

/** RFC 7386: objects merge recursively, `null` deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies a `contentType` patch body to `current`, with the messages a 1.20 API server sends. */
export function applyPatch(current: KubeObject, contentType: string, raw: string): KubeObject {
  if (contentType !== MERGE) throw new StatusError(415, 'UnsupportedMediaType', '415: Unsupported Media Type');
  let patch: unknown;
  try {
    patch = JSON.parse(raw);
  } catch (err) {
    throw new StatusError(400, 'BadRequest', `error decoding patch: ${(err as Error).message}`);
  }
  if (!isObject(patch)) throw new StatusError(400, 'BadRequest', `a ${contentType} body must be a JSON object`);
  return mergePatch(current, patch) as KubeObject;
}
