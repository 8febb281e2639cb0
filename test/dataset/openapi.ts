// The part of the API server's OpenAPI v3 validation that crds/ schemas use (type, enum, pattern,
// minLength, minimum/maximum, required, properties, items, anyOf, allOf), with the API server's way
// of naming fields, plus the fields it would prune. For checking manifests in unit tests; the e2e
// suite checks the same manifests against a real apiserver.

export interface Schema {
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  nullable?: boolean;
  anyOf?: Schema[];
  allOf?: Schema[];
  [k: string]: unknown;
}

export interface Outcome {
  errors: string[];
  /** Fields the schema does not declare: the API server would drop them silently. */
  pruned: string[];
}

const typeOf = (v: unknown): string =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v === 'number' ? 'number' : typeof v;

export function validate(schema: Schema, value: unknown, path: string, out: Outcome = { errors: [], pruned: [] }): Outcome {
  if (value === null && schema.nullable) return out;
  if (schema.type && value !== undefined) {
    const t = typeOf(value);
    if (t !== schema.type && !(schema.type === 'number' && t === 'integer')) {
      out.errors.push(`${path}: Invalid value: "${t}": ${path} in body must be of type ${schema.type}`);
      return out;
    }
  }
  if (schema.enum && !schema.enum.includes(value)) out.errors.push(`${path}: Unsupported value: ${JSON.stringify(value)}`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) out.errors.push(`${path}: Invalid value: "${value}": ${path} in body should match '${schema.pattern}'`);
    if (schema.minLength !== undefined && value.length < schema.minLength) out.errors.push(`${path}: Invalid value: "${value}": ${path} in body should be at least ${schema.minLength} chars long`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out.errors.push(`${path}: Invalid value: ${value}: ${path} in body should be greater than or equal to ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) out.errors.push(`${path}: Invalid value: ${value}: ${path} in body should be less than or equal to ${schema.maximum}`);
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const k of schema.required ?? []) if (obj[k] === undefined) out.errors.push(`${path}.${k}: Required value`);
    if (schema.properties) {
      for (const [k, v] of Object.entries(obj)) {
        const sub = schema.properties[k];
        if (sub) validate(sub, v, `${path}.${k}`, out);
        else if (schema.type === 'object' && !schema['x-kubernetes-preserve-unknown-fields']) out.pruned.push(`${path}.${k}`);
      }
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => validate(schema.items!, v, `${path}[${i}]`, out));
  for (const sub of schema.allOf ?? []) validate(sub, value, path, out);
  if (schema.anyOf) {
    const tries = schema.anyOf.map((s) => validate(s, value, path));
    if (!tries.some((t) => t.errors.length === 0)) {
      // The API server reports the branch that ran the most checks, the first on a tie; the CRD
      // gives its branches equal weight, so the first failing one is what users see.
      out.errors.push(`${path}: must validate at least one schema (anyOf)`, ...tries[0].errors);
    }
  }
  return out;
}
