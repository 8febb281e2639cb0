// Generated bodies, valid and not, for every endpoint: the answer is always a 2xx or 4xx with a JSON
// body of the right shape, never a 5xx, a crash or a hang.
import { expect } from 'chai';
import fc from 'fast-check';
import { createExtender, type Extender } from '../../src/extender/server.js';
import { FileSource } from '../../src/inventory/file-source.js';
import { capture, inventoryFiles, type Wire } from './harness.js';
import { inProcess } from './in-process.js';

const RUNS = 10_000;
const KNOWN_NODES = ['node-a', 'node-b', 'node-c'];
const FILTER_KEYS = ['Nodes', 'NodeNames', 'FailedNodes', 'FailedAndUnresolvableNodes', 'Error'];

const nodeName = fc.oneof(fc.constantFrom(...KNOWN_NODES), fc.string({ maxLength: 12 }));
const labels = fc.dictionary(
  fc.oneof(fc.constantFrom('dataset.0.id', 'dataset.0.useas', 'dataset.1.id', 'dataset.1.useas', 'dataset.x.id', 'app'), fc.string({ maxLength: 15 })),
  fc.oneof(fc.constantFrom('my-dataset', 'other', 'mount', 'configmap', 'mount.configmap', 'Bad Name', ''), fc.string({ maxLength: 20 })),
  { maxKeys: 5 },
);
const annotations = fc.dictionary(
  fc.constantFrom('locus.dev/locality', 'locus.dev/min-local-fraction', 'x'),
  fc.oneof(fc.constantFrom('required', 'preferred', 'none', '0.5', '1', '-1', 'NaN', '', '0.04'), fc.string({ maxLength: 8 })),
  { maxKeys: 3 },
);
const pod = fc.record(
  {
    metadata: fc.record({ name: fc.string({ maxLength: 10 }), namespace: fc.constantFrom('default', 'ns', ''), labels, annotations }, { requiredKeys: [] }),
    spec: fc.record({
      volumes: fc.array(fc.record({ name: fc.string({ maxLength: 5 }), persistentVolumeClaim: fc.record({ claimName: fc.constantFrom('my-dataset', 'x') }) }), {
        maxLength: 3,
      }),
    }),
  },
  { requiredKeys: [] },
);

/** A well-formed ExtenderArgs, names-only or full-Node, in Go's casing or another. */
const validArgs = fc
  .tuple(pod, fc.boolean(), fc.array(nodeName, { maxLength: 40 }), fc.constantFrom('Pascal', 'lower', 'upper'))
  .map(([p, names, list, casing]) => {
    const key = (k: string) => (casing === 'lower' ? k.toLowerCase() : casing === 'upper' ? k.toUpperCase() : k);
    return names
      ? { [key('Pod')]: p, [key('Nodes')]: null, [key('NodeNames')]: list }
      : {
          [key('Pod')]: p,
          [key('Nodes')]: { metadata: {}, items: list.map((name) => ({ metadata: { name }, spec: {}, status: {} })) },
          [key('NodeNames')]: null,
        };
  });
/** A field of the wrong type somewhere an ExtenderArgs reader looks. */
const wrongTypes = fc.oneof(
  fc.record({ Pod: fc.jsonValue(), NodeNames: fc.jsonValue(), Nodes: fc.jsonValue() }, { requiredKeys: [] }),
  fc.record({ Pod: pod, NodeNames: fc.array(fc.jsonValue(), { maxLength: 5 }) }),
  fc.record({ Pod: pod, Nodes: fc.record({ items: fc.array(fc.jsonValue(), { maxLength: 5 }) }) }),
  fc.record({
    Pod: fc.record({ metadata: fc.record({ labels: fc.jsonValue(), annotations: fc.jsonValue(), name: fc.jsonValue() }) }),
    NodeNames: fc.array(nodeName),
  }),
  fc.record({ Pod: fc.record({ spec: fc.record({ volumes: fc.jsonValue() }) }), NodeNames: fc.array(nodeName) }),
  fc.jsonValue(),
);
/** Thousands of nodes; the largest go past the 256 KiB body limit of the fuzzed extender (413). */
const hugeArrays = fc.oneof(
  fc
    .integer({ min: 5_000, max: 30_000 })
    .map((n) => ({ Pod: capture('filter-nodecachecapable-true.json').Pod, NodeNames: Array.from({ length: n }, (_, i) => `node-${i}`) })),
  fc.integer({ min: 200, max: 2_000 }).map((n) => ({
    Pod: {},
    Nodes: { metadata: {}, items: Array.from({ length: n }, (_, i) => ({ metadata: { name: `node-${i}` }, spec: {}, status: {} })) },
  })),
);

type Body = { text: string; kind: string };
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 400, arbitrary: validArgs.map((v) => ({ text: JSON.stringify(v), kind: 'valid' })) },
  {
    weight: 150,
    arbitrary: fc.tuple(validArgs, fc.double({ min: 0, max: 1, noNaN: true })).map(([v, f]) => {
      const text = JSON.stringify(v);
      return { text: text.slice(0, Math.floor(text.length * f)), kind: 'truncated' };
    }),
  },
  { weight: 300, arbitrary: wrongTypes.map((v) => ({ text: JSON.stringify(v) ?? 'null', kind: 'wrong-types' })) },
  { weight: 3, arbitrary: hugeArrays.map((v) => ({ text: JSON.stringify(v), kind: 'huge' })) },
  { weight: 100, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ text, kind: 'text' })) },
  { weight: 40, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ text: Buffer.from(b).toString('latin1'), kind: 'bytes' })) },
);

describe('extender fuzz: generated bodies never yield a 5xx or a crash', function () {
  this.timeout(240_000);
  let ext: Extender;
  let request: ReturnType<typeof inProcess>;
  before(async () => {
    ext = createExtender({ source: new FileSource(inventoryFiles), bodyLimit: 256 * 1024 });
    await ext.start();
    request = inProcess(ext.listener);
  });
  after(() => ext.close());

  const check = (status: number, text: string) => {
    expect(status, text.slice(0, 300)).to.be.oneOf([200, 400, 413]);
    const json: Wire = JSON.parse(text);
    if (status !== 200) expect(json.Error).to.be.a('string').and.not.equal('');
    return json;
  };
  /** The node names a body sends (keys in any casing, as Go reads them); [] when it sends none. */
  const names = (text: string): string[] => {
    const v = JSON.parse(text);
    const get = (o: Wire, k: string) => o[k] ?? Object.entries(o).find(([key]) => key.toLowerCase() === k.toLowerCase())?.[1];
    const nodes = get(v, 'Nodes');
    if (nodes) return (get(nodes, 'items') ?? []).map((i: Wire) => i.metadata.name);
    return get(v, 'NodeNames') ?? [];
  };

  it(`filter: ${RUNS} bodies`, async () => {
    const kinds = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        kinds.set(b.kind, (kinds.get(b.kind) ?? 0) + 1);
        const res = await request('POST', '/scheduler/filter', b.text);
        const json = check(res.status, res.body);
        if (res.status !== 200) return;
        expect(Object.keys(json)).to.have.members(FILTER_KEYS);
        expect(json.Error).to.equal('');
        const sent = names(b.text);
        const kept: string[] = json.NodeNames ?? json.Nodes.items.map((i: Wire) => i.metadata.name);
        expect(sent).to.include.members(kept);
        for (const n of Object.keys(json.FailedNodes)) expect(kept).not.to.include(n);
      }),
      { numRuns: RUNS, seed: 4242 },
    );
    expect(kinds.get('huge')).to.be.above(10);
  });

  it(`prioritize: ${RUNS} bodies`, async () => {
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await request('POST', '/scheduler/prioritize', b.text);
        const json = check(res.status, res.body);
        if (res.status !== 200) return;
        expect(json.map((h: Wire) => h.Host)).to.deep.equal(names(b.text));
        for (const h of json) expect(Number.isInteger(h.Score) && h.Score >= 0 && h.Score <= 10, JSON.stringify(h)).to.equal(true);
      }),
      { numRuns: RUNS, seed: 4343 },
    );
  });

  it(`explain (POST): ${RUNS} bodies`, async () => {
    const explainBody = fc.oneof(
      fc.record({ pod, nodes: fc.oneof(fc.array(nodeName, { maxLength: 5 }), nodeName, fc.jsonValue()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      body.map((b) => b.text),
    );
    await fc.assert(
      fc.asyncProperty(explainBody, async (text) => {
        const res = await request('POST', '/v1/explain', text);
        const json = check(res.status, res.body);
        if (res.status === 200) expect(json.nodes).to.be.an('array');
      }),
      { numRuns: RUNS, seed: 4444 },
    );
  });

  it('answers the captured requests the same way in-process as over HTTP', async () => {
    const res = await request('POST', '/scheduler/prioritize', JSON.stringify(capture('prioritize-nodecachecapable-true.json')));
    expect(JSON.parse(res.body)).to.deep.equal(capture('prioritize-nodecachecapable-true.response.json'));
  });
});
