// Probe 6 (issue 14): the operator connects where a tenant's Dataset says. A hostile metastore
// streamed 515 MiB into it (RSS 1.1 GB against a 512Mi limit), and its status told ECONNREFUSED
// from a parse error, enough to scan ports. Catalog and Hive calls are now bounded in bytes and
// time, fail with one message whatever the cause, and check the addresses names resolve to.
import { expect } from 'chai';
import { AddressRefused, guardedLookup } from '../../src/catalog/address-guard.js';
import { CatalogLookupError, HiveMetastoreLocator } from '../../src/catalog/hive.js';
import { CatalogError, listObjects } from '../../src/catalog/s3.js';
import { addressDenial, parsePolicy } from '../../src/operator/policy.js';
import { endlessMetastore, endlessS3, garbageServer } from './hostile-servers.js';

/** The error `p` fails with (a test failure when it succeeds). */
const failure = <E extends Error>(p: Promise<unknown>): Promise<E> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: E) => e,
  );
const KEYS = { accessKeyID: 'a', secretAccessKey: 'b' };
const HUGE = 515 * 1024 * 1024;

describe('security probe 6: catalog and Hive calls are bounded and say nothing about the port', () => {
  it('stops reading a metastore that streams a 515 MiB answer at the byte limit', async function () {
    this.timeout(30_000);
    const metastore = await endlessMetastore(HUGE);
    try {
      const limit = 1024 * 1024;
      const err = await new HiveMetastoreLocator({ maxResponseBytes: limit })
        .locate(`thrift://127.0.0.1:${metastore.port}`, 'default/books')
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(CatalogLookupError);
      expect((err as Error).message).to.match(/no usable answer from a Hive metastore/);
      expect(((err as Error).cause as Error).message).to.equal(`answer larger than ${limit} bytes`);
      // What was sent is what sat in socket buffers when the client closed, not 515 MiB.
      expect(metastore.sent()).to.be.below(limit + 16 * 1024 * 1024);
    } finally {
      await metastore.close();
    }
  });

  it('stops reading an "S3" whose listing page never ends', async function () {
    this.timeout(30_000);
    const s3 = await endlessS3(HUGE);
    try {
      const err = await listObjects({ endpoint: `http://127.0.0.1:${s3.port}`, bucket: 'b' }, KEYS, { maxPageBytes: 1024 * 1024 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(CatalogError);
      expect((err as CatalogError).code).to.equal('EndpointUnusable');
      expect(((err as Error).cause as Error).message).to.equal('answer larger than 1048576 bytes');
      expect(s3.sent()).to.be.below(64 * 1024 * 1024);
    } finally {
      await s3.close();
    }
  });

  it('gives up on a slow answer at the deadline, however steadily it trickles', async function () {
    this.timeout(20_000);
    const s3 = await endlessS3(HUGE);
    try {
      const t0 = Date.now();
      const err = await listObjects({ endpoint: `http://127.0.0.1:${s3.port}`, bucket: 'b' }, KEYS, { deadlineMs: 300, maxPageBytes: HUGE }).catch(
        (e: unknown) => e,
      );
      expect((err as CatalogError).code).to.equal('EndpointUnusable');
      expect(Date.now() - t0).to.be.below(5_000);
    } finally {
      await s3.close();
    }
  });

  it('a refused port and a server that is not S3 or Thrift read the same in the status', async () => {
    const garbage = await garbageServer();
    try {
      const hive = new HiveMetastoreLocator({ timeoutMs: 2_000 });
      const refused = await failure<Error>(hive.locate('thrift://127.0.0.1:1', 'default/books'));
      const parse = await failure<Error>(hive.locate(`thrift://127.0.0.1:${garbage.port}`, 'default/books'));
      expect(refused.message.replace(':1 ', ':PORT ')).to.equal(parse.message.replace(`:${garbage.port} `, ':PORT '));
      const s3Refused = await failure<CatalogError>(listObjects({ endpoint: 'http://127.0.0.1:1', bucket: 'b' }, KEYS, { timeoutMs: 2_000 }));
      const s3Parse = await failure<CatalogError>(listObjects({ endpoint: `http://127.0.0.1:${garbage.port}`, bucket: 'b' }, KEYS, { timeoutMs: 2_000 }));
      expect(s3Refused.code).to.equal(s3Parse.code);
      expect(s3Refused.message.replace(':1', ':PORT')).to.equal(s3Parse.message.replace(`:${garbage.port}`, ':PORT'));
    } finally {
      await garbage.close();
    }
  });

  it('refuses a name that resolves to a refused address, at connect time', async () => {
    const policy = parsePolicy('endpoints: { deny: [127.0.0.0/8] }', 'test');
    const checkAddress = (a: string) => addressDenial(a, policy)?.message;
    const err = await failure<CatalogError>(listObjects({ endpoint: 'http://localhost:1', bucket: 'b' }, KEYS, { checkAddress, timeoutMs: 2_000 }));
    expect(err.code).to.equal('EndpointUnusable');
    expect((err.cause as Error).message).to.match(/resolves to 127\.0\.0\.1, on the administrator's endpoint deny list/);
    const hive = await failure<Error>(new HiveMetastoreLocator({ checkAddress }).locate('thrift://localhost:9083', 'default/books'));
    expect(hive.cause as Error).to.be.instanceOf(AddressRefused);
    const metadata = await new Promise<Error | null>((resolve) => {
      guardedLookup((a) => addressDenial(a, parsePolicy('{}', 'empty'))?.message)('169.254.169.254', {}, (e) => resolve(e));
    });
    expect(metadata?.message).to.match(/link-local or cloud metadata address/);
  });
});
