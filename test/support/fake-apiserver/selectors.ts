// Label and field selectors as the API server parses them (list and watch `?labelSelector=`/`?fieldSelector=`).
import type { KubeObject } from '../../../src/kube/object.js';
import type { ResourceType } from '../../../src/kube/resources.js';
import { StatusError } from './status.js';

export type Selector = (obj: KubeObject) => boolean;

const everything: Selector = () => true;

/** Splits on commas outside parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`]. */
function requirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current.trim());
  return parts.filter((p) => p !== '');
}

function badSelector(kind: string, selector: string, why: string): StatusError {
  return new StatusError(400, 'BadRequest', `unable to parse requirement: invalid ${kind} selector "${selector}": ${why}`);
}

/** Equality (`=`, `==`, `!=`), set (`in`, `notin`) and existence (`key`, `!key`) requirements, ANDed. */
export function parseLabelSelector(selector: string | null | undefined): Selector {
  if (!selector) return everything;
  const tests = requirements(selector).map((req): Selector => {
    const labels = (o: KubeObject) => o.metadata.labels ?? {};
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
    if (m) {
      const [, key, op, list] = m;
      const values = new Set(
        list
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      );
      return op === 'in' ? (o) => key in labels(o) && values.has(labels(o)[key]) : (o) => !(key in labels(o)) || !values.has(labels(o)[key]);
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(req);
    if (m) {
      const [, key, op, value] = m;
      return op === '!=' ? (o) => labels(o)[key] !== value : (o) => labels(o)[key] === value;
    }
    m = /^(!?)\s*([\w./-]+)$/.exec(req);
    if (m) {
      const [, not, key] = m;
      return not ? (o) => !(key in labels(o)) : (o) => key in labels(o);
    }
    throw badSelector('label', selector, `cannot parse "${req}"`);
  });
  return (o) => tests.every((t) => t(o));
}

/** Fields every type supports, and the extra ones the API server indexes for some core types. */
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const EXTRA_FIELDS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.restartPolicy', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  secrets: ['type'],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
};

function fieldValue(obj: KubeObject, path: string): string {
  let value: unknown = obj;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  return value === undefined || value === null ? '' : String(value);
}

/** `field=value`, `field==value`, `field!=value`, ANDed; only fields the real server supports for the type. */
export function parseFieldSelector(selector: string | null | undefined, res: ResourceType): Selector {
  if (!selector) return everything;
  const supported = [...COMMON_FIELDS, ...(res.group === '' ? (EXTRA_FIELDS[res.plural] ?? []) : [])];
  const tests = requirements(selector).map((req): Selector => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw badSelector('field', selector, `cannot parse "${req}"`);
    const [, field, op, value] = m;
    if (!supported.includes(field)) {
      throw new StatusError(400, 'BadRequest', `field label not supported: ${field}`);
    }
    return op === '!=' ? (o) => fieldValue(o, field) !== value : (o) => fieldValue(o, field) === value;
  });
  return (o) => tests.every((t) => t(o));
}
