// A real crash: `locus agent` in its own process, killed with SIGKILL while it fills its cache; the
// agent started on the same directory afterwards keeps only whole blocks and serves the exact bytes.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { agentFor, bytes, clientFor, getBytes, MiB, tempDir, spawnLocus } from './harness.js';
import { S3RVER_KEYS, startRemote, type Remote } from './remote.js';

const BUCKET = 'data';
const KEY = 'big/object';
const BODY = bytes(24 * MiB + 7, 41);

describe('agent killed while filling its cache', function () {
  this.timeout(60_000);
  let remote: Remote;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    remote = await startRemote([BUCKET]);
    await remote.direct.put(BUCKET, KEY, BODY);
    dir = await tempDir();
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await remote.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no partial block that a restarted agent would serve', async () => {
    const cache = join(dir, 'cache');
    const datasets = join(dir, 'datasets.yaml');
    await writeFile(datasets, `datasets:\n  - {namespace: ml, name: big, bucket: ${BUCKET}, prefix: big/, blockSize: ${MiB}}\n`);
    child = spawnLocus(
      [
        'agent',
        `--upstream=${remote.endpoint}`,
        '--listen=127.0.0.1:0',
        '--ops-listen=127.0.0.1:0',
        `--cache-dir=${cache}`,
        '--capacity=1Gi',
        `--datasets=${datasets}`,
        '--no-publish',
        '--no-auth',
      ],
      {
        env: { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_KEYS.accessKeyID, AWS_SECRET_ACCESS_KEY: S3RVER_KEYS.secretAccessKey },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      child!.once('exit', (code) => reject(new Error(`agent exited with ${code}`)));
      createInterface({ input: child!.stdout! }).on('line', (l) => {
        if (l.includes('agent listening')) resolve((JSON.parse(l) as { s3: string }).s3);
      });
    });

    // Read the whole object and kill the agent once some, not all, blocks are on disk.
    const client = clientFor(url);
    const reading = getBytes(client, BUCKET, KEY).catch(() => undefined);
    for (let blocks = 0; blocks < 3;) {
      await new Promise((r) => setTimeout(r, 5));
      blocks = (await readdir(cache).catch(() => [])).filter((f) => f.endsWith('.blk')).length;
    }
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    await reading;
    client.destroy();
    const left = await readdir(cache);
    expect(left.filter((f) => f.endsWith('.blk')).length).to.be.within(3, 24);

    const restarted = await agentFor(remote, cache, { datasets: [{ namespace: 'ml', name: 'big', bucket: BUCKET, prefix: 'big/', blockSize: MiB }] });
    try {
      expect((await readdir(cache)).every((f) => f.endsWith('.blk'))).to.equal(true);
      const c = clientFor(restarted.s3Url);
      expect((await getBytes(c, BUCKET, KEY)).equals(BODY)).to.equal(true);
      const hits = (await restarted.metrics.hits.get()).values[0]?.value ?? 0;
      expect(hits).to.be.at.least(3);
      c.destroy();
    } finally {
      await restarted.close();
    }
  });
});
