// Resolves a Dataset's `spec.remote` catalog entry (`<database>/<table>` in a Hive metastore) to
// the bucket and prefix of the table's storage location.
import thrift from 'thrift';
import { MetastoreClient, MetastoreError, type Table } from './hive-thrift.js';

export interface TableLocation {
  /** The table's storage location as the metastore has it, e.g. s3a://books/warehouse/books. */
  location: string;
  bucket: string;
  prefix: string;
}

/** Where a catalog table's data lives; behind an interface so the operator can be tested without a metastore. */
export interface TableLocator {
  locate(catalogURI: string, table: string): Promise<TableLocation>;
}

/** A lookup that failed, with a message naming what to fix. */
export class CatalogLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogLookupError';
  }
}

/**
 * Splits an object-store location into bucket and prefix (`s3a://`, `s3://`, `s3n://`, and
 * Stocator's `cos://<bucket>.<service>/`); the prefix ends in "/" so it never matches a sibling.
 */
export function parseTableLocation(location: string): { bucket: string; prefix: string } {
  const m = /^(s3a?|s3n|cos):\/\/([^/]+)(\/.*)?$/.exec(location);
  if (!m) throw new CatalogLookupError(`table location "${location}" is not in an object store (expected s3a://<bucket>/<path>)`);
  const bucket = m[1] === 'cos' ? m[2].split('.')[0] : m[2];
  const path = (m[3] ?? '/').replace(/^\/+/, '');
  return { bucket, prefix: path === '' || path.endsWith('/') ? path : `${path}/` };
}

export function parseCatalogURI(uri: string): { host: string; port: number } {
  const m = /^thrift:\/\/([^\s/:]+):(\d+)\/?$/.exec(uri);
  if (!m) throw new CatalogLookupError(`catalog address "${uri}" is not thrift://<host>:<port>`);
  return { host: m[1], port: Number(m[2]) };
}

/** Calls the metastore's `get_table` over the binary protocol on a buffered transport (the metastore's default). */
export class HiveMetastoreLocator implements TableLocator {
  constructor(private readonly timeoutMs = 10_000) {}

  async locate(catalogURI: string, table: string): Promise<TableLocation> {
    const [db, name] = table.split('/');
    const { host, port } = parseCatalogURI(catalogURI);
    let result: Table;
    try {
      result = await this.getTable(host, port, db, name);
    } catch (err) {
      if (err instanceof MetastoreError && err.kind === 'NoSuchObjectException') {
        throw new CatalogLookupError(`table ${db}.${name} not found in the metastore at ${catalogURI}: ${err.message}; check spec.remote.table`);
      }
      throw new CatalogLookupError(`looking up ${db}.${name} at ${catalogURI} failed: ${(err as Error).message}`);
    }
    const location = result.sd?.location;
    if (!location) throw new CatalogLookupError(`table ${db}.${name} has no storage location in the metastore at ${catalogURI}`);
    return { location, ...parseTableLocation(location) };
  }

  private getTable(host: string, port: number, db: string, name: string): Promise<Table> {
    return new Promise((resolve, reject) => {
      const connection = thrift.createConnection(host, port, {
        transport: thrift.TBufferedTransport,
        protocol: thrift.TBinaryProtocol,
        connect_timeout: this.timeoutMs,
        timeout: this.timeoutMs,
      });
      let settled = false;
      const finish = (err: unknown, table?: Table) => {
        if (settled) return;
        settled = true;
        connection.end();
        if (err) reject(err);
        else resolve(table!);
      };
      connection.on('error', (err: Error) => finish(err));
      connection.on('timeout', () => finish(new Error(`no answer within ${this.timeoutMs} ms`)));
      connection.on('close', () => finish(new Error('connection closed before the answer')));
      const client = thrift.createClient(MetastoreClient, connection);
      client.get_table(db, name).then((t) => finish(null, t), finish);
    });
  }
}
