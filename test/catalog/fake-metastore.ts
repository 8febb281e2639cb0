// An in-process Hive metastore speaking ThriftHiveMetastore's get_table over the thrift library's
// own server (binary protocol, buffered transport) on 127.0.0.1. Its answers are whole IDL structs
// encoded by test/catalog/hive-idl.ts, not by the client's codec.
import type { AddressInfo, Server } from 'node:net';
import thrift, { type TProtocol } from 'thrift';
import { GetTableArgs, GetTableResult, readStringStruct, writeStruct, type IdlValue } from './hive-idl.js';

const { Type, MessageType, TApplicationException, TApplicationExceptionType } = thrift.Thrift;

/** What get_table throws for a table: the IDL's two exceptions. */
export interface MetastoreFault {
  throws: 'MetaException' | 'NoSuchObjectException';
  message: string;
}

export interface FakeMetastore {
  uri: string;
  /** get_table calls received, as `db.table`. */
  calls: string[];
  close(): Promise<void>;
}

class Processor {
  constructor(private readonly handler: (db: string, table: string) => IdlValue | MetastoreFault) {}

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
    const args = readStringStruct(input, GetTableArgs);
    input.readMessageEnd();
    const answer = this.handler(args.dbname, args.tbl_name);
    const result =
      'throws' in answer && 'message' in answer ? { [answer.throws === 'MetaException' ? 'o1' : 'o2']: { message: answer.message } } : { success: answer };
    output.writeMessageBegin('get_table', MessageType.REPLY, msg.rseqid);
    writeStruct(output, GetTableResult, result);
    output.writeMessageEnd();
    output.flush();
  }
}

/**
 * Serves `tables` (keyed `db.table`, each an IDL Table by field name, or the exception get_table
 * throws for it); unknown tables answer NoSuchObjectException like the real metastore.
 */
export async function startFakeMetastore(tables: Record<string, IdlValue | MetastoreFault>): Promise<FakeMetastore> {
  const calls: string[] = [];
  const handler = (db: string, table: string): IdlValue | MetastoreFault => {
    calls.push(`${db}.${table}`);
    return tables[`${db}.${table}`] ?? { throws: 'NoSuchObjectException', message: `${db}.${table} table not found` };
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
