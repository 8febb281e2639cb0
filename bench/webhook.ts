// `npm run bench:webhook`: AdmissionReviews per second over HTTPS on 127.0.0.1, against a baseline
// of GET /healthz on the same server (TLS, Koa, same connections: all the webhook costs besides the
// review itself), plus the pure mutation alone. Prints JSON lines. Bounded: BENCH_WEBHOOK_SECONDS
// (default 5) per case, 10 connections. Load generator and server share this process, so read the
// cases against the baseline of the same run, not as absolute capacity.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { mutatePod, type FoundDataset } from '../src/webhook/mutate.js';
import { podSchema } from '../src/webhook/pod.js';
import { startWebhook } from '../src/webhook/server.js';
import { certDir } from '../test/webhook/tls.js';
import { jsonLine } from './json-line.js';

const SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 5);
const CONNECTIONS = 10;
const base = { bench: 'webhook', seconds: SECONDS, connections: CONNECTIONS };
const line = (o: object) => jsonLine({ ...base, ...o });

const captured = JSON.parse(readFileSync('test/fixtures/admission/pod-create-dataset-labels.json', 'utf8'));
const NAMES = ['imagenet', 'books', 'logs', 'weights', 'features'];
const dataset = (name: string): FoundDataset => ({
  name,
  credentials: true,
  readOnly: false,
  volume: true,
  configKeys: ['endpoint', 'bucket', 'region', 'prefix'],
  deleting: false,
});

/** The captured pod, with five Datasets used both ways and four containers. */
function largeReview() {
  const review = structuredClone(captured);
  const pod = review.request.object;
  for (const [i, name] of NAMES.entries()) {
    pod.metadata.labels[`dataset.${i}.id`] = name;
    pod.metadata.labels[`dataset.${i}.useas`] = 'mount.configmap';
  }
  pod.spec.containers = [0, 1, 2, 3].map((i) => ({ ...pod.spec.containers[0], name: `c${i}` }));
  return review;
}

async function main() {
  const certs = await certDir();
  const datasets = new Map(NAMES.concat('my-dataset').map((n) => [n, dataset(n)]));
  const webhook = await startWebhook({
    host: '127.0.0.1',
    port: 0,
    certFile: certs.certFile,
    keyFile: certs.keyFile,
    reloadIntervalMs: 10_000,
    expiryWarnDays: 1,
    bodyLimit: 4 << 20,
    lookup: { find: async (_ns, name) => datasets.get(name) },
    options: { schedulerName: 'locus-scheduler', allowMissing: false },
    log: pino({ level: 'silent' }),
  });
  const run = (path: string, body?: string) =>
    autocannon({
      url: `https://127.0.0.1:${webhook.port}${path}`,
      method: body ? 'POST' : 'GET',
      body,
      headers: body ? { 'content-type': 'application/json' } : {},
      connections: CONNECTIONS,
      duration: SECONDS,
      tlsOptions: { ca: certs.ca.cert },
    } as autocannon.Options);

  try {
    const baseline = await run('/healthz');
    const report = (name: string, r: autocannon.Result) =>
      line({
        case: name,
        requestsPerSecond: r.requests.average,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        errors: r.errors + r.non2xx,
        p50OverBaselineMs: r.latency.p50 - baseline.latency.p50,
      });
    report('baseline GET /healthz', baseline);
    report('captured review (1 Dataset, 1 container)', await run('/mutate-pods?timeout=10s', JSON.stringify(captured)));
    report('5 Datasets mount+configmap, 4 containers', await run('/mutate-pods?timeout=10s', JSON.stringify(largeReview())));

    const pod = podSchema.parse(largeReview().request.object);
    const opts = { schedulerName: 'locus-scheduler', allowMissing: false };
    for (let i = 0; i < 1000; i++) mutatePod(pod, 'datasets-demo', datasets, opts);
    const rounds = 20_000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) mutatePod(pod, 'datasets-demo', datasets, opts);
    line({ case: 'mutatePod alone, 5 Datasets, 4 containers', microsPerCall: Number(process.hrtime.bigint() - t) / rounds / 1000 });
  } finally {
    await webhook.close();
  }
}

await main();
