// The PATCH content types the API server accepts, applied to a stored object.
import jsonpatch from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../../../src/kube/object.js';
import { StatusError } from './status.js';

export const MERGE = 'application/merge-patch+json';
export const STRATEGIC = 'application/strategic-merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const APPLY = 'application/apply-patch+yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

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

/** Parses a request body for its content type; YAML only for server-side apply. */
export function parsePatchBody(contentType: string, raw: string): unknown {
  try {
    return contentType === APPLY ? parseYaml(raw) : JSON.parse(raw);
  } catch (err) {
    throw new StatusError(400, 'BadRequest', `error decoding patch: ${(err as Error).message}`);
  }
}

/**
 * Applies `patch` of `contentType` to `current`. Strategic merge is treated as a plain merge patch
 * (lists are replaced, not merged by key); apply merges the sent fields (no field ownership).
 * Messages are the ones a 1.20 API server sends.
 */
export function applyPatch(current: KubeObject, contentType: string, patch: unknown): KubeObject {
  switch (contentType) {
    case MERGE:
    case STRATEGIC:
    case APPLY:
      if (!isObject(patch)) throw new StatusError(400, 'BadRequest', `a ${contentType} body must be a JSON object`);
      return mergePatch(current, patch) as KubeObject;
    case JSON_PATCH: {
      if (!Array.isArray(patch)) throw new StatusError(400, 'BadRequest', 'a json-patch body must be an array of operations');
      try {
        const doc = structuredClone(current) as unknown as Json;
        // Unvalidated, like the server's patch library: `replace` of a missing key adds it.
        return jsonpatch.applyPatch(doc, patch as jsonpatch.Operation[], false, true).newDocument as unknown as KubeObject;
      } catch {
        throw new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request');
      }
    }
    default:
      throw new StatusError(415, 'UnsupportedMediaType', '415: Unsupported Media Type');
  }
}
