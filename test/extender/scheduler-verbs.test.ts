// The scheduler verbs' own node:http handlers: the server's listener sends the scheduler's exact paths
// straight to them and everything else through the Koa app, which must answer the same; bodies are
// bounded, malformed ones named, a broken connection is counted and the server carries on.
import { expect } from 'chai';
import { connect } from 'node:net';
import { once } from 'node:events';
import { capture, captureBody, fixtureExtender, post, withAnnotations, type Wire } from './harness.js';
import { inProcess } from './in-process.js';
import type { RunningExtender } from '../../src/extender/server.js';

const CAPTURED = [
  'filter-nodecachecapable-true',
  'filter-nodecachecapable-false',
  'prioritize-nodecachecapable-true',
  'prioritize-nodecachecapable-false',
] as const;
const REQUIRED = { 'locus.dev/locality': 'required', 'locus.dev/min-local-fraction': '0.04' };

describe('extender scheduler verbs on node:http', () => {
  let ext: RunningExtender;
  before(async () => {
    ext = await fixtureExtender({ bodyLimit: 64 * 1024 });
  });
  after(() => ext.close());

  const metric = async (verb: string, outcome: string): Promise<number> => {
    const text = await (await fetch(`${ext.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`locus_extender_requests_total{verb="${verb}",outcome="${outcome}"}`));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  };

  it('answers every captured request byte for byte as the Koa app does, with the same headers', async () => {
    const direct = inProcess(ext.listener);
    const viaKoa = inProcess(ext.app);
    for (const name of CAPTURED) {
      const verb = name.split('-')[0];
      for (const body of [captureBody(`${name}.json`), JSON.stringify(withAnnotations(capture(`${name}.json`), REQUIRED))]) {
        const a = await direct('POST', `/scheduler/${verb}`, body);
        const b = await viaKoa('POST', `/scheduler/${verb}`, body);
        expect(a.status, name).to.equal(200);
        expect(a.body, name).to.equal(b.body);
        expect(a.headers['content-type']).to.equal(b.headers['content-type']);
        expect(Number(a.headers['content-length'])).to.equal(Buffer.byteLength(a.body));
      }
    }
  });

  it('answers paths the scheduler does not send (trailing slash, query, casing) through the router, alike', async () => {
    const body = captureBody('prioritize-nodecachecapable-true.json');
    const want = capture('prioritize-nodecachecapable-true.response.json');
    for (const path of ['/scheduler/prioritize', '/scheduler/prioritize/', '/scheduler/prioritize?from=test', '/Scheduler/Prioritize']) {
      const res = await post(`${ext.url}${path}`, body);
      expect(res.status, path).to.equal(200);
      expect(res.json, path).to.deep.equal(want);
    }
  });

  it('refuses a body past --body-limit with 413 naming the limit and the flag, and closes that connection', async () => {
    const before = await metric('filter', 'too-large');
    const names = Array.from({ length: 10_000 }, (_, i) => `node-${i}`);
    const big = JSON.stringify({ ...capture('filter-nodecachecapable-true.json'), NodeNames: names });
    // Declared by Content-Length, and counted while reading a chunked body.
    const declared = await post(`${ext.url}/scheduler/filter`, big);
    const chunked = await fetch(`${ext.url}/scheduler/filter`, { method: 'POST', body: new Blob([big]).stream(), duplex: 'half' } as RequestInit);
    for (const [res, json] of [
      [declared, declared.json],
      [chunked, await chunked.json()],
    ] as const) {
      expect(res.status).to.equal(413);
      expect(res.headers.get('connection')).to.equal('close');
      expect(json.Error).to.match(/exceeds the limit of 65536 bytes; raise --body-limit/);
    }
    expect(await metric('filter', 'too-large')).to.equal(before + 2);
    // The server goes on answering.
    expect((await post(`${ext.url}/scheduler/filter`, captureBody('filter-nodecachecapable-true.json'))).status).to.equal(200);
  });

  it("answers malformed JSON with 400 quoting the parser's complaint", async () => {
    const res = await post(`${ext.url}/scheduler/prioritize`, '{"Pod": {}, "NodeNames": ["node-a",]}');
    expect(res.status).to.equal(400);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.json.Error).to.match(/^the request body is not valid JSON: .*(Unexpected token|position)/);
  });

  it('counts a request whose connection breaks mid-body as bad, and serves the next', async () => {
    const before = await metric('prioritize', 'bad-request');
    const { port } = new URL(ext.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /scheduler/prioritize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Pod":');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    for (let i = 0; i < 50 && (await metric('prioritize', 'bad-request')) === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await metric('prioritize', 'bad-request')).to.equal(before + 1);
    expect((await post(`${ext.url}/scheduler/prioritize`, captureBody('prioritize-nodecachecapable-true.json'))).status).to.equal(200);
  });

  it('fails open at scale: thousands of nodes it does not know, for a pod whose Dataset it does not know', async () => {
    const names = Array.from({ length: 3_000 }, (_, i) => `unknown-${i}`);
    const req: Wire = withAnnotations({ ...capture('filter-nodecachecapable-true.json'), NodeNames: names }, REQUIRED);
    req.Pod.metadata.labels = { 'dataset.0.id': 'nobody-knows' };
    const filtered = await post(`${ext.url}/scheduler/filter`, req);
    expect(filtered.json).to.deep.equal({ Nodes: null, NodeNames: names, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
    const scores = await post(`${ext.url}/scheduler/prioritize`, req);
    expect(scores.json).to.deep.equal(names.map((Host) => ({ Host, Score: 0 })));
  });
});
