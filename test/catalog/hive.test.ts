import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { CatalogLookupError, HiveMetastoreLocator, parseCatalogURI, parseTableLocation } from '../../src/catalog/hive.js';
import { startFakeMetastore, type FakeMetastore } from './fake-metastore.js';

describe('Hive metastore catalog (thrift, in-process fake metastore)', () => {
  let metastore: FakeMetastore;
  before(async () => {
    metastore = await startFakeMetastore({
      'default.books': {
        tableName: 'books', dbName: 'default', owner: 'hive', tableType: 'EXTERNAL_TABLE',
        sd: { cols: [{ name: 'title', type: 'string' }, { name: 'year', type: 'int', comment: 'published' }], location: 's3a://bookdata/warehouse/books', inputFormat: 'org.apache.hadoop.mapred.TextInputFormat' },
        partitionKeys: [{ name: 'lang', type: 'string' }],
        parameters: { EXTERNAL: 'TRUE', 'transient_lastDdlTime': '1700000000' },
      },
      'sales.orders': { tableName: 'orders', dbName: 'sales', sd: { location: 'cos://orders.myservice/2024' } },
      'sales.view': { tableName: 'view', dbName: 'sales', tableType: 'VIRTUAL_VIEW', sd: { cols: [] } },
    });
  });
  after(() => metastore.close());

  it('resolves a table to the bucket and prefix of its storage location, skipping fields it does not read', async () => {
    const loc = await new HiveMetastoreLocator().locate(metastore.uri, 'default/books');
    expect(loc).to.deep.equal({ location: 's3a://bookdata/warehouse/books', bucket: 'bookdata', prefix: 'warehouse/books/' });
    expect(metastore.calls).to.include('default.books');
  });

  it('resolves Stocator cos:// locations', async () => {
    expect(await new HiveMetastoreLocator().locate(metastore.uri, 'sales/orders')).to.include({ bucket: 'orders', prefix: '2024/' });
  });

  it('names the table and the field when the metastore does not know it', async () => {
    const err = await new HiveMetastoreLocator().locate(metastore.uri, 'default/nope').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CatalogLookupError);
    expect((err as Error).message).to.match(/table default\.nope not found .*check spec\.remote\.table/);
  });

  it('says when a table has no storage location (a view)', async () => {
    const err = await new HiveMetastoreLocator().locate(metastore.uri, 'sales/view').catch((e: unknown) => e);
    expect((err as Error).message).to.match(/has no storage location/);
  });

  it('reports a refused connection', async () => {
    const err = await new HiveMetastoreLocator().locate('thrift://127.0.0.1:1', 'default/books').catch((e: unknown) => e);
    expect((err as Error).message).to.match(/looking up default\.books at thrift:\/\/127\.0\.0\.1:1 failed: .*ECONNREFUSED/);
  });

  it('times out on a server that never answers', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((s) => { sockets.push(s); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const err = await new HiveMetastoreLocator(200).locate(`thrift://127.0.0.1:${port}`, 'default/books').catch((e: unknown) => e);
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => silent.close(r));
    expect((err as Error).message).to.match(/no answer within 200 ms/);
  });

  it('parses locations and addresses strictly', () => {
    expect(parseTableLocation('s3://b/')).to.deep.equal({ bucket: 'b', prefix: '' });
    expect(parseTableLocation('s3a://b')).to.deep.equal({ bucket: 'b', prefix: '' });
    expect(() => parseTableLocation('hdfs://nn/warehouse')).to.throw(CatalogLookupError, /not in an object store/);
    expect(parseCatalogURI('thrift://metastore.hive:9083')).to.deep.equal({ host: 'metastore.hive', port: 9083 });
    expect(() => parseCatalogURI('http://x:1')).to.throw(/thrift:\/\/<host>:<port>/);
  });
});
