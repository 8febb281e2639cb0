// Probe 5 (memory) and the agent's resource test, on the real binary: a 10-byte range read of a
// 512 MiB block pulled the whole block into memory (peak RSS 780 MB against the DaemonSet's 1Gi),
// and 15 idle clients pinned 250 MB. The agent runs as its own process (`locus agent`, with agent
// keys, as deployed); its peak RSS is read from /proc (VmHWM, reset before each probe) and compared
// with the block size and with the memory limit in deploy/agent/daemonset.yaml.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { S3Client } from '@aws-sdk/client-s3';
import YAML from 'yaml';
import { bytes, getBytes, MiB } from '../agent/harness.js';
import { AGENT_KEY, credsFor, presignedUrl, s3ClientAs } from './agent-support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BUCKET = 'big';
const BLOCK = 256 * MiB;
const KEY = 'data/object.bin';
const SIZE = BLOCK + 3 * MiB; // two blocks: one large, one small
const SEED = 7;

/** `Vm…` of a process in bytes, from /proc/<pid>/status. */
function vm(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** Starts the peak (VmHWM) again from the current RSS. */
async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

/** `64Mi`, `1Gi` → bytes (the quantities the manifests use). */
function quantity(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`unexpected quantity ${q}`);
  return Number(m[1]) * { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[m[2] as 'Ki' | 'Mi' | 'Gi'];
}

/** Writes an object straight into s3rver's directory (an upload of this size would dominate the test). */
async function writeObject(dir: string, bucket: string, key: string, size: number, seed: number): Promise<void> {
  const parts = key.split('/');
  const file = parts.pop()!;
  const base = join(dir, bucket, ...parts);
  await mkdir(base, { recursive: true });
  const path = join(base, `${file}._S3rver_object`);
  const fh = await open(path, 'w');
  const md5 = createHash('md5');
  for (let at = 0; at < size; at += 16 * MiB) {
    const chunk = bytes(Math.min(16 * MiB, size - at), seed + at);
    md5.update(chunk);
    await fh.write(chunk);
  }
  await fh.close();
  await writeFile(`${path}.md5`, md5.digest('hex'));
}

/** The bytes writeObject wrote at [from, from + length). */
function expected(from: number, length: number): Buffer {
  const at = Math.floor(from / (16 * MiB)) * 16 * MiB;
  return bytes(Math.min(16 * MiB, SIZE - at), SEED + at).subarray(from - at, from - at + length);
}

function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  children: ChildProcess[],
): { child: ChildProcess; line: (pick: (l: string) => string | undefined) => Promise<string> } {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  return {
    child,
    line: (pick) =>
      new Promise((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
        lines.on('line', (l) => {
          const v = pick(l);
          if (v !== undefined) resolve(v);
        });
      }),
  };
}

describe('security probe 5 (memory) and resource test: the agent process under range reads and idle clients', function () {
  this.timeout(180_000);
  const children: ChildProcess[] = [];
  let dir: string;
  let agentPid: number;
  let agentUrl: string;
  let client: S3Client;
  let limitBytes: number;

  before(async () => {
    const ds = YAML.parseAllDocuments(await readFile(new URL('../../deploy/agent/daemonset.yaml', import.meta.url), 'utf8'))
      .map((d) => d.toJSON())
      .find((d) => d.kind === 'DaemonSet');
    limitBytes = quantity(ds.spec.template.spec.containers[0].resources.limits.memory);
    dir = await mkdtemp(join(tmpdir(), 'locus-memory-'));
    const s3Dir = join(dir, 's3');
    await mkdir(join(s3Dir, BUCKET), { recursive: true });
    await writeObject(s3Dir, BUCKET, KEY, SIZE, SEED);
    const s3 = startChild(['--openssl-legacy-provider', join(root, 'test/catalog/s3rver-process.mjs'), s3Dir, BUCKET], process.env, children);
    const upstream = `http://127.0.0.1:${await s3.line((l) => String(JSON.parse(l).port))}`;
    await writeFile(join(dir, 'datasets.yaml'), `datasets:\n  - {namespace: ml, name: big, bucket: ${BUCKET}, prefix: data/, blockSize: ${BLOCK}}\n`);
    await writeFile(join(dir, 'agent-key'), `${AGENT_KEY.toString()}\n`);
    const agent = startChild(
      [
        '--import',
        'tsx',
        'src/cli/locus.ts',
        'agent',
        `--upstream=${upstream}`,
        '--listen=127.0.0.1:0',
        '--ops-listen=127.0.0.1:0',
        `--cache-dir=${join(dir, 'cache')}`,
        '--capacity=2Gi',
        `--datasets=${join(dir, 'datasets.yaml')}`,
        '--no-publish',
        `--auth-key-file=${join(dir, 'agent-key')}`,
      ],
      { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
      children,
    );
    agentUrl = await agent.line((l) => (l.includes('agent listening') ? (JSON.parse(l) as { s3: string }).s3 : undefined));
    agentPid = agent.child.pid!;
    client = s3ClientAs(agentUrl, credsFor('ml', 'big'));
    // Warm the agent's code paths (SDK, listing) with a read of the small block.
    expect((await getBytes(client, BUCKET, KEY, [SIZE - 10, SIZE - 1])).equals(expected(SIZE - 10, 10))).to.equal(true);
  });

  after(async () => {
    client?.destroy();
    for (const c of children) {
      c.removeAllListeners('exit');
      if (c.exitCode === null && c.signalCode === null) {
        const exited = once(c, 'exit');
        c.kill('SIGTERM');
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it(`a 10-byte range read of a ${BLOCK / MiB} MiB block that is not cached grows the agent's RSS by well under the block`, async () => {
    await resetPeak(agentPid);
    const before = vm(agentPid, 'VmRSS');
    const got = await getBytes(client, BUCKET, KEY, [1000, 1009]);
    expect(got.equals(expected(1000, 10))).to.equal(true);
    const growth = vm(agentPid, 'VmHWM') - before;
    if (process.env.LOCUS_PRINT_FIGURES) process.stdout.write(`range read: peak RSS +${Math.round(growth / MiB)} MiB for a ${BLOCK / MiB} MiB block\n`);
    expect(growth, `peak RSS grew by ${Math.round(growth / MiB)} MiB for a ${BLOCK / MiB} MiB block`).to.be.below(BLOCK / 2);
  });

  it('stays within the DaemonSet memory limit under concurrent range reads and 15 idle clients that never read', async () => {
    await resetPeak(agentPid);
    const url = await presignedUrl(agentUrl, `/${BUCKET}/${KEY}`, credsFor('ml', 'big'));
    const u = new URL(url);
    // Idle clients: ask for the whole object, then never read a byte of the answer.
    const idle: Socket[] = await Promise.all(
      Array.from(
        { length: 15 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const s = connect(Number(u.port), u.hostname, () => {
              s.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
              s.pause();
              resolve(s);
            });
            s.on('error', reject);
          }),
      ),
    );
    const reads = Array.from({ length: 16 }, (_, i) => {
      const from = (i * 7_919_003) % (SIZE - 10);
      return getBytes(client, BUCKET, KEY, [from, from + 9]).then((b) => expect(b.equals(expected(from, 10)), `bytes at ${from}`).to.equal(true));
    });
    await Promise.all(reads);
    await new Promise((r) => setTimeout(r, 2_000)); // the idle clients' answers are as far as they get
    const peak = vm(agentPid, 'VmHWM');
    for (const s of idle) s.destroy();
    expect(peak, `peak RSS ${Math.round(peak / MiB)} MiB, limit ${limitBytes / MiB} MiB`).to.be.below(limitBytes);
    if (process.env.LOCUS_PRINT_FIGURES) process.stdout.write(`agent peak RSS ${Math.round(peak / MiB)} MiB (limit ${limitBytes / MiB} MiB)\n`);
  });
});
