import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import thrift from 'thrift';
import { CatalogLookupError, HiveMetastoreLocator, parseCatalogURI, parseTableLocation } from '../../src/catalog/hive.js';
import { MetastoreClient, MetastoreError } from '../../src/catalog/hive-thrift.js';
import { startFakeMetastore, type FakeMetastore } from './fake-metastore.js';

describe('Hive metastore catalog (thrift, in-process fake metastore)', () => {
  let metastore: FakeMetastore;
  before(async () => {
    metastore = await startFakeMetastore({
      // A table as a metastore returns one: every field of the IDL's Table and StorageDescriptor
      // that Hive fills in, most of which the client skips.
      'default.books': {
        tableName: 'books',
        dbName: 'default',
        owner: 'hive',
        createTime: 1_700_000_000,
        lastAccessTime: 0,
        retention: 0,
        sd: {
          cols: [
            { name: 'title', type: 'string' },
            { name: 'year', type: 'int', comment: 'published' },
          ],
          location: 's3a://bookdata/warehouse/books',
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          compressed: false,
          numBuckets: -1,
          serdeInfo: { serializationLib: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', parameters: { 'field.delim': ',' } },
          bucketCols: [],
          sortCols: [{ col: 'year', order: 1 }],
          parameters: {},
          storedAsSubDirectories: false,
        },
        partitionKeys: [{ name: 'lang', type: 'string' }],
        parameters: { EXTERNAL: 'TRUE', transient_lastDdlTime: '1700000000' },
        viewOriginalText: '',
        viewExpandedText: '',
        tableType: 'EXTERNAL_TABLE',
        temporary: false,
        rewriteEnabled: false,
      },
      'sales.orders': { tableName: 'orders', dbName: 'sales', sd: { location: 'cos://orders.myservice/2024' } },
      'sales.view': { tableName: 'view', dbName: 'sales', tableType: 'VIRTUAL_VIEW', viewOriginalText: 'select 1', sd: { cols: [] } },
      'sales.locked': { throws: 'MetaException', message: 'java.lang.RuntimeException: metastore database is locked' },
    });
  });
  after(() => metastore.close());

  it('resolves a table to the bucket and prefix of its storage location, skipping fields it does not read', async () => {
    const loc = await new HiveMetastoreLocator().locate(metastore.uri, 'default/books');
    expect(loc).to.deep.equal({ location: 's3a://bookdata/warehouse/books', bucket: 'bookdata', prefix: 'warehouse/books/' });
    expect(metastore.calls).to.include('default.books');
  });

  it('decodes each field the client reads from a whole IDL Table, and both IDL exceptions', async () => {
    const connection = thrift.createConnection('127.0.0.1', Number(metastore.uri.split(':')[2]), {
      transport: thrift.TBufferedTransport,
      protocol: thrift.TBinaryProtocol,
    });
    try {
      const client = thrift.createClient(MetastoreClient, connection);
      expect(await client.get_table('default', 'books')).to.deep.equal({
        tableName: 'books',
        dbName: 'default',
        owner: 'hive',
        sd: {
          cols: [
            { name: 'title', type: 'string' },
            { name: 'year', type: 'int', comment: 'published' },
          ],
          location: 's3a://bookdata/warehouse/books',
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        },
        partitionKeys: [{ name: 'lang', type: 'string' }],
        parameters: { EXTERNAL: 'TRUE', transient_lastDdlTime: '1700000000' },
        tableType: 'EXTERNAL_TABLE',
      });
      for (const [table, kind] of [
        ['locked', 'MetaException'],
        ['nope', 'NoSuchObjectException'],
      ] as const) {
        const err = await client.get_table('sales', table).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(MetastoreError).and.to.include({ kind });
      }
    } finally {
      connection.end();
    }
  });

  it('resolves Stocator cos:// locations', async () => {
    expect(await new HiveMetastoreLocator().locate(metastore.uri, 'sales/orders')).to.include({ bucket: 'orders', prefix: '2024/' });
  });

  it('names the table and the field when the metastore does not know it', async () => {
    const err = await new HiveMetastoreLocator().locate(metastore.uri, 'default/nope').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CatalogLookupError);
    expect((err as Error).message).to.match(/table default\.nope not found .*check spec\.remote\.table/);
  });

  it("passes on a MetaException's message", async () => {
    const err = await new HiveMetastoreLocator().locate(metastore.uri, 'sales/locked').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CatalogLookupError);
    expect((err as Error).message).to.equal(`looking up sales.locked at ${metastore.uri} failed: java.lang.RuntimeException: metastore database is locked`);
  });

  it('says when a table has no storage location (a view)', async () => {
    const err = await new HiveMetastoreLocator().locate(metastore.uri, 'sales/view').catch((e: unknown) => e);
    expect((err as Error).message).to.match(/has no storage location/);
  });

  it('reports a refused connection without telling it from other failures (the detail is the cause)', async () => {
    const err = await new HiveMetastoreLocator().locate('thrift://127.0.0.1:1', 'default/books').catch((e: unknown) => e);
    expect((err as Error).message).to.equal(
      'looking up default.books at thrift://127.0.0.1:1 failed: no usable answer from a Hive metastore (unreachable, too slow, too large, or not a metastore); check spec.remote.catalogURI',
    );
    expect(((err as Error).cause as Error).message).to.match(/ECONNREFUSED/);
  });

  it('times out on a server that never answers', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((s) => {
      sockets.push(s);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const err = await new HiveMetastoreLocator({ timeoutMs: 200 }).locate(`thrift://127.0.0.1:${port}`, 'default/books').catch((e: unknown) => e);
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => silent.close(r));
    expect((err as Error).message).to.match(/no usable answer from a Hive metastore/);
    expect(((err as Error).cause as Error).message).to.match(/no answer within 200 ms/);
  });

  it('parses locations and addresses strictly', () => {
    expect(parseTableLocation('s3://b/')).to.deep.equal({ bucket: 'b', prefix: '' });
    expect(parseTableLocation('s3a://b')).to.deep.equal({ bucket: 'b', prefix: '' });
    expect(() => parseTableLocation('hdfs://nn/warehouse')).to.throw(CatalogLookupError, /not in an object store/);
    expect(parseCatalogURI('thrift://metastore.hive:9083')).to.deep.equal({ host: 'metastore.hive', port: 9083 });
    expect(() => parseCatalogURI('http://x:1')).to.throw(/thrift:\/\/<host>:<port>/);
  });
});
