// Custom resources through their CRD's structural OpenAPI schema, as the API server treats them:
// unknown fields are pruned silently (a status field the CRD does not declare never reaches etcd),
// then the value is validated (types, required, enum, bounds, patterns, anyOf/oneOf/allOf/not).

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  not?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
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
    else if (isObject(schema.additionalProperties)) out[key] = prune(child, schema.additionalProperties, false);
    else if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields']) out[key] = child;
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
  if (schema['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string') errors.push(`${at}: Invalid value: must be an integer or a string`);
  } else if (schema.type && actual !== schema.type && !(schema.type === 'number' && actual === 'integer')) {
    return [`${at}: Invalid value: "${actual}": ${at} in body must be of type ${schema.type}: "${actual}"`];
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${at}: Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: Invalid value: "${value}": ${at} in body should be at least ${schema.minLength} chars long`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: Too long: may not be longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${at}: Invalid value: "${value}": ${at} in body should match '${schema.pattern}'`);
  }
  if (typeof value === 'number') {
    const { minimum, maximum } = schema;
    if (minimum !== undefined && (schema.exclusiveMinimum ? value <= minimum : value < minimum)) errors.push(`${at}: Invalid value: ${value}: ${at} in body should be greater than or equal to ${minimum}`);
    if (maximum !== undefined && (schema.exclusiveMaximum ? value >= maximum : value > maximum)) errors.push(`${at}: Invalid value: ${value}: ${at} in body should be less than or equal to ${maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${at}: Invalid value: ${at} in body should have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${at}: Too many: ${value.length}: must have at most ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => errors.push(...violations(v, schema.items!, `${path}[${i}]`)));
  }
  if (isObject(value)) {
    const child = (key: string) => (path ? `${path}.${key}` : key);
    for (const key of schema.required ?? []) if (value[key] === undefined) errors.push(`${child(key)}: Required value`);
    const count = Object.keys(value).length;
    if (schema.minProperties !== undefined && count < schema.minProperties) errors.push(`${at}: Invalid value: ${at} in body should have at least ${schema.minProperties} properties`);
    if (schema.maxProperties !== undefined && count > schema.maxProperties) errors.push(`${at}: Invalid value: ${at} in body should have at most ${schema.maxProperties} properties`);
    for (const [key, v] of Object.entries(value)) {
      if (!path && key === 'metadata') continue;
      const s = schema.properties?.[key] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (s) errors.push(...violations(v, s, child(key)));
    }
  }
  if (schema.anyOf && !schema.anyOf.some((s) => violations(value, s, path).length === 0)) {
    // The real server reports one failing branch; the CRDs put the branch to report first.
    errors.push(`<nil>: Invalid value: "": "${at}" must validate at least one schema (anyOf)`, ...violations(value, schema.anyOf[0], path));
  }
  const allOf = (schema.allOf ?? []).flatMap((s) => violations(value, s, path));
  if (allOf.length) errors.push(...allOf, `<nil>: Invalid value: "": "${at}" must validate all the schemas (allOf)`);
  if (schema.oneOf && schema.oneOf.filter((s) => violations(value, s, path).length === 0).length !== 1) {
    errors.push(`${at}: Invalid value: must validate one and only one schema (oneOf)`);
  }
  if (schema.not && violations(value, schema.not, path).length === 0) errors.push(`${at}: Invalid value: must not validate the schema (not)`);
  return errors;
}
