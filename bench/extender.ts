// npm run bench:extender — the extender's cost per scheduling request, measured against servers that
// merely decode the request and encode the same answer, in the same run.
//
// Clusters of 1,000 and 5,000 nodes in 10 zones / 2 regions, 20 Datasets of 1,000 blocks, every node
// caching a random share of a few of them; the pod reads 3 Datasets. For each size and mode (names
// only: nodeCacheCapable true; full Node objects: false) it prints JSON lines:
//   {"kind":"in-process",…}  p50/p99 of the handler (JSON.parse → read → core → encode) per verb and
//                             per filter+prioritize pair against the bare JSON.parse + JSON.stringify of
//                             the same bodies, and the mean CPU time of a pair (skip: --loopback-only);
//   {"kind":"loopback",…}     autocannon (this process, pinned to core 1 by taskset when it exists)
//                             against three servers in child processes pinned to core 0, in turn:
//                             Locus, a bare node:http server and a minimal Koa + @koa/router app, the
//                             latter two reading and JSON.parse-ing the body and writing JSON.stringify
//                             of Locus's own answer (checked byte for byte); req/s, p50/p99 and CPU
//                             time per request (from /proc) per server, Locus's req/s ratio to each
//                             and bare's CPU per request over Locus's.
// Target (names only, 1,000 and 5,000 nodes): Locus ≥ 0.7× the bare server's req/s, filter and prioritize.
// Bounded: names only, 300 warm-up requests and 3 rounds of 1 s per server and verb (the servers'
// order rotating between rounds); full Nodes, 1 + 10 requests; 127.0.0.1 only.
// Flags: `--sizes 1000`, `--modes names` (or full-nodes) run a subset; `--loopback-only` skips the
// in-process timings; `--profile <dir>` has each server write a V8 CPU profile to <dir>/<server>.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from '@koa/router';
import autocannon from 'autocannon';
import Koa from 'koa';
import { pino } from 'pino';
import { encodeBlockSet } from '../src/core/blockset.js';
import { readExtenderArgs } from '../src/api/scheduler-extender.js';
import { createExtender, startExtender } from '../src/extender/server.js';
import { filterResultBuffer, prioritiesBuffer } from '../src/extender/answer-buffer.js';
import { MemorySource } from '../src/inventory/memory-source.js';
import { readJson } from '../src/runtime/body.js';
import { handler } from '../src/runtime/serve.js';
import { jsonLine } from './json-line.js';

const SIZES = [1_000, 5_000];
const DATASETS = 20;
const BLOCKS = 1_000;
const MiB = 1 << 20;
const self = fileURLToPath(import.meta.url);
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../test/fixtures/kube-scheduler/${name}`, import.meta.url), 'utf8'));

/** Deterministic PRNG (mulberry32): the server process and the client build the same cluster. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const nodeName = (i: number) => `node-${String(i).padStart(5, '0')}`;

function cluster(n: number) {
  const random = rng(n);
  const nodes = Array.from({ length: n }, (_, i) => ({
    metadata: { name: nodeName(i), labels: { 'topology.kubernetes.io/zone': `zone-${i % 10}`, 'topology.kubernetes.io/region': `region-${i % 2}` } },
  }));
  const datasets = Array.from({ length: DATASETS }, (_, d) => ({
    metadata: { name: `ds-${d}`, namespace: 'default' },
    status: { catalog: { objectCount: 100, totalBytes: BLOCKS * MiB, blockSize: MiB, blockCount: BLOCKS, version: 'v1', refreshedAt: '2026-11-26T00:00:00Z' } },
  }));
  const caches = nodes.map(({ metadata: { name } }) => {
    const entries = [];
    for (let d = 0; d < DATASETS; d++) {
      if (random() > 0.25) continue;
      const start = Math.floor(random() * BLOCKS);
      const length = Math.floor(random() * (BLOCKS - start));
      const blocks = Array.from({ length }, (_, i) => start + i).filter(() => random() > 0.1);
      entries.push({
        namespace: 'default',
        name: `ds-${d}`,
        blockSize: MiB,
        catalogVersion: 'v1',
        bytes: blocks.length * MiB,
        blockCount: BLOCKS,
        blocks: encodeBlockSet(blocks, BLOCKS),
      });
    }
    return { metadata: { name }, spec: { nodeName: name }, status: { epoch: 'e', seq: 1, datasets: entries } };
  });
  return { nodes, datasets, caches };
}

/** The captured request, its pod reading 3 Datasets (labels only, as Datashim pods do), `n` candidate nodes. */
function requests(n: number, full: boolean) {
  const pod = fixture('filter-nodecachecapable-true.json').Pod;
  pod.metadata.labels = { app: 'bench', 'dataset.0.id': 'ds-1', 'dataset.1.id': 'ds-2', 'dataset.2.id': 'ds-3' };
  const names = Array.from({ length: n }, (_, i) => nodeName(i));
  const template = fixture('filter-nodecachecapable-false.json').Nodes.items[0];
  const args = full
    ? {
        Pod: pod,
        Nodes: {
          metadata: {},
          items: names.map((name) => ({
            ...template,
            metadata: { ...template.metadata, name, labels: { ...template.metadata.labels, 'kubernetes.io/hostname': name } },
          })),
        },
        NodeNames: null,
      }
    : { Pod: pod, Nodes: null, NodeNames: names };
  return JSON.stringify(args);
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round = (x: number) => Math.round(x * 1000) / 1000;

/** The filter body, and the prioritize body with the nodes filter kept, as the scheduler sends them. */
function requestBodies(ext: ReturnType<typeof createExtender>, n: number, full: boolean): Record<'filter' | 'prioritize', string> {
  const filterBody = requests(n, full);
  const filterAnswer = ext.decisions.filter(readExtenderArgs(JSON.parse(filterBody))).answer;
  const kept = JSON.parse(filterBody);
  if (full) kept.Nodes = filterAnswer.Nodes;
  else kept.NodeNames = filterAnswer.NodeNames;
  return { filter: filterBody, prioritize: JSON.stringify(kept) };
}

async function bodiesOnly(n: number, full: boolean, objects: ReturnType<typeof cluster>) {
  const ext = createExtender({ source: new MemorySource(objects), ttlMs: 3_600_000 });
  await ext.start();
  try {
    return requestBodies(ext, n, full);
  } finally {
    await ext.close();
  }
}

async function inProcess(n: number, full: boolean, objects: ReturnType<typeof cluster>) {
  const ext = createExtender({ source: new MemorySource(objects), ttlMs: 3_600_000 });
  await ext.start();
  const bodies = requestBodies(ext, n, full);
  const filterBody = bodies.filter;
  // What the app does between reading the body and writing it: parse, decide, encode the answer.
  const handle = {
    filter: (body: string) => filterResultBuffer(ext.decisions.filter(readExtenderArgs(JSON.parse(body))).answer),
    prioritize: (body: string) => prioritiesBuffer(ext.decisions.prioritize(readExtenderArgs(JSON.parse(body))).answer),
  };
  const answers = { filter: handle.filter(bodies.filter), prioritize: handle.prioritize(bodies.prioritize) };
  const parsedAnswers = { filter: JSON.parse(answers.filter.toString()) as unknown, prioritize: JSON.parse(answers.prioritize.toString()) as unknown };
  // Enough samples for a p99, bounded in time: fewer for the ~20 MB full-Node bodies.
  const iterations = Math.max(30, Math.min(2_000, Math.floor(400_000 / n), Math.floor(60e6 / filterBody.length)));
  const times: Record<string, number[]> = { filter: [], prioritize: [], pair: [], bareFilter: [], barePrioritize: [], barePair: [] };
  // CPU time as well as wall time: on a shared machine the wall-clock tail measures the neighbours.
  const cpu = { handler: 0, bare: 0 };
  const cpuMs = (from: NodeJS.CpuUsage) => {
    const d = process.cpuUsage(from);
    return (d.user + d.system) / 1000;
  };
  for (let i = 0; i < iterations + 20; i++) {
    // Alternate handler and bare runs so both see the same machine conditions.
    let c = process.cpuUsage();
    let t = performance.now();
    handle.filter(bodies.filter);
    const f = performance.now() - t;
    t = performance.now();
    handle.prioritize(bodies.prioritize);
    const p = performance.now() - t;
    const handlerCpu = cpuMs(c);
    c = process.cpuUsage();
    t = performance.now();
    JSON.parse(bodies.filter);
    JSON.stringify(parsedAnswers.filter);
    const bf = performance.now() - t;
    t = performance.now();
    JSON.parse(bodies.prioritize);
    JSON.stringify(parsedAnswers.prioritize);
    const bp = performance.now() - t;
    const bareCpu = cpuMs(c);
    if (i < 20) continue; // warm-up
    times.filter.push(f);
    times.prioritize.push(p);
    times.pair.push(f + p);
    times.bareFilter.push(bf);
    times.barePrioritize.push(bp);
    times.barePair.push(bf + bp);
    cpu.handler += handlerCpu;
    cpu.bare += bareCpu;
  }
  await ext.close();
  let pairRatio = 0;
  for (const verb of ['filter', 'prioritize', 'pair']) {
    const bare = times[`bare${verb[0].toUpperCase()}${verb.slice(1)}`];
    jsonLine({
      bench: 'extender',
      kind: 'in-process',
      nodes: n,
      mode: full ? 'full-nodes' : 'names',
      verb,
      iterations,
      requestBytes: verb === 'prioritize' ? bodies.prioritize.length : bodies.filter.length,
      p50Ms: round(quantile(times[verb], 0.5)),
      p99Ms: round(quantile(times[verb], 0.99)),
      bareP50Ms: round(quantile(bare, 0.5)),
      bareP99Ms: round(quantile(bare, 0.99)),
      ratioP99: round(quantile(times[verb], 0.99) / quantile(bare, 0.99)),
      ...(verb === 'pair'
        ? { cpuMsPerPair: round(cpu.handler / iterations), bareCpuMsPerPair: round(cpu.bare / iterations), cpuRatio: round(cpu.handler / cpu.bare) }
        : {}),
    });
    if (verb === 'pair') pairRatio = quantile(times[verb], 0.99) / quantile(bare, 0.99);
  }
  return { bodies, pairRatio };
}

/** The servers of the loopback runs, each in a child process pinned to core 0 (see `spawnServer`). */
async function serveLocus(n: number) {
  const ext = await startExtender({ host: '127.0.0.1', port: 0, source: new MemorySource(cluster(n)), ttlMs: 3_600_000, logger: pino({ level: 'warn' }) });
  await ext.synced;
  process.stdout.write(`${ext.url}\n`);
  process.once('SIGTERM', () => void ext.close().then(() => process.exit(0)));
}

/** The floor any JSON server pays: read the body, JSON.parse it, JSON.stringify the same answer as Locus's. */
async function serveBare(answersFile: string) {
  const answers = JSON.parse(readFileSync(answersFile, 'utf8')) as Record<string, unknown>;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const body = JSON.stringify(answers[verbOf(req.url)]);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await listenAndAnnounce(server);
}

/** The same as a minimal Koa + @koa/router app. */
async function serveKoa(answersFile: string) {
  const answers = JSON.parse(readFileSync(answersFile, 'utf8')) as Record<string, unknown>;
  const app = new Koa();
  const router = new Router();
  router.post('/scheduler/:verb', async (ctx) => {
    await readJson(ctx.req, 64 * MiB);
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(answers[ctx.params.verb]);
  });
  app.use(router.routes());
  await listenAndAnnounce(createServer(handler(app)));
}

const verbOf = (url: string | undefined) => (url?.endsWith('/prioritize') ? 'prioritize' : 'filter');

async function listenAndAnnounce(server: Server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

/** `taskset` pins the servers to core 0 and this process (autocannon) to core 1, when there are two cores. */
const pinning = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;

/** `--profile <dir>`: each server writes a V8 CPU profile (`--cpu-prof`) to `<dir>/<server>` when it stops. */
const profileAt = process.argv.indexOf('--profile');
const profileDir = profileAt > 0 ? process.argv[profileAt + 1] : undefined;

interface Spawned {
  url: string;
  /** CPU time the server's process has used so far, ms (user + system, from /proc; undefined elsewhere). */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

async function spawnServer(args: string[]): Promise<Spawned> {
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, args[0].replace('serve-', ''))}`];
  const node = [process.execPath, ...profile, '--import', 'tsx', self, ...args];
  const child = pinning
    ? spawn('taskset', ['-c', '0', ...node], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(node[0], node.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout!, 'data');
  return {
    url: String(line).trim(),
    // taskset execs node in place, so the child's pid is the server's.
    cpuMs: () => processCpuMs(child.pid!),
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** utime + stime of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms on Linux). */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The answer a server gives to one body: every server must give the same bytes. */
async function answer(url: string, verb: string, body: string): Promise<string> {
  const res = await fetch(`${url}/scheduler/${verb}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  if (res.status !== 200) throw new Error(`${url} ${verb}: HTTP ${res.status}`);
  return res.text();
}

const SERVERS = ['locus', 'bare', 'koa'] as const;
const ROUNDS = 3;

/** One autocannon run against a verb, bounded in time or requests; every answer must be a 200. */
async function load(url: string, verb: string, body: string, bound: { connections: number; duration?: number; amount?: number }) {
  const result = await autocannon({
    url: `${url}/scheduler/${verb}`,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    timeout: bound.amount !== undefined ? 120 : 10,
    ...bound,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url} ${verb}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result;
}

async function loopback(n: number, full: boolean, bodies: Record<string, string>) {
  const mode = full ? 'full-nodes' : 'names';
  const locus = await spawnServer(['serve-locus', String(n)]);
  const servers: Record<string, Spawned> = { locus };
  const dir = mkdtempSync(join(tmpdir(), 'locus-bench-'));
  const ratios: Record<string, number> = {};
  try {
    const answers: Record<string, string> = {};
    for (const verb of ['filter', 'prioritize']) answers[verb] = await answer(locus.url, verb, bodies[verb]);
    const file = join(dir, 'answers.json');
    writeFileSync(file, JSON.stringify({ filter: JSON.parse(answers.filter), prioritize: JSON.parse(answers.prioritize) }));
    servers.bare = await spawnServer(['serve-bare', file]);
    servers.koa = await spawnServer(['serve-koa', file]);
    for (const verb of ['filter', 'prioritize']) {
      const rps: Record<string, number> = {};
      const cpuUs: Record<string, number> = {};
      const line: Record<string, unknown> = {
        bench: 'extender',
        kind: 'loopback',
        nodes: n,
        mode,
        verb,
        pinned: pinning,
        responseBytes: Buffer.byteLength(answers[verb]),
      };
      const runs: Record<string, { requests: number; seconds: number; cpuMs: number | undefined; p50: number[]; p99: number[] }> = {};
      for (const name of SERVERS) {
        if ((await answer(servers[name].url, verb, bodies[verb])) !== answers[verb]) throw new Error(`${name} answers ${verb} differently from Locus`);
        runs[name] = { requests: 0, seconds: 0, cpuMs: 0, p50: [], p99: [] };
        // Warm-up, not counted: the JIT has compiled the handlers before the first measured round.
        await load(servers[name].url, verb, bodies[verb], full ? { connections: 1, amount: 1 } : { connections: 4, amount: 300 });
      }
      // Names only: three rounds of 1 s, each server in turn, the order rotating, so that load from
      // neighbours on a shared machine falls on all three alike. Full Nodes: ten requests in one round.
      const rounds = full ? 1 : ROUNDS;
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < SERVERS.length; k++) {
          const name = SERVERS[(k + r) % SERVERS.length];
          const run = runs[name];
          const cpuBefore = servers[name].cpuMs();
          const result = await load(servers[name].url, verb, bodies[verb], full ? { connections: 2, amount: 10 } : { connections: 4, duration: 1 });
          const cpuAfter = servers[name].cpuMs();
          run.requests += result.requests.total;
          run.seconds += result.duration;
          run.cpuMs = cpuBefore === undefined || cpuAfter === undefined || run.cpuMs === undefined ? undefined : run.cpuMs + cpuAfter - cpuBefore;
          run.p50.push(result.latency.p50);
          run.p99.push(result.latency.p99);
        }
      }
      for (const name of SERVERS) {
        const run = runs[name];
        // Completed requests over the runs' length: a per-second average is meaningless for ten requests.
        rps[name] = run.requests / run.seconds;
        // CPU per request: what the server itself spent, which neighbours on a shared machine disturb less than req/s.
        if (run.cpuMs !== undefined) cpuUs[name] = (run.cpuMs * 1000) / run.requests;
        line[name] = {
          rps: round(rps[name]),
          // The rounds' median p50 and p99.
          p50Ms: quantile(run.p50, 0.5),
          p99Ms: quantile(run.p99, 0.5),
          requests: run.requests,
          ...(cpuUs[name] === undefined ? {} : { cpuUsPerRequest: Math.round(cpuUs[name]) }),
        };
      }
      line.locusVsBare = round(rps.locus / rps.bare);
      line.locusVsKoa = round(rps.locus / rps.koa);
      // Bare's CPU per request over Locus's: the req/s ratio a server-bound run would show.
      if (cpuUs.locus !== undefined && cpuUs.bare !== undefined) line.bareVsLocusCpu = round(cpuUs.bare / cpuUs.locus);
      ratios[verb] = rps.locus / rps.bare;
      if (line.bareVsLocusCpu !== undefined) ratios[`${verb}Cpu`] = cpuUs.bare / cpuUs.locus;
      jsonLine(line);
    }
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
  return ratios;
}

async function main() {
  const [command, arg] = process.argv.slice(2);
  if (command === 'serve-locus') return serveLocus(Number(arg));
  if (command === 'serve-bare') return serveBare(arg);
  if (command === 'serve-koa') return serveKoa(arg);
  // The load generator on the core the servers do not use.
  if (pinning) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  const at = process.argv.indexOf('--sizes');
  const sizes = at > 0 ? process.argv[at + 1].split(',').map(Number) : SIZES;
  const modesAt = process.argv.indexOf('--modes');
  const modes = modesAt > 0 ? process.argv[modesAt + 1].split(',') : ['names', 'full-nodes'];
  const inProcessToo = !process.argv.includes('--loopback-only');
  const targets: Record<string, unknown> = {
    bench: 'extender',
    kind: 'targets',
    target: 'names only: Locus ≥ 0.7× bare node:http req/s, filter and prioritize',
  };
  for (const n of sizes) {
    const objects = cluster(n);
    for (const full of [false, true]) {
      if (!modes.includes(full ? 'full-nodes' : 'names')) continue;
      const bodies = inProcessToo ? (await inProcess(n, full, objects)).bodies : await bodiesOnly(n, full, objects);
      const ratios = await loopback(n, full, bodies);
      if (!full) {
        for (const verb of ['filter', 'prioritize']) {
          targets[`${verb}VsBareAt${n}`] = round(ratios[verb]);
          targets[`${verb}MetAt${n}`] = ratios[verb] >= 0.7;
          // The same from CPU per request, steadier than req/s when other work shares the machine.
          if (ratios[`${verb}Cpu`] !== undefined) targets[`${verb}CpuVsBareAt${n}`] = round(ratios[`${verb}Cpu`]);
        }
      }
    }
  }
  jsonLine(targets);
}

await main();
