import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { crdFiles, openApiSchema } from '../../src/api/crds.js';

type Node = Record<string, unknown> & { properties?: Record<string, Node>; items?: Node; anyOf?: Node[]; allOf?: Node[] };

/** Every schema node with where it is, and whether it sits inside anyOf/allOf (value validation). */
function walk(s: Node, path: string, visit: (s: Node, path: string, inValueValidation: boolean) => void, inVV = false): void {
  visit(s, path, inVV);
  for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, `${path}.${k}`, visit, inVV);
  if (s.items) walk(s.items, `${path}[]`, visit, inVV);
  for (const key of ['anyOf', 'allOf'] as const) (s[key] ?? []).forEach((sub, i) => walk(sub, `${path}.${key}[${i}]`, visit, true));
}

describe('crds/: generated from the zod schemas in src/api', () => {
  for (const { path, text } of crdFiles()) {
    it(`${path} is current (else run \`npm run gen:crds\`)`, () => {
      expect(readFileSync(path, 'utf8') === text, `${path} differs from what src/api generates: run npm run gen:crds`).to.equal(true);
    });

    it(`${path} is a structural schema Kubernetes 1.20 accepts: typed nodes, value-only anyOf/allOf, no CEL`, () => {
      const crd = parse(text);
      const root = crd.spec.versions[0].schema.openAPIV3Schema as Node;
      expect(root).to.not.have.property('$schema');
      walk(root, 'openAPIV3Schema', (s, at, inVV) => {
        if (inVV) {
          for (const forbidden of ['type', 'description', 'default', 'additionalProperties', 'nullable'])
            expect(s, `${at} (inside anyOf/allOf)`).to.not.have.property(forbidden);
        } else {
          expect(s.type, `${at} has a type`).to.be.a('string');
        }
        if (s.properties) expect(s, `${at}: properties and additionalProperties exclude each other`).to.not.have.property('additionalProperties');
        for (const forbidden of ['x-kubernetes-validations', 'oneOf', 'not', '$ref']) expect(s, at).to.not.have.property(forbidden);
      });
    });
  }

  it('keeps what zod cannot infer: descriptions, nullable strings, list types, the per-type anyOf branches', () => {
    const ds = parse(crdFiles().find((f) => f.path === 'crds/dataset.yaml')!.text).spec.versions[0].schema.openAPIV3Schema;
    const local = ds.properties.spec.properties.local;
    expect(local.properties.region).to.include({ type: 'string', nullable: true, description: 'Object store region; may be empty.' });
    expect(local.properties.endpoint.pattern, "as written, without JavaScript's escaped slashes").to.equal('^https?://[^\\s/]+(/.*)?$');
    expect(local.allOf[0]).to.deep.equal({
      anyOf: [
        { required: ['endpoint', 'bucket'], properties: { type: { minLength: 1 } } },
        { properties: { type: { enum: ['NFS', 'HOST', 'ARCHIVE', 'H3'] } } },
      ],
    });
    expect(ds.properties.status.properties.conditions).to.include({ 'x-kubernetes-list-type': 'map' });
    expect(ds.properties.status.properties.catalog.properties.refreshedAt).to.deep.equal({ type: 'string', format: 'date-time' });
    expect(ds.required).to.deep.equal(['spec']);
  });

  it('turns zod integers into int64 with the bounds zod checks, not its safe-integer limits', () => {
    const s = openApiSchema(z.object({ metadata: z.object({}), spec: z.object({ n: z.number().int().positive(), m: z.number().int() }) }));
    expect((s.properties as Record<string, Node>).spec.properties).to.deep.equal({
      n: { type: 'integer', format: 'int64', minimum: 1 },
      m: { type: 'integer', format: 'int64' },
    });
  });

  it('refuses a zod schema the API server would refuse, naming where', () => {
    const union = z.object({ metadata: z.object({}), spec: z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]) });
    expect(() => openApiSchema(union)).to.throw(/^openAPIV3Schema\.spec\.anyOf\[0\]\S*: "type" is not allowed inside anyOf/);
    const untyped = z.object({ metadata: z.object({}), spec: z.object({ when: z.date() }) });
    expect(() => openApiSchema(untyped)).to.throw('openAPIV3Schema.spec.when: a structural schema gives every field a type');
  });
});
