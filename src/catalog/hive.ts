// Resolves a Dataset's `spec.remote` catalog entry (`<database>/<table>` in a Hive metastore) to
// the bucket and prefix of the table's storage location.
import thrift from 'thrift';
import { resolveChecked, type AddressCheck } from './address-guard.js';
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

export interface HiveLimits {
  /** Silence on the connection, and connecting. */
  timeoutMs: number;
  /** The whole call: a metastore that trickles bytes never trips the silence timeout. */
  deadlineMs: number;
  /** Most bytes of the answer (a table with thousands of columns is well under 1 MiB). */
  maxResponseBytes: number;
  /** Refuses the address the metastore's name resolves to (the administrator's policy). */
  checkAddress?: AddressCheck;
}

export const HIVE_LIMITS: HiveLimits = { timeoutMs: 10_000, deadlineMs: 30_000, maxResponseBytes: 4 * 1024 * 1024 };

/**
 * Calls the metastore's `get_table` over the binary protocol on a buffered transport (the
 * metastore's default). The metastore is named by a tenant: its answer is bounded in bytes and
 * time, and every failure but the metastore's own answers reads the same (see `unusable`).
 */
export class HiveMetastoreLocator implements TableLocator {
  private readonly limits: HiveLimits;

  constructor(limits: Partial<HiveLimits> = {}) {
    this.limits = { ...HIVE_LIMITS, ...limits };
  }

  async locate(catalogURI: string, table: string): Promise<TableLocation> {
    const [db, name] = table.split('/');
    const { host, port } = parseCatalogURI(catalogURI);
    let result: Table;
    try {
      const address = this.limits.checkAddress ? await resolveChecked(host, this.limits.checkAddress) : host;
      result = await this.getTable(address, port, db, name);
    } catch (err) {
      if (err instanceof MetastoreError && err.kind === 'NoSuchObjectException') {
        throw new CatalogLookupError(`table ${db}.${name} not found in the metastore at ${catalogURI}: ${err.message}; check spec.remote.table`);
      }
      if (err instanceof MetastoreError) throw new CatalogLookupError(`looking up ${db}.${name} at ${catalogURI} failed: ${err.message}`);
      throw unusable(`looking up ${db}.${name} at ${catalogURI} failed`, err);
    }
    const location = result.sd?.location;
    if (!location) throw new CatalogLookupError(`table ${db}.${name} has no storage location in the metastore at ${catalogURI}`);
    return { location, ...parseTableLocation(location) };
  }

  private getTable(host: string, port: number, db: string, name: string): Promise<Table> {
    const { timeoutMs, deadlineMs, maxResponseBytes } = this.limits;
    return new Promise((resolve, reject) => {
      const connection = thrift.createConnection(host, port, {
        transport: thrift.TBufferedTransport,
        protocol: thrift.TBinaryProtocol,
        connect_timeout: timeoutMs,
        timeout: timeoutMs,
      });
      let settled = false;
      const finish = (err: unknown, table?: Table) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        connection.end();
        socket.destroy();
        if (err) reject(err);
        else resolve(table!);
      };
      const deadline = setTimeout(() => finish(new Error(`no whole answer within ${deadlineMs} ms`)), deadlineMs);
      // The buffered transport keeps every byte until a whole message parses: count them as they come.
      const socket = (connection as unknown as { connection: NodeJS.ReadableStream & { destroy(): void } }).connection;
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxResponseBytes) finish(new Error(`answer larger than ${maxResponseBytes} bytes`));
      });
      connection.on('error', (err: Error) => finish(err));
      connection.on('timeout', () => finish(new Error(`no answer within ${timeoutMs} ms`)));
      connection.on('close', () => finish(new Error('connection closed before the answer')));
      const client = thrift.createClient(MetastoreClient, connection);
      client.get_table(db, name).then((t) => finish(null, t), finish);
    });
  }
}

/**
 * One message for every failure that is not the metastore's own answer (refused, reset, timed out,
 * too large, not Thrift): the Dataset's status is readable by its tenant, and telling a refused port
 * from a parse error would make the operator a port scanner. The detail stays in `cause`, for the log.
 */
function unusable(what: string, cause: unknown): CatalogLookupError {
  const err = new CatalogLookupError(
    `${what}: no usable answer from a Hive metastore (unreachable, too slow, too large, or not a metastore); check spec.remote.catalogURI`,
  );
  err.cause = cause;
  return err;
}
