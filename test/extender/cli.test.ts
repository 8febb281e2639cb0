import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseExtenderFlags, run as runExtender, type ExtenderFlags } from '../../src/cli/extender.js';
import { formatExplanation, run as explain } from '../../src/cli/explain.js';
import { UsageError } from '../../src/runtime/flags.js';
import { parseBytes, parseDuration } from '../../src/runtime/units.js';
import { SettingsError } from '../../src/runtime/settings.js';
import { capture, captureBody, fixtureExtender, inventoryFiles, post, type Wire } from './harness.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { parseObjects } from '../../src/inventory/file-source.js';
import type { ObjectKind } from '../../src/inventory/feed.js';
import type { KubeObject } from '../../src/kube/object.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `locus extender …` as a child process; resolves with its URL once it logs that it listens. */
async function spawnExtender(args: string[]): Promise<{ child: ChildProcess; url: string; logs: Wire[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/locus.ts', 'extender', '--listen', '127.0.0.1:0', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Wire[] = [];
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const entry = JSON.parse(line);
      logs.push(entry);
      if (entry.msg === 'listening') resolve(entry.url);
    });
    child.once('exit', (code) => reject(new Error(`locus extender exited with ${code}`)));
  });
  // It listens before its sources have synced; the tests want answers from the index.
  while ((await fetch(`${url}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
  return { child, url, logs };
}

describe('locus extender (CLI)', () => {
  describe('flags', () => {
    it('has defaults for everything', () => {
      const flags = parseExtenderFlags([]) as ExtenderFlags;
      expect(flags).to.deep.include({
        host: '127.0.0.1',
        port: 8888,
        prefix: '/scheduler',
        policy: 'locality',
        ttlMs: 900_000,
        bodyLimit: 64 << 20,
        logLevel: 'info',
      });
      expect(flags.files).to.equal(undefined);
    });

    it('reads every flag', () => {
      const flags = parseExtenderFlags([
        '--listen',
        '[::1]:9000',
        '--prefix',
        '/x',
        '--policy',
        'none',
        '--ttl',
        '90s',
        '--agent-refresh-interval',
        '1m',
        '--body-limit',
        '1Mi',
        '--zone-credit',
        '0.7',
        '--region-credit',
        '0',
        '--log-level',
        'debug',
        '--nodes',
        'a.yaml',
        '--nodes',
        'b.yaml',
        '--caches',
        'c.yaml',
      ]) as ExtenderFlags;
      expect(flags).to.deep.include({
        host: '::1',
        port: 9000,
        prefix: '/x',
        policy: 'none',
        ttlMs: 90_000,
        bodyLimit: 1 << 20,
        logLevel: 'debug',
        scoring: { zoneCredit: 0.7, regionCredit: 0 },
      });
      expect(flags.files).to.deep.equal({ nodes: ['a.yaml', 'b.yaml'], datasets: [], caches: ['c.yaml'] });
    });

    const bad: Array<[string[], RegExp]> = [
      [['--listen', '8888'], /--listen must be <host>:<port>/],
      [['--policy', 'nearest'], /--policy must be one of locality, dataset-affinity, none, got "nearest"/],
      [['--ttl', '15'], /--ttl must be a duration such as 15m, 1m30s or 500ms, got "15"/],
      [['--body-limit', 'big'], /--body-limit must be a size/],
      [['--zone-credit', '2'], /--zone-credit must be a number from 0 to 1/],
      [['--log-level', 'loud'], /--log-level must be one of/],
      [['--nodes', 'n.yaml', '--kubeconfig', 'k'], /either files .* or a cluster/],
      [['--bogus'], /bogus/],
      [['--warm-nodes', '2', '--warm-node-budget', '1Gi'], /--warm-node-budget has no effect without --warm-budget <size>/],
      [['--warm-scheduler-name', 'x'], /--warm-scheduler-name has no effect without --warm-budget/],
      [['--warm-budget', '1Gi', '--nodes', 'n.yaml'], /--warm-budget needs a cluster/],
      [['--warm-budget', '1Gi', '--warm-nodes', '0'], /--warm-nodes/],
    ];
    for (const [argv, message] of bad) {
      it(`refuses ${argv.join(' ')}, naming the flag`, () => {
        expect(() => parseExtenderFlags(argv)).to.throw(UsageError, message);
      });
    }

    it('leaves warm-ahead off by default, and reads its flags', () => {
      expect((parseExtenderFlags([]) as ExtenderFlags).warm).to.equal(undefined);
      const previous = process.env.POD_NAMESPACE;
      process.env.POD_NAMESPACE = 'locus-ops';
      try {
        expect((parseExtenderFlags(['--warm-budget', '10Gi']) as ExtenderFlags).warm).to.deep.equal({
          clusterBytes: 10 * 2 ** 30,
          nodeBytes: 10 * 2 ** 30,
          afterMs: 30_000,
          nodesPerPod: 1,
          schedulerNames: ['locus-scheduler'],
          intervalMs: 5_000,
          leaseNamespace: 'locus-ops',
        });
      } finally {
        if (previous === undefined) delete process.env.POD_NAMESPACE;
        else process.env.POD_NAMESPACE = previous;
      }
      const argv = ['--warm-budget', '10Gi', '--warm-node-budget', '2Gi', '--warm-after', '2m', '--warm-nodes', '2'];
      argv.push('--warm-scheduler-name', 'a', '--warm-scheduler-name', 'b', '--warm-interval', '1s', '--warm-lease-namespace', 'ops');
      expect((parseExtenderFlags(argv) as ExtenderFlags).warm).to.deep.equal({
        clusterBytes: 10 * 2 ** 30,
        nodeBytes: 2 * 2 ** 30,
        afterMs: 120_000,
        nodesPerPod: 2,
        schedulerNames: ['a', 'b'],
        intervalMs: 1_000,
        leaseNamespace: 'ops',
      });
    });

    it("refuses a --ttl not longer than the agents' refresh interval, naming both", () => {
      expect(() => parseExtenderFlags(['--ttl', '5m'])).to.throw(SettingsError, /--ttl \(5m\) must be longer than --agent-refresh-interval \(10m\)/);
      expect(() => parseExtenderFlags(['--ttl', '20m', '--agent-refresh-interval', '20m'])).to.throw(SettingsError, /\(20m\) must be longer than .* \(20m\)/);
      expect((parseExtenderFlags(['--ttl', '21m', '--agent-refresh-interval', '20m']) as ExtenderFlags).ttlMs).to.equal(21 * 60_000);
    });

    it('parses durations and sizes', () => {
      expect([
        parseDuration('500ms'),
        parseDuration('1.5h'),
        parseDuration('15m'),
        parseDuration('1m30s'),
        parseDuration('30d'),
        parseDuration('15'),
        parseDuration('1m30'),
      ]).to.deep.equal([500, 5_400_000, 900_000, 90_000, 2_592_000_000, undefined, undefined]);
      expect([
        parseBytes('64Mi'),
        parseBytes('10M'),
        parseBytes('1048576'),
        parseBytes('1Gi'),
        parseBytes('-1'),
        parseBytes('10MB'),
        parseBytes('1 GiB'),
      ]).to.deep.equal([64 << 20, 10_000_000, 1048576, 1 << 30, undefined, undefined, undefined]);
    });
  });

  describe('running standalone from files', function () {
    // Starting the CLI through tsx takes seconds, more on a busy machine.
    this.timeout(90_000);
    const files = ['--nodes', inventoryFiles.nodes[0], '--datasets', inventoryFiles.datasets[0], '--caches', inventoryFiles.caches[0]];

    it('serves the verbs, explains a pod as a table, and exits 0 on SIGTERM', async () => {
      const { child, url, logs } = await spawnExtender([...files, '--log-level', 'debug']);
      try {
        const res = await post(`${url}/scheduler/prioritize`, captureBody('prioritize-nodecachecapable-true.json'));
        expect(res.json).to.deep.equal([
          { Host: 'node-a', Score: 4 },
          { Host: 'node-b', Score: 9 },
        ]);
        let printed = '';
        expect(
          await explain(['default/capture-basic', '--server', url], (t) => {
            printed += t;
          }),
        ).to.equal(0);
        const rows = printed.trim().split('\n');
        expect(rows[0]).to.equal('pod default/capture-basic  policy locality  datasets default/my-dataset');
        expect(rows[1]).to.match(/^NODE\s+SCORE\s+ZONE\s+LIVE\s+DATASET\s+ON NODE\s+IN ZONE\s+IN REGION\s+SIZE\s+CREDITED\s+NOTE$/);
        expect(rows[2]).to.match(/^node-b\s+9\s+zone-1\s+yes\s+default\/my-dataset\s+92\.0MiB\s+92\.0MiB\s+92\.0MiB\s+100\.0MiB\s+92\.0MiB$/);
        expect(rows.slice(2).map((r) => r.split(/\s+/)[0])).to.deep.equal(['node-b', 'node-a', 'node-c']);
        // One JSON log line per decision at debug level.
        expect(logs.filter((l) => l.msg === 'decision').map((l) => [l.verb, l.outcome, l.nodes])).to.deep.equal([['prioritize', 'ok', 2]]);
      } finally {
        child.kill('SIGTERM');
      }
      const [code] = await once(child, 'exit');
      expect(code).to.equal(0);
    });

    it('exits 1 when a file cannot be loaded', async () => {
      expect(await runExtender(['--listen', '127.0.0.1:0', '--nodes', '/nonexistent.yaml', '--log-level', 'fatal'])).to.equal(1);
    });
  });

  describe('running on a cluster', () => {
    it('watches the cluster --kubeconfig names, explains a pod read from the API, and stops on SIGTERM', async function () {
      this.timeout(60_000);
      const api = await FakeApiServer.start();
      try {
        const files: Array<[ObjectKind, string]> = [
          ['Node', inventoryFiles.nodes[0]],
          ['Dataset', inventoryFiles.datasets[0]],
          ['NodeCache', inventoryFiles.caches[0]],
        ];
        for (const [kind, file] of files) {
          for (const { obj } of parseObjects(kind, file, readFileSync(file, 'utf8')).values()) api.put(obj as KubeObject);
        }
        api.put({ apiVersion: 'v1', kind: 'Pod', ...capture('filter-nodecachecapable-true.json').Pod });
        const port = await freePort();
        const running = runExtender(['--listen', `127.0.0.1:${port}`, '--kubeconfig', api.writeKubeconfig(), '--log-level', 'fatal']);
        const url = `http://127.0.0.1:${port}`;
        const end = Date.now() + 30_000;
        while (
          (await fetch(`${url}/readyz`).then(
            (r) => r.status,
            () => 0,
          )) !== 200
        ) {
          if (Date.now() > end) throw new Error('not ready');
          await new Promise((r) => setTimeout(r, 50));
        }
        const answer: Wire = await (await fetch(`${url}/v1/explain?pod=default/capture-basic&node=node-b`)).json();
        expect(answer.nodes.map((n: Wire) => [n.node, n.score])).to.deep.equal([['node-b', 9]]);
        process.emit('SIGTERM');
        expect(await running).to.equal(0);
      } finally {
        await api.close();
      }
    });
  });

  describe('locus explain', () => {
    it('reports what the extender answered when it refuses', async () => {
      const ext = await fixtureExtender();
      const errors: string[] = [];
      const write = process.stderr.write;
      process.stderr.write = ((t: string) => errors.push(t) > 0) as typeof process.stderr.write;
      try {
        expect(await explain(['default/nobody', '--server', ext.url], () => undefined)).to.equal(1);
      } finally {
        process.stderr.write = write;
        await ext.close();
      }
      expect(errors.join('')).to.match(/answered 404: pod default\/nobody is unknown/);
    });

    it('explains a pod given as a file, as JSON', async () => {
      const ext = await fixtureExtender();
      const dir = mkdtempSync(join(tmpdir(), 'locus-explain-'));
      writeFileSync(join(dir, 'pod.json'), JSON.stringify(capture('filter-nodecachecapable-true.json').Pod));
      let printed = '';
      try {
        expect(
          await explain(['--pod-file', join(dir, 'pod.json'), '--node', 'node-a', '--json', '--server', ext.url], (t) => {
            printed += t;
          }),
        ).to.equal(0);
      } finally {
        await ext.close();
      }
      const answer = JSON.parse(printed);
      expect(answer.nodes.map((n: Wire) => [n.node, n.score])).to.deep.equal([['node-a', 4]]);
    });

    it('refuses a malformed pod reference', async () => {
      for (const argv of [[], ['nobody'], ['a/b', 'c/d']]) {
        try {
          await explain(argv, () => undefined);
          expect.fail('should have thrown');
        } catch (err) {
          expect(err).to.be.instanceOf(UsageError);
        }
      }
    });

    it('formats problems and a pod without datasets', () => {
      const text = formatExplanation({
        pod: 'a/b',
        policy: 'locality',
        ready: false,
        datasets: [],
        problems: [{ field: 'dataset.0.useas', message: 'bad' }],
        nodes: [{ node: 'n', policy: 'locality', score: 0, inventoryLive: false, datasets: [] }],
      });
      expect(text).to.contain('(none)  (extender not synced yet)');
      expect(text).to.contain('problem: dataset.0.useas: bad');
      expect(text.trim().split('\n').at(-1)).to.match(/^n\s+0\s+-\s+no\s+-$/);
    });

    it('prints the slice a pod reads beside its Dataset, and the filter verdict per node in NOTE', () => {
      const MiB = 1 << 20;
      const row = (node: string, onNode: number, filter: { passed: boolean; reason?: string }) => ({
        node,
        policy: 'locality' as const,
        score: onNode > 0 ? 10 : 5,
        zone: 'z1',
        inventoryLive: true,
        filter,
        datasets: [
          {
            dataset: 'ml/logs',
            slice: 'shard 1/2 (blocks 4-7)',
            sliceBytes: 4 * MiB,
            totalBytes: 8 * MiB,
            onNode,
            inZone: 4 * MiB,
            inRegion: 4 * MiB,
            credited: onNode,
          },
        ],
      });
      const text = formatExplanation({
        pod: 'ml/reader',
        policy: 'locality',
        ready: true,
        datasets: ['ml/logs'],
        problems: [],
        nodes: [
          row('node-b', 4 * MiB, { passed: true }),
          row('node-a', 0, { passed: false, reason: 'holds 0 percent of ml/logs shard 1/2, pod requires 50 percent' }),
        ],
      });
      const [, header, b, a] = text.trim().split('\n');
      expect(header).to.match(/DATASET\s+ON NODE/);
      expect(b).to.match(/^node-b\s+10\s+z1\s+yes\s+ml\/logs shard 1\/2 \(blocks 4-7\)\s+4\.0MiB\s+4\.0MiB\s+4\.0MiB\s+4\.0MiB\s+4\.0MiB\s+filter: passed$/);
      expect(a).to.match(/^node-a\s+5 .*\s0B\s.*filtered out: holds 0 percent of ml\/logs shard 1\/2, pod requires 50 percent$/);
    });
  });
});
