// `npm run bench:agent`: one 1 GiB object read with the AWS SDK directly from s3rver (the baseline),
// then through the agent with an empty cache (cold) and again (warm), all on 127.0.0.1 in one run.
// s3rver and the agent each run in their own process, as they would in a cluster. Direct and warm
// reads are repeated (REPEAT, default 3) and the median is reported; the cold read happens once.
// Timed reads only count bytes; afterwards one more read through the agent is checked against the
// object's MD5 (the warm read serves exactly the blocks the cold read stored). Prints JSON lines.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { jsonLine } from './json-line.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_AGENT_BYTES ?? 1024 * MiB);
const BUCKET = 'bench';
const KEY = 'data/object-1gib.bin';
const KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REPEAT = Number(process.env.BENCH_AGENT_REPEAT ?? 3);
const root = fileURLToPath(new URL('..', import.meta.url));

const children: ChildProcess[] = [];
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU seconds (user + system) a process has used so far, from /proc: independent of other load. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Starts a process and resolves with the first stdout line that `pick` accepts. */
async function startProcess(args: string[], pick: (line: string) => string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    lines.on('line', (line) => {
      const found = pick(line);
      if (found) resolve(found);
    });
  });
}

/** Writes the object straight into s3rver's directory (an upload would dominate the run), with its MD5. */
async function writeObject(dir: string): Promise<string> {
  const parts = KEY.split('/');
  const file = parts.pop()!;
  const base = join(dir, BUCKET, ...parts);
  await mkdir(base, { recursive: true });
  const path = join(base, `${file}._S3rver_object`);
  const fh = await open(path, 'w');
  const md5 = createHash('md5');
  const chunk = Buffer.allocUnsafe(64 * MiB);
  for (let at = 0; at < SIZE; at += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, SIZE - at));
    randomFillSync(part);
    md5.update(part);
    await fh.write(part);
  }
  await fh.close();
  const digest = md5.digest('hex');
  await writeFile(`${path}.md5`, digest);
  return digest;
}

/** Reads the whole object with a plain unsigned HTTP GET (no SDK on the client side); returns seconds. */
async function readPlain(endpoint: string): Promise<{ seconds: number }> {
  const t0 = process.hrtime.bigint();
  const res = await new Promise<IncomingMessage>((resolve, reject) => httpGet(`${endpoint}/${BUCKET}/${KEY}`, resolve).on('error', reject));
  if (res.statusCode !== 200) throw new Error(`GET answered ${res.statusCode}`);
  let n = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) n += chunk.length;
  if (n !== SIZE) throw new Error(`read ${n} bytes, expected ${SIZE}`);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** Reads the whole object with one GetObject; returns the seconds it took (and its MD5 when asked). */
async function read(client: S3Client, digest = false): Promise<{ seconds: number; md5?: string }> {
  const t0 = process.hrtime.bigint();
  const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
  const md5 = digest ? createHash('md5') : undefined;
  let n = 0;
  for await (const chunk of res.Body as AsyncIterable<Buffer>) {
    md5?.update(chunk);
    n += chunk.length;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (n !== SIZE) throw new Error(`read ${n} bytes, expected ${SIZE}`);
  return { seconds, ...(md5 ? { md5: md5.digest('hex') } : {}) };
}

async function median(reader: () => Promise<{ seconds: number }>): Promise<{ seconds: number; runs: number[] }> {
  const runs: number[] = [];
  for (let i = 0; i < REPEAT; i++) runs.push((await reader()).seconds);
  const sorted = [...runs].sort((a, b) => a - b);
  return { seconds: sorted[Math.floor(sorted.length / 2)], runs };
}

function client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: KEYS, maxAttempts: 1 });
}

async function main(): Promise<void> {
  const s3Dir = await mkdtemp(join(tmpdir(), 'locus-bench-s3-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'locus-bench-cache-'));
  const datasets = join(cacheDir, '..', `${cacheDir.split('/').pop()}-datasets.yaml`);
  try {
    await mkdir(join(s3Dir, BUCKET), { recursive: true });
    const objectMd5 = await writeObject(s3Dir);
    const s3rverScript = join(root, 'test/catalog/s3rver-process.mjs');
    const s3Port = await startProcess(['--openssl-legacy-provider', s3rverScript, s3Dir, BUCKET], (l) => String(JSON.parse(l).port));
    const direct = `http://127.0.0.1:${s3Port}`;
    await writeFile(datasets, `datasets:\n  - {namespace: bench, name: one-gib, bucket: ${BUCKET}, prefix: data/}\n`);
    const agentUrl = await startProcess(
      [
        '--import',
        'tsx',
        'src/cli/locus.ts',
        'agent',
        `--upstream=${direct}`,
        '--listen=127.0.0.1:0',
        '--ops-listen=127.0.0.1:0',
        `--cache-dir=${cacheDir}`,
        '--capacity=2Gi',
        `--datasets=${datasets}`,
        '--no-publish',
        '--no-auth',
        '--log-level=info',
      ],
      (l) => (l.includes('agent listening') ? (JSON.parse(l) as { s3: string }).s3 : undefined),
      { ...process.env, AWS_ACCESS_KEY_ID: KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey },
    );

    const [s3rverPid, agentPid] = children.map((c) => c.pid!);
    /** Server-side CPU seconds per GiB read, s3rver's and the agent's, over `reads` whole-object reads. */
    const cpuOf = async <T>(f: () => Promise<T>, reads: number): Promise<T & { cpu: { s3rver: number; agent: number } }> => {
      const [s0, a0] = [cpuSeconds(s3rverPid), cpuSeconds(agentPid)];
      const r = await f();
      const perGiB = (x: number) => Math.round((x / ((reads * SIZE) / 1024 ** 3)) * 100) / 100;
      return { ...r, cpu: { s3rver: perGiB(cpuSeconds(s3rverPid) - s0), agent: perGiB(cpuSeconds(agentPid) - a0) } };
    };
    const viaDirect = client(direct);
    const viaAgent = client(agentUrl);
    const mibps = (s: number) => Math.round((SIZE / MiB / s) * 10) / 10;
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const base = { bench: 'agent', objectBytes: SIZE, blockBytes: 16 * MiB };
    const line = (o: object) => jsonLine({ ...base, ...o });

    await read(viaDirect); // puts the object in the page cache, as for every later read
    const d = await cpuOf(() => median(() => read(viaDirect)), REPEAT);
    line({ case: 'direct', client: 'aws-sdk', seconds: d.seconds, MiBps: mibps(d.seconds), runs: d.runs, serverCpuSecondsPerGiB: d.cpu });
    const cold = await cpuOf(() => read(viaAgent), 1);
    line({
      case: 'agent-cold',
      client: 'aws-sdk',
      seconds: cold.seconds,
      MiBps: mibps(cold.seconds),
      vsDirect: ratio(d.seconds, cold.seconds),
      serverCpuSecondsPerGiB: cold.cpu,
    });
    const warm = await cpuOf(() => median(() => read(viaAgent)), REPEAT);
    line({
      case: 'agent-warm',
      client: 'aws-sdk',
      seconds: warm.seconds,
      MiBps: mibps(warm.seconds),
      vsDirect: ratio(d.seconds, warm.seconds),
      runs: warm.runs,
      serverCpuSecondsPerGiB: warm.cpu,
    });
    // The same reads without the SDK's own cost on the client, which otherwise caps both sides.
    const dp = await median(() => readPlain(direct));
    line({ case: 'direct', client: 'http', seconds: dp.seconds, MiBps: mibps(dp.seconds), runs: dp.runs });
    const wp = await median(() => readPlain(agentUrl));
    line({ case: 'agent-warm', client: 'http', seconds: wp.seconds, MiBps: mibps(wp.seconds), vsDirect: ratio(dp.seconds, wp.seconds), runs: wp.runs });
    const check = await read(viaAgent, true);
    if (check.md5 !== objectMd5) throw new Error(`bytes through the agent differ: MD5 ${check.md5}, object ${objectMd5}`);
    line({
      case: 'summary',
      identicalBytes: true,
      warmOverDirect: ratio(d.seconds, warm.seconds),
      warmOverCold: ratio(cold.seconds, warm.seconds),
      coldOverDirect: ratio(d.seconds, cold.seconds),
      warmOverDirectHttp: ratio(dp.seconds, wp.seconds),
    });
    viaDirect.destroy();
    viaAgent.destroy();
  } finally {
    for (const c of children) {
      c.removeAllListeners('exit');
      if (c.exitCode === null) {
        const exited = once(c, 'exit');
        c.kill('SIGTERM');
        await exited;
      }
    }
    await rm(s3Dir, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
    await rm(datasets, { force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:agent failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
