// Starts agents against a test remote, and S3 clients against the agents.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, open as openFile, readdir, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { startAgent, type Agent, type AgentConfig } from '../../src/agent/agent.js';
import { S3RVER_KEYS, type Remote } from './remote.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MiB = 1024 * 1024;
export const silent = pino({ level: 'silent' });

export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'locus-agent-'));
}

export function agentFor(remote: Remote, cacheDir: string, overrides: Partial<AgentConfig> = {}): Promise<Agent> {
  return startAgent({
    s3: { host: '127.0.0.1', port: 0 },
    ops: { host: '127.0.0.1', port: 0 },
    cacheDir,
    capacityBytes: 1024 * MiB,
    blockSize: MiB,
    upstream: {
      endpoint: remote.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: S3RVER_KEYS.accessKeyID, secretAccessKey: S3RVER_KEYS.secretAccessKey },
    },
    relistMs: 60_000,
    log: silent,
    ...overrides,
  });
}

export function clientFor(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEYS.accessKeyID, secretAccessKey: S3RVER_KEYS.secretAccessKey },
    maxAttempts: 1,
  });
}

/** GetObject through `client`; `range` is [start, end] inclusive. */
export async function getBytes(client: S3Client, bucket: string, key: string, range?: [number, number]): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: `bytes=${range[0]}-${range[1]}` } : {}) }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** Total size of the files in a directory (what the cache really occupies). */
export async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir)) n += (await stat(join(dir, f))).size;
  return n;
}

/** Deterministic pseudo-random bytes (a seeded xorshift), so failures reproduce. */
export function bytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The S3 error a request failed with (name and HTTP status); throws when the request succeeded. */
export async function s3Error(p: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected an S3 error, the request succeeded');
}

/** A disk of `diskBytes`: writes past it fail with ENOSPC, as a full filesystem's do. */
export function smallDisk(dir: string, diskBytes: number): (path: string, flags: string) => Promise<FileHandle> {
  const used = () => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  return async (path, flags) => {
    const fh = await openFile(path, flags);
    return new Proxy(fh, {
      get(target, prop, receiver) {
        if (prop === 'writev') {
          return async (buffers: Buffer[], position?: number) => {
            const n = buffers.reduce((s, b) => s + b.length, 0);
            const end = (position ?? 0) + n;
            if (used() - statSync(path).size + Math.max(end, statSync(path).size) > diskBytes) throw enospc();
            return target.writev(buffers, position);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
}

/** Runs the `locus` CLI (through tsx, from the repository root) with `args`, as an agent test's child process. */
export function spawnLocus(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/locus.ts', ...args], { cwd: ROOT, ...options });
}
