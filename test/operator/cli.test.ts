import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOperatorFlags, type OperatorFlags } from '../../src/cli/operator.js';
import { UsageError } from '../../src/runtime/flags.js';

describe('locus operator flags', () => {
  it('takes the documented flags', () => {
    const f = parseOperatorFlags([
      '--kubeconfig',
      '/tmp/kc',
      '--namespace',
      'ml',
      '--catalog-interval',
      '90s',
      '--storage-class-s3',
      's3',
      '--storage-class-nfs',
      'nfs-csi',
      '--hive-metastore',
      'thrift://hive:9083',
      '--listen',
      '127.0.0.1:9090',
      '--pod-name-limit',
      '5',
      '--workers',
      '4',
    ]) as OperatorFlags;
    expect(f).to.deep.include({ host: '127.0.0.1', port: 9090, kubeconfig: '/tmp/kc', namespace: 'ml', workers: 4 });
    expect(f.config).to.deep.include({
      catalogIntervalMs: 90_000,
      storageClassS3: 's3',
      storageClassNfs: 'nfs-csi',
      hiveMetastore: 'thrift://hive:9083',
      podNameLimit: 5,
    });
  });

  it('has defaults matching the deploy manifests', () => {
    const f = parseOperatorFlags([]) as OperatorFlags;
    expect(f).to.deep.include({ host: '0.0.0.0', port: 8080, workers: 2 });
    expect(f.config).to.deep.include({ storageClassS3: 'csi-s3', storageClassNfs: 'nfs', catalogIntervalMs: 600_000 });
    expect(parseOperatorFlags(['-h'])).to.equal('help');
  });

  it('takes the archive staging store and its bounds, and the createDirPVC image', () => {
    const f = parseOperatorFlags([
      '--archive-endpoint',
      'http://minio.storage:9000',
      '--archive-bucket',
      'locus-archives',
      '--archive-secret',
      'locus-system/archive-store',
      '--archive-prefix',
      'staged/',
      '--archive-max-bytes',
      '2Gi',
      '--archive-max-extracted-bytes',
      '8Gi',
      '--archive-timeout',
      '20m',
      '--archive-workers',
      '3',
      '--nfs-helper-image',
      'registry.local/busybox:1.36',
    ]) as OperatorFlags;
    expect(f.config.archiveStore).to.deep.equal({
      endpoint: 'http://minio.storage:9000',
      region: '',
      bucket: 'locus-archives',
      prefix: 'staged/',
      secret: { namespace: 'locus-system', name: 'archive-store' },
    });
    expect(f.config.archiveLimits).to.deep.include({ maxDownloadBytes: 2 * 1024 ** 3, maxExtractedBytes: 8 * 1024 ** 3, timeoutMs: 20 * 60_000 });
    expect(f.config).to.deep.include({ archiveConcurrency: 3, nfsHelperImage: 'registry.local/busybox:1.36' });
    expect((parseOperatorFlags([]) as OperatorFlags).config.archiveStore).to.equal(undefined);
  });

  for (const [argv, message] of [
    [['--archive-endpoint', 'http://minio:9000'], /--archive-endpoint, --archive-bucket and --archive-secret go together/],
    [['--archive-endpoint', 'minio:9000', '--archive-bucket', 'b-1', '--archive-secret', 'a/b'], /--archive-endpoint must be an http\(s\) URL/],
    [['--archive-endpoint', 'http://minio:9000', '--archive-bucket', 'B', '--archive-secret', 'a/b'], /--archive-bucket must be an S3 bucket name/],
    [['--archive-endpoint', 'http://minio:9000', '--archive-bucket', 'bkt', '--archive-secret', 'store'], /--archive-secret must be <namespace>\/<name>/],
    [
      ['--archive-endpoint', 'http://minio:9000', '--archive-bucket', 'bkt', '--archive-secret', 'a/b', '--archive-prefix', 'x'],
      /--archive-prefix must be empty or end in "\/"/,
    ],
    [['--catalog-interval', 'soon'], /--catalog-interval must be a duration such as 15m/],
    [['--hive-metastore', 'hive:9083'], /--hive-metastore must be thrift:\/\/<host>:<port>/],
    [['--listen', '8080'], /--listen must be <host>:<port>/],
    [['--workers', '0'], /--workers must be a whole number/],
    [['--volume-size', 'big'], /--volume-size must be a size such as 64Mi/],
    [['--storage-class-s3', ''], /--storage-class-s3 must not be empty/],
    [['--agent-upstream', 'minio:9000'], /--agent-upstream must be an http\(s\) URL/],
    [['--agent-url', 'locus-agent:9300'], /--agent-url must be an http\(s\) URL/],
    [['--bogus'], /bogus/],
  ] as const) {
    it(`refuses ${argv.join(' ')} naming the flag`, () => {
      expect(() => parseOperatorFlags([...argv])).to.throw(UsageError, message);
    });
  }

  describe('agent credentials', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'locus-operator-flags-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("defaults --agent-url to the agents' Service in deploy/, and takes the upstream and key file", () => {
      expect((parseOperatorFlags([]) as OperatorFlags).config.agent).to.deep.equal({
        url: 'http://locus-agent.locus-system.svc:9300',
        upstream: undefined,
        keyFile: undefined,
        readThroughDefault: false,
      });
      const file = join(dir, 'key');
      writeFileSync(file, `${'k'.repeat(48)}\n`);
      const f = parseOperatorFlags([
        '--agent-url=http://agent:9300',
        '--agent-upstream=http://minio.storage:9000',
        `--agent-key-file=${file}`,
      ]) as OperatorFlags;
      expect(f.config.agent).to.deep.equal({ url: 'http://agent:9300', upstream: 'http://minio.storage:9000', keyFile: file, readThroughDefault: false });
    });

    it('takes --read-through-default, the cluster level of transparent caching (off unless given)', () => {
      expect((parseOperatorFlags(['--read-through-default']) as OperatorFlags).config.agent.readThroughDefault).to.equal(true);
    });

    it('refuses a malformed key file at start, naming it, but not a missing one (kubelet fills the optional volume later)', () => {
      const short = join(dir, 'short');
      writeFileSync(short, 'too-short\n');
      expect(() => parseOperatorFlags([`--agent-key-file=${short}`])).to.throw(UsageError, /--agent-key-file .*short: key 1 has 9 bytes/);
      expect((parseOperatorFlags([`--agent-key-file=${join(dir, 'absent')}`]) as OperatorFlags).config.agent.keyFile).to.equal(join(dir, 'absent'));
    });
  });
});
