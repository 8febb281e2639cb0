// The API server's validation that Locus's writes can trip over: label syntax, string-only maps,
// Secret encoding, Event namespaces and the immutable PVC spec. A test that passes here should not
// be refused by a real cluster for these reasons.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../../src/kube/object.js';
import type { ResourceType } from '../../../src/kube/resources.js';
import { StatusError } from './status.js';

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const invalid = (obj: KubeObject, cause: string) => new StatusError(422, 'Invalid', `${obj.kind} "${obj.metadata.name ?? ''}" is invalid: ${cause}`);
/** A body the server cannot even decode (the real message goes on with decoder details). */
const undecodable = (obj: KubeObject, field: string, why: string) =>
  new StatusError(400, 'BadRequest', `${obj.kind} in version "v1" cannot be handled as a ${obj.kind}: ${field}: ${why}`);

function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'prefix part must be a DNS subdomain';
  if (name.length > 63 || !NAME_PART.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)";
  return undefined;
}

function stringMap(obj: KubeObject, value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw undecodable(obj, field, 'must be a map of strings');
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw undecodable(obj, `${field}.${key}`, `ReadString: expects " or n, but found ${JSON.stringify(v)}`);
  }
  return value as Record<string, string>;
}

/** Checks (and, like the server, normalises) an object about to be stored; `current` on updates. */
export function validate(res: ResourceType, obj: KubeObject, current?: KubeObject): void {
  const labels = stringMap(obj, obj.metadata.labels, 'metadata.labels') ?? {};
  for (const [key, value] of Object.entries(labels)) {
    const problem = qualifiedNameProblem(key);
    if (problem) throw invalid(obj, `metadata.labels: Invalid value: "${key}": ${problem}`);
    if (value !== '' && (value.length > 63 || !NAME_PART.test(value))) {
      throw invalid(
        obj,
        `metadata.labels: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      );
    }
  }
  stringMap(obj, obj.metadata.annotations, 'metadata.annotations');
  if (res.group !== '') return;
  switch (res.plural) {
    case 'namespaces':
      if (!DNS_LABEL.test(obj.metadata.name ?? '') || (obj.metadata.name ?? '').length > 63) {
        throw invalid(
          obj,
          `metadata.name: Invalid value: "${obj.metadata.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        );
      }
      return;
    case 'configmaps':
      stringMap(obj, obj.data, 'v1.ConfigMap.Data');
      return;
    case 'secrets':
      return normaliseSecret(obj, current);
    case 'events':
      return checkEvent(obj);
    case 'persistentvolumeclaims':
      if (current) checkClaimUpdate(obj, current);
      return;
  }
}

/** stringData is write-only: the server folds it into data (base64) and drops it. */
function normaliseSecret(obj: KubeObject, current?: KubeObject): void {
  const data = stringMap(obj, obj.data, 'data') ?? {};
  for (const [key, value] of Object.entries(data)) {
    if (!BASE64.test(value)) throw undecodable(obj, `v1.Secret.Data`, `decode base64: illegal base64 data in key ${key}`);
  }
  const stringData = stringMap(obj, obj.stringData, 'stringData') ?? {};
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(value, 'utf8').toString('base64');
  delete obj.stringData;
  if (Object.keys(data).length > 0) obj.data = data;
  obj.type ??= current?.type ?? 'Opaque';
  if (current && obj.type !== current.type) throw invalid(obj, `type: Invalid value: "${String(obj.type)}": field is immutable`);
}

function checkEvent(obj: KubeObject): void {
  const involved = (obj.involvedObject ?? {}) as { namespace?: string };
  const ns = obj.metadata.namespace;
  const ok = involved.namespace ? involved.namespace === ns : ns === 'default' || !ns;
  if (!ok) throw invalid(obj, `involvedObject.namespace: Invalid value: "${involved.namespace ?? ''}": does not match event.namespace`);
}

/** A claim's spec is fixed once created, except its size and the volume it is bound to (once). */
function checkClaimUpdate(obj: KubeObject, current: KubeObject): void {
  const bindable = !(current.spec as { volumeName?: string } | undefined)?.volumeName;
  if (!isDeepStrictEqual(fixedPart(current, bindable), fixedPart(obj, bindable))) {
    // (the real message continues with a diff of the two specs)
    throw invalid(obj, 'spec: Forbidden: spec is immutable after creation except resources.requests for bound claims');
  }
}

function fixedPart(claim: KubeObject, bindable: boolean): unknown {
  const spec = JSON.parse(JSON.stringify(claim.spec ?? {})) as { volumeName?: string; resources?: { requests?: unknown } };
  if (bindable) delete spec.volumeName;
  if (spec.resources) {
    delete spec.resources.requests;
    if (Object.keys(spec.resources).length === 0) delete spec.resources;
  }
  return spec;
}
