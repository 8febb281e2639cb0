import { expect } from 'chai';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { ApiError } from '../../src/kube/errors.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DATASETS, NODE_CACHES } from '../../src/kube/resources.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { prune, violations, type Schema } from '../support/fake-apiserver/schema.js';

describe('test support: custom resources through their CRD schema', () => {
  describe('prune and violations', () => {
    const schema: Schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['size'],
          minProperties: 1,
          properties: {
            size: { type: 'integer', minimum: 0 },
            mode: { type: 'string', enum: ['a', 'b'] },
            tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' } },
          },
        },
        nested: { type: 'object', properties: { k: { type: 'object', properties: { v: { type: 'string' } } } } },
        either: { type: 'object', anyOf: [{ required: ['x'] }, { required: ['y'] }] },
        maybe: { type: 'string', nullable: true },
      },
    };

    it('drops undeclared fields at every depth, keeping root metadata', () => {
      const value = {
        apiVersion: 'v',
        kind: 'K',
        metadata: { name: 'n', anything: 1 },
        extra: 1,
        spec: { size: 1, bogus: true, tags: ['a'] },
        nested: { k: { v: 's', w: 'dropped' } },
      };
      expect(prune(value, schema)).to.deep.equal({
        apiVersion: 'v',
        kind: 'K',
        metadata: { name: 'n', anything: 1 },
        spec: { size: 1, tags: ['a'] },
        nested: { k: { v: 's' } },
      });
    });

    it('names each violation by its path', () => {
      expect(violations({ spec: { size: -1, mode: 'c', tags: ['A'] }, either: {}, maybe: null }, schema)).to.deep.equal([
        'spec.size: Invalid value: -1: spec.size in body should be greater than or equal to 0',
        'spec.mode: Unsupported value: "c": supported values: "a", "b"',
        'spec.tags[0]: Invalid value: "A": spec.tags[0] in body should match \'^[a-z]+$\'',
        '<nil>: Invalid value: "": "either" must validate at least one schema (anyOf)',
        'either.x: Required value',
      ]);
      expect(violations({ spec: {} }, schema)).to.deep.equal([
        'spec.size: Required value',
        'spec: Invalid value: spec in body should have at least 1 properties',
      ]);
      expect(violations({ spec: { size: '1' } }, schema)).to.deep.equal([
        'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
      ]);
      expect(violations({ spec: { size: 2 }, either: { y: 1 } }, schema)).to.deep.equal([]);
    });
  });

  describe('with the repository CRDs loaded', () => {
    let api: FakeApiServer;
    let client: KubeClient;

    beforeEach(async () => {
      api = await FakeApiServer.start();
      expect(
        api
          .loadCrds('crds')
          .map((r) => r.plural)
          .sort(),
      ).to.deep.equal(['datasets', 'nodecaches']);
      client = createKubeClient(api.kubeconfig());
    });
    afterEach(() => api.close());

    it('refuses a Dataset missing what its type needs, naming the field', async () => {
      const err = await client
        .create(DATASETS, { metadata: { name: 'd', namespace: 'ns' }, spec: { local: { type: 'S3', endpoint: 'http://s3' } } })
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ApiError);
      expect(err).to.include({ code: 422, reason: 'Invalid' });
      // Word for word what a 1.20 API server answers for this Dataset.
      expect((err as ApiError).message).to.equal(
        'POST /apis/locus.dev/v1alpha1/namespaces/ns/datasets: Dataset.locus.dev "d" is invalid: [' +
          '<nil>: Invalid value: "": "spec.local" must validate at least one schema (anyOf), spec.local.bucket: Required value, ' +
          '<nil>: Invalid value: "": "spec.local" must validate all the schemas (allOf)]',
      );
      const ok = await client.create(DATASETS, {
        metadata: { name: 'd', namespace: 'ns' },
        spec: { local: { type: 'S3', endpoint: 'http://s3', bucket: 'books' } },
      });
      expect(ok.spec).to.deep.equal({ local: { type: 'S3', endpoint: 'http://s3', bucket: 'books' } });
    });

    it('prunes NodeCache status fields the CRD does not declare, silently', async () => {
      const nc = await client.create(NODE_CACHES, { metadata: { name: 'node-a' }, spec: { nodeName: 'node-a' } });
      const written = await client.mergePatchStatus<KubeObject>(NODE_CACHES, nc.metadata, {
        status: { epoch: 'e1', seq: 1, capacityBytes: 10, usedBytes: 0, updatedAt: '2026-01-01T00:00:00Z', datasets: [], notInTheCrd: 'x' },
      });
      expect(written.status).to.not.have.property('notInTheCrd');
      expect((written.status as { seq: number }).seq).to.equal(1);
    });
  });
});
