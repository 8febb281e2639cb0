// Custom resources through their CRD's structural OpenAPI schema, as the API server treats them:
// unknown fields are pruned silently (a status field the CRD does not declare never reaches etcd),
// then the value is validated. Only what crds/ use (the schemas src/api generates): types, nullable,
// required, enum, bounds, lengths, patterns, minProperties, anyOf/allOf. Formats are not checked.
// The tests' one OpenAPI validator: unit tests check manifests with it too.

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minProperties?: number;
  anyOf?: Schema[];
  allOf?: Schema[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Drops fields the schema does not declare (metadata at the root is the server's, not pruned). */
export function prune(value: unknown, schema: Schema, root = true): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((v) => prune(v, schema.items!, false)) : value;
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (root && (key === 'metadata' || key === 'apiVersion' || key === 'kind')) out[key] = child;
    else if (schema.properties?.[key]) out[key] = prune(child, schema.properties[key], false);
  }
  return out;
}

const typeOf = (v: unknown): string =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

/** Every violation, as `path: reason` in the API server's wording. */
export function violations(value: unknown, schema: Schema, path = ''): string[] {
  const at = path || '<root>';
  if (value === null || value === undefined) {
    return value === null && !schema.nullable && schema.type ? [`${at}: Invalid value: "null": ${at} in body must be of type ${schema.type}: "null"`] : [];
  }
  const errors: string[] = [];
  const actual = typeOf(value);
  if (schema.type && actual !== schema.type && !(schema.type === 'number' && actual === 'integer')) {
    return [`${at}: Invalid value: "${actual}": ${at} in body must be of type ${schema.type}: "${actual}"`];
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${at}: Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      errors.push(`${at}: Invalid value: "${value}": ${at} in body should be at least ${schema.minLength} chars long`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: Too long: may not be longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${at}: Invalid value: "${value}": ${at} in body should match '${schema.pattern}'`);
  }
  if (typeof value === 'number') {
    const { minimum, maximum } = schema;
    if (minimum !== undefined && value < minimum) errors.push(`${at}: Invalid value: ${value}: ${at} in body should be greater than or equal to ${minimum}`);
    if (maximum !== undefined && value > maximum) errors.push(`${at}: Invalid value: ${value}: ${at} in body should be less than or equal to ${maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => errors.push(...violations(v, schema.items!, `${path}[${i}]`)));
  }
  if (isObject(value)) {
    const child = (key: string) => (path ? `${path}.${key}` : key);
    for (const key of schema.required ?? []) if (value[key] === undefined) errors.push(`${child(key)}: Required value`);
    const count = Object.keys(value).length;
    if (schema.minProperties !== undefined && count < schema.minProperties)
      errors.push(`${at}: Invalid value: ${at} in body should have at least ${schema.minProperties} properties`);
    for (const [key, v] of Object.entries(value)) {
      if (!path && key === 'metadata') continue;
      const s = schema.properties?.[key];
      if (s) errors.push(...violations(v, s, child(key)));
    }
  }
  if (schema.anyOf && !schema.anyOf.some((s) => violations(value, s, path).length === 0)) {
    // The real server reports one failing branch; the CRDs put the branch to report first.
    errors.push(`<nil>: Invalid value: "": "${at}" must validate at least one schema (anyOf)`, ...violations(value, schema.anyOf[0], path));
  }
  const allOf = (schema.allOf ?? []).flatMap((s) => violations(value, s, path));
  if (allOf.length) errors.push(...allOf, `<nil>: Invalid value: "": "${at}" must validate all the schemas (allOf)`);
  return errors;
}
