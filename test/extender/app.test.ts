import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { capture, captureBody, fixtureExtender, post, withAnnotations, type Wire } from './harness.js';
import type { RunningExtender } from '../../src/extender/server.js';
import { createExtender } from '../../src/extender/server.js';
import { FileSource } from '../../src/inventory/file-source.js';
import { inventoryFiles } from './harness.js';

const REQUIRED = { 'locus.dev/locality': 'required', 'locus.dev/min-local-fraction': '0.04' };
const FILTER_KEYS = ['Nodes', 'NodeNames', 'FailedNodes', 'FailedAndUnresolvableNodes', 'Error'];

describe('extender app against the captured kube-scheduler payloads', () => {
  let ext: RunningExtender;
  let base: string;
  before(async () => {
    ext = await fixtureExtender();
    base = `${ext.url}/scheduler`;
  });
  after(() => ext.close());

  describe('filter', () => {
    it("keeps every node, in the scheduler's order, for a pod without a locality requirement (names only)", async () => {
      const req = capture('filter-nodecachecapable-true.json');
      const res = await post(`${base}/filter`, captureBody('filter-nodecachecapable-true.json'));
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(Object.keys(res.json)).to.have.members(FILTER_KEYS);
      expect(res.json).to.deep.equal({ Nodes: null, NodeNames: req.NodeNames, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
    });

    it('answers the captured request like the captured answer when the pod requires locality (names only)', async () => {
      const want = capture('filter-nodecachecapable-true.response.json');
      const res = await post(`${base}/filter`, withAnnotations(capture('filter-nodecachecapable-true.json'), REQUIRED));
      expect(res.status).to.equal(200);
      expect(res.json.NodeNames).to.deep.equal(want.NodeNames);
      expect(res.json.Nodes).to.equal(null);
      expect(Object.keys(res.json.FailedNodes)).to.deep.equal(Object.keys(want.FailedNodes));
      expect(res.json.FailedNodes['node-c']).to.match(/default\/my-dataset/);
      expect(res.json.Error).to.equal(want.Error);
    });

    it('answers full Node objects with the kept Node objects, unchanged (nodeCacheCapable: false)', async () => {
      const want = capture('filter-nodecachecapable-false.response.json');
      const res = await post(`${base}/filter`, withAnnotations(capture('filter-nodecachecapable-false.json'), REQUIRED));
      expect(res.status).to.equal(200);
      expect(res.json.Nodes).to.deep.equal(want.Nodes);
      expect(res.json.NodeNames).to.equal(null);
      expect(Object.keys(res.json.FailedNodes)).to.deep.equal(Object.keys(want.FailedNodes));
    });

    it('returns the NodeList as sent when every node passes (nodeCacheCapable: false)', async () => {
      const req = capture('filter-nodecachecapable-false.json');
      const res = await post(`${base}/filter`, captureBody('filter-nodecachecapable-false.json'));
      expect(res.json.Nodes).to.deep.equal(req.Nodes);
      expect(res.json.FailedNodes).to.deep.equal({});
    });
  });

  describe('prioritize', () => {
    for (const mode of ['true', 'false']) {
      it(`answers the captured request with the captured HostPriorityList (nodeCacheCapable: ${mode})`, async () => {
        const res = await post(`${base}/prioritize`, captureBody(`prioritize-nodecachecapable-${mode}.json`));
        expect(res.status).to.equal(200);
        expect(res.json).to.deep.equal(capture(`prioritize-nodecachecapable-${mode}.response.json`));
      });
    }
  });

  it('scores every node 0 with the none policy', async () => {
    const none = await fixtureExtender({ policy: 'none' });
    try {
      const res = await post(`${none.url}/scheduler/prioritize`, captureBody('prioritize-nodecachecapable-true.json'));
      expect(res.json).to.deep.equal([
        { Host: 'node-a', Score: 0 },
        { Host: 'node-b', Score: 0 },
      ]);
    } finally {
      await none.close();
    }
  });

  describe('wire tolerance', () => {
    it("accepts envelope and object keys in any casing, as Go's decoder does", async () => {
      const req = capture('prioritize-nodecachecapable-true.json');
      const body = { pod: { METADATA: { Labels: req.Pod.metadata.labels, NameSpace: 'default', name: 'x' } }, nodenames: req.NodeNames, NODES: null };
      const res = await post(`${base}/prioritize`, body);
      expect(res.json).to.deep.equal(capture('prioritize-nodecachecapable-true.response.json'));
    });

    it('prefers the exact key over a case-insensitive one', async () => {
      const req = capture('prioritize-nodecachecapable-true.json');
      const res = await post(`${base}/prioritize`, { nodeNames: ['node-c'], Pod: req.Pod, NodeNames: req.NodeNames });
      expect(res.json.map((h: Wire) => h.Host)).to.deep.equal(req.NodeNames);
    });

    it('treats absent Nodes and NodeNames as no candidates', async () => {
      const req = capture('filter-nodecachecapable-true.json');
      const res = await post(`${base}/filter`, { Pod: req.Pod });
      expect(res.json).to.deep.equal({ Nodes: null, NodeNames: [], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
    });
  });

  describe('failing open', () => {
    const labelled = (labels: Record<string, string>) => {
      const req = capture('filter-nodecachecapable-true.json');
      req.Pod.metadata.labels = labels;
      req.Pod.metadata.annotations = REQUIRED;
      return req;
    };

    it('keeps all nodes and scores 0 for a pod without datasets, even when it requires locality', async () => {
      const req = labelled({ app: 'x' });
      expect((await post(`${base}/filter`, req)).json.NodeNames).to.deep.equal(req.NodeNames);
      const scores = (await post(`${base}/prioritize`, req)).json;
      expect(scores).to.deep.equal(req.NodeNames.map((Host: string) => ({ Host, Score: 0 })));
    });

    it('keeps all nodes and scores 0 for a pod whose Dataset is unknown', async () => {
      const req = labelled({ 'dataset.0.id': 'no-such-dataset' });
      expect((await post(`${base}/filter`, req)).json.NodeNames).to.deep.equal(req.NodeNames);
      expect((await post(`${base}/prioritize`, req)).json.every((h: Wire) => h.Score === 0)).to.equal(true);
    });

    it("never answers a pod's own mistakes with Error text, which would leave the pod unschedulable", async () => {
      // error-behaviour.json: with ignorable: false, a filter answer carrying Error text left the pod unbound.
      const errorRun = capture('error-behaviour.json')['B1-ignorable-false'].pods['err-filter-error'];
      expect(errorRun.boundTo).to.equal(null);
      const req = labelled({ 'dataset.0.id': 'my-dataset', 'dataset.0.useas': 'bogus', 'dataset.x.id': 'y' });
      req.Pod.metadata.annotations = { 'locus.dev/locality': 'sometimes' };
      const res = await post(`${base}/filter`, req);
      expect(res.status).to.equal(200);
      expect(res.json.Error).to.equal('');
      expect(res.json.NodeNames).to.deep.equal(req.NodeNames);
    });

    it('keeps every node when a preferred requirement is met by none (a reject-all answer blocks the pod)', async () => {
      const rejectAll = capture('error-behaviour.json')['B3-ignorable-false'].pods['err-filter-rejectall'];
      expect(rejectAll.boundTo).to.equal(null);
      const req = withAnnotations(capture('filter-nodecachecapable-true.json'), { 'locus.dev/locality': 'preferred', 'locus.dev/min-local-fraction': '1' });
      expect((await post(`${base}/filter`, req)).json.NodeNames).to.deep.equal(req.NodeNames);
    });

    it("answers every captured request well inside the scheduler's httpTimeout", async () => {
      const config = parse(readFileSync(new URL('../fixtures/scheduler-config-v1beta1.yaml', import.meta.url), 'utf8'));
      const timeoutMs = parseFloat(config.extenders[0].httpTimeout) * 1000;
      for (const name of [
        'filter-nodecachecapable-true',
        'filter-nodecachecapable-false',
        'prioritize-nodecachecapable-true',
        'prioritize-nodecachecapable-false',
      ]) {
        const verb = name.split('-')[0];
        const t0 = performance.now();
        const res = await post(`${base}/${verb}`, captureBody(`${name}.json`));
        const ms = performance.now() - t0;
        expect(res.status).to.equal(200);
        expect(ms).to.be.lessThan(timeoutMs / 10);
      }
    });
  });

  describe('bad requests', () => {
    it('answers a truncated body (as in the captured malformed case) with 400 and a message', async () => {
      const body = captureBody('filter-nodecachecapable-true.json');
      const res = await post(`${base}/filter`, body.slice(0, body.length / 2));
      expect(res.status).to.equal(400);
      expect(res.json.Error).to.match(/not valid JSON/);
    });

    it('names the field of the wrong type', async () => {
      const res = await post(`${base}/filter`, { Pod: {}, NodeNames: 'node-a' });
      expect(res.status).to.equal(400);
      expect(res.json.Error).to.match(/^NodeNames must be an array/);
      const res2 = await post(`${base}/prioritize`, { Pod: { metadata: { labels: { a: 1 } } }, NodeNames: [] });
      expect(res2.json.Error).to.contain('Pod.metadata.labels["a"] must be a string');
      const res3 = await post(`${base}/filter`, { Pod: {}, Nodes: { items: [{ metadata: {} }] } });
      expect(res3.json.Error).to.contain('Nodes.items[0].metadata.name');
    });

    it('answers an empty body and a non-object with 400', async () => {
      expect((await post(`${base}/filter`, '')).status).to.equal(400);
      expect((await post(`${base}/filter`, '[1,2]')).json.Error).to.match(/must be a JSON object/);
    });

    it('refuses a compressed body it cannot read with 415', async () => {
      const res = await post(`${base}/filter`, '{}', { 'content-encoding': 'gzip' });
      expect(res.status).to.equal(415);
    });

    it('refuses a body over the limit with 413, by its Content-Length or by counting', async () => {
      const small = await fixtureExtender({ bodyLimit: 1000 });
      try {
        const res = await post(`${small.url}/scheduler/filter`, captureBody('filter-nodecachecapable-true.json'));
        expect(res.status).to.equal(413);
        expect(res.json.Error).to.match(/--body-limit/);
        // Chunked, without a Content-Length.
        const chunked = await fetch(`${small.url}/scheduler/filter`, {
          method: 'POST',
          body: new Blob([captureBody('filter-nodecachecapable-true.json')]).stream(),
          duplex: 'half',
        } as RequestInit);
        expect(chunked.status).to.equal(413);
      } finally {
        await small.close();
      }
    });

    it('answers 405 for the wrong method and 404 for an unknown verb', async () => {
      expect((await fetch(`${base}/filter`)).status).to.equal(405);
      expect((await post(`${base}/preempt`, '{}')).status).to.equal(404);
    });
  });

  describe('explain', () => {
    it('explains a pod the scheduler asked about, by namespace/name, best node first', async () => {
      await post(`${base}/filter`, captureBody('filter-nodecachecapable-true.json'));
      const res = await fetch(`${ext.url}/v1/explain?pod=default/capture-basic`);
      expect(res.status).to.equal(200);
      const body: Wire = await res.json();
      expect(body.pod).to.equal('default/capture-basic');
      expect(body.datasets).to.deep.equal(['default/my-dataset']);
      expect(body.nodes.map((n: Wire) => [n.node, n.score])).to.deep.equal([
        ['node-b', 9],
        ['node-a', 4],
        ['node-c', 1],
      ]);
      expect(body.nodes[0].datasets[0]).to.include({ dataset: 'default/my-dataset', onNode: 96468992, totalBytes: 104857600 });
    });

    it('explains for the nodes asked, by GET and by POST with a pod object', async () => {
      await post(`${base}/filter`, captureBody('filter-nodecachecapable-true.json'));
      const get: Wire = await (await fetch(`${ext.url}/v1/explain?pod=default/capture-basic&node=node-a`)).json();
      expect(get.nodes.map((n: Wire) => n.node)).to.deep.equal(['node-a']);
      const pod = capture('filter-nodecachecapable-true.json').Pod;
      const res = await post(`${ext.url}/v1/explain`, { pod, nodes: ['node-a', 'node-b'] });
      expect(res.json.nodes.map((n: Wire) => n.score)).to.deep.equal([9, 4]);
    });

    it('answers 404 naming the POST form for an unknown pod, 400 for a bad reference', async () => {
      const missing = await fetch(`${ext.url}/v1/explain?pod=default/nobody`);
      expect(missing.status).to.equal(404);
      expect(((await missing.json()) as Wire).Error).to.contain('POST /v1/explain');
      expect((await fetch(`${ext.url}/v1/explain?pod=nobody`)).status).to.equal(400);
      expect((await post(`${ext.url}/v1/explain`, { pod: {}, nodes: [1] })).status).to.equal(400);
    });
  });

  describe('health and metrics', () => {
    it('is healthy and ready once synced', async () => {
      expect((await fetch(`${ext.url}/healthz`)).status).to.equal(200);
      expect((await fetch(`${ext.url}/readyz`)).status).to.equal(200);
    });

    it('exports request, index and inventory metrics', async () => {
      await post(`${base}/filter`, captureBody('filter-nodecachecapable-true.json'));
      await post(`${base}/filter`, '{');
      const text = await (await fetch(`${ext.url}/metrics`)).text();
      expect(text).to.match(/locus_extender_request_duration_seconds_bucket\{le="[^"]+",verb="filter"\}/);
      expect(text).to.match(/locus_extender_requests_total\{verb="filter",outcome="ok"\} [1-9]/);
      expect(text).to.match(/locus_extender_requests_total\{verb="filter",outcome="bad-request"\} [1-9]/);
      expect(text).to.contain('locus_extender_index{quantity="nodes"} 3');
      expect(text).to.contain('locus_extender_index{quantity="datasets"} 1');
      expect(text).to.contain(`locus_extender_index{quantity="blocks"} ${4 + 92}`);
      expect(text).to.contain('locus_extender_inventories_total{outcome="applied"} 3');
      expect(text).to.contain('locus_extender_node_ttl_expiries_total 0');
    });
  });
});

describe('extender before its sources have synced', () => {
  it('is not ready, keeps every node and scores 0', async () => {
    const ext = createExtender({ source: new FileSource(inventoryFiles) });
    const { createServer } = await import('node:http');
    const server = createServer(ext.listener).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as Wire).port}`;
    try {
      expect((await fetch(`${url}/readyz`)).status).to.equal(503);
      const req = withAnnotations(capture('filter-nodecachecapable-true.json'), REQUIRED);
      expect((await post(`${url}/scheduler/filter`, req)).json.NodeNames).to.deep.equal(req.NodeNames);
      const scores = (await post(`${url}/scheduler/prioritize`, captureBody('prioritize-nodecachecapable-true.json'))).json;
      expect(scores.map((h: Wire) => h.Score)).to.deep.equal([0, 0]);
    } finally {
      server.close();
      await ext.close();
    }
  });
});
