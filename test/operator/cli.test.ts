import { expect } from 'chai';
import { parseOperatorFlags, type OperatorFlags } from '../../src/cli/operator.js';
import { UsageError } from '../../src/runtime/flags.js';

describe('locus operator flags', () => {
  it('takes the documented flags', () => {
    const f = parseOperatorFlags([
      '--kubeconfig', '/tmp/kc', '--namespace', 'ml', '--catalog-interval', '90s', '--storage-class-s3', 's3', '--storage-class-nfs', 'nfs-csi',
      '--hive-metastore', 'thrift://hive:9083', '--listen', '127.0.0.1:9090', '--pod-name-limit', '5', '--workers', '4',
    ]) as OperatorFlags;
    expect(f).to.deep.include({ host: '127.0.0.1', port: 9090, kubeconfig: '/tmp/kc', namespace: 'ml', workers: 4 });
    expect(f.config).to.deep.include({ catalogIntervalMs: 90_000, storageClassS3: 's3', storageClassNfs: 'nfs-csi', hiveMetastore: 'thrift://hive:9083', podNameLimit: 5 });
  });

  it('has defaults matching the deploy manifests', () => {
    const f = parseOperatorFlags([]) as OperatorFlags;
    expect(f).to.deep.include({ host: '0.0.0.0', port: 8080, workers: 2 });
    expect(f.config).to.deep.include({ storageClassS3: 'csi-s3', storageClassNfs: 'nfs', catalogIntervalMs: 600_000 });
    expect(parseOperatorFlags(['-h'])).to.equal('help');
  });

  for (const [argv, message] of [
    [['--catalog-interval', 'soon'], /--catalog-interval must be a duration such as 15m/],
    [['--hive-metastore', 'hive:9083'], /--hive-metastore must be thrift:\/\/<host>:<port>/],
    [['--listen', '8080'], /--listen must be <host>:<port>/],
    [['--workers', '0'], /--workers must be a whole number/],
    [['--volume-size', 'big'], /--volume-size must be a size such as 64Mi/],
    [['--storage-class-s3', ''], /--storage-class-s3 must not be empty/],
    [['--bogus'], /bogus/],
  ] as const) {
    it(`refuses ${argv.join(' ')} naming the flag`, () => {
      expect(() => parseOperatorFlags([...argv])).to.throw(UsageError, message);
    });
  }
});
