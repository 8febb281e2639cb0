// An in-process Hive metastore speaking ThriftHiveMetastore's get_table over the thrift library's
// own server (binary protocol, buffered transport) on 127.0.0.1.
import type { AddressInfo, Server } from 'node:net';
import thrift, { type TProtocol } from 'thrift';
import { MetastoreError, readGetTableArgs, writeGetTableResult, type Table } from '../../src/catalog/hive-thrift.js';

const { Type, MessageType, TApplicationException, TApplicationExceptionType } = thrift.Thrift;

export interface FakeMetastore {
  uri: string;
  /** get_table calls received, as `db.table`. */
  calls: string[];
  close(): Promise<void>;
}

class Processor {
  constructor(private readonly handler: (db: string, table: string) => Table) {}

  process(input: TProtocol, output: TProtocol): void {
    const msg = input.readMessageBegin();
    if (msg.fname !== 'get_table') {
      input.skip(Type.STRUCT);
      input.readMessageEnd();
      const x = new TApplicationException(TApplicationExceptionType.UNKNOWN_METHOD, `Unknown function ${msg.fname}`);
      output.writeMessageBegin(msg.fname, MessageType.EXCEPTION, msg.rseqid);
      x.write(output);
      output.writeMessageEnd();
      output.flush();
      return;
    }
    const args = readGetTableArgs(input);
    input.readMessageEnd();
    let result;
    try {
      result = { success: this.handler(args.dbname, args.tblName) };
    } catch (err) {
      if (!(err instanceof MetastoreError)) throw err;
      result = { error: err };
    }
    output.writeMessageBegin('get_table', MessageType.REPLY, msg.rseqid);
    writeGetTableResult(output, result);
    output.writeMessageEnd();
    output.flush();
  }
}

/** Serves `tables` (keyed `db.table`); unknown tables answer NoSuchObjectException like the real metastore. */
export async function startFakeMetastore(tables: Record<string, Table>): Promise<FakeMetastore> {
  const calls: string[] = [];
  const handler = (db: string, table: string): Table => {
    calls.push(`${db}.${table}`);
    const t = tables[`${db}.${table}`];
    if (!t) throw new MetastoreError('NoSuchObjectException', `${db}.${table} table not found`);
    return t;
  };
  const server = thrift.createServer(Processor, handler, { transport: thrift.TBufferedTransport, protocol: thrift.TBinaryProtocol }) as unknown as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `thrift://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
