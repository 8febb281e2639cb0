// The client side of the slice of the Hive metastore's Thrift API (service ThriftHiveMetastore) that
// Locus calls: `Table get_table(1: string dbname, 2: string tbl_name) throws (1: MetaException, 2: NoSuchObjectException)`.
// Hand-written from the metastore IDL (field ids and types must match it); fields Locus does not
// read are skipped on input, so tables carrying columns, parameters and newer fields decode fine.
// test/catalog/hive-idl.ts encodes the metastore's answers independently to check it.
import thrift, { type TProtocol, type TTransport } from 'thrift';

const { Type, MessageType, TApplicationException } = thrift.Thrift;

export interface FieldSchema {
  name: string;
  type: string;
  comment?: string;
}
export interface StorageDescriptor {
  cols?: FieldSchema[];
  location?: string;
  inputFormat?: string;
}
export interface Table {
  tableName?: string;
  dbName?: string;
  owner?: string;
  sd?: StorageDescriptor;
  partitionKeys?: FieldSchema[];
  parameters?: Record<string, string>;
  tableType?: string;
}

/** MetaException / NoSuchObjectException: both carry one `1: string message`. */
export class MetastoreError extends Error {
  constructor(
    readonly kind: 'MetaException' | 'NoSuchObjectException',
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

/** Reads a struct field by field, handing each known id to `onField` and skipping the rest. */
function readStruct(input: TProtocol, onField: (id: number, type: thrift.Thrift.Type) => boolean): void {
  input.readStructBegin();
  for (;;) {
    const f = input.readFieldBegin();
    if (f.ftype === Type.STOP) break;
    if (!onField(f.fid, f.ftype)) input.skip(f.ftype);
    input.readFieldEnd();
  }
  input.readStructEnd();
}

function readFieldSchema(input: TProtocol): FieldSchema {
  const fs: FieldSchema = { name: '', type: '' };
  readStruct(input, (id, t) => {
    if (t !== Type.STRING) return false;
    if (id === 1) fs.name = input.readString();
    else if (id === 2) fs.type = input.readString();
    else if (id === 3) fs.comment = input.readString();
    else return false;
    return true;
  });
  return fs;
}

function readFieldSchemas(input: TProtocol): FieldSchema[] {
  const list = input.readListBegin();
  const out: FieldSchema[] = [];
  for (let i = 0; i < list.size; i++) out.push(readFieldSchema(input));
  input.readListEnd();
  return out;
}

function readStorageDescriptor(input: TProtocol): StorageDescriptor {
  const sd: StorageDescriptor = {};
  readStruct(input, (id, t) => {
    if (id === 1 && t === Type.LIST) sd.cols = readFieldSchemas(input);
    else if (id === 2 && t === Type.STRING) sd.location = input.readString();
    else if (id === 3 && t === Type.STRING) sd.inputFormat = input.readString();
    else return false;
    return true;
  });
  return sd;
}

function readTable(input: TProtocol): Table {
  const table: Table = {};
  readStruct(input, (id, t) => {
    if (id === 1 && t === Type.STRING) table.tableName = input.readString();
    else if (id === 2 && t === Type.STRING) table.dbName = input.readString();
    else if (id === 3 && t === Type.STRING) table.owner = input.readString();
    else if (id === 7 && t === Type.STRUCT) table.sd = readStorageDescriptor(input);
    else if (id === 8 && t === Type.LIST) table.partitionKeys = readFieldSchemas(input);
    else if (id === 9 && t === Type.MAP) {
      const map = input.readMapBegin();
      table.parameters = {};
      for (let i = 0; i < map.size; i++) table.parameters[input.readString()] = input.readString();
      input.readMapEnd();
    } else if (id === 12 && t === Type.STRING) table.tableType = input.readString();
    else return false;
    return true;
  });
  return table;
}

function writeString(out: TProtocol, name: string, id: number, value: string | undefined): void {
  if (value === undefined) return;
  out.writeFieldBegin(name, Type.STRING, id);
  out.writeString(value);
  out.writeFieldEnd();
}

function readMessageOnly(input: TProtocol): string {
  let message = '';
  readStruct(input, (id, t) => {
    if (id !== 1 || t !== Type.STRING) return false;
    message = input.readString();
    return true;
  });
  return message;
}

interface GetTableArgs {
  dbname: string;
  tblName: string;
}

function writeGetTableArgs(out: TProtocol, args: GetTableArgs): void {
  out.writeStructBegin('get_table_args');
  writeString(out, 'dbname', 1, args.dbname);
  writeString(out, 'tbl_name', 2, args.tblName);
  out.writeFieldStop();
  out.writeStructEnd();
}

type GetTableResult = { success: Table } | { error: MetastoreError };

function readGetTableResult(input: TProtocol): GetTableResult | undefined {
  let result: GetTableResult | undefined;
  readStruct(input, (id, t) => {
    if (t !== Type.STRUCT) return false;
    if (id === 0) result = { success: readTable(input) };
    else if (id === 1) result = { error: new MetastoreError('MetaException', readMessageOnly(input)) };
    else if (id === 2) result = { error: new MetastoreError('NoSuchObjectException', readMessageOnly(input)) };
    else return false;
    return true;
  });
  return result;
}

type Callback = (err: unknown, table?: Table) => void;

/**
 * ThriftHiveMetastore client in the shape the thrift library's Connection drives: it writes calls
 * to `output` and the connection hands replies to `recv_<method>` with the reply's sequence id.
 */
export class MetastoreClient {
  private seq = 0;
  /** Pending calls by sequence id; the connection reads and deletes entries here. */
  readonly _reqs: Record<number, Callback> = {};

  constructor(
    private readonly output: TTransport,
    private readonly pClass: new (t: TTransport) => TProtocol,
  ) {}

  get_table(dbname: string, tblName: string): Promise<Table> {
    const seqid = ++this.seq;
    return new Promise((resolve, reject) => {
      this._reqs[seqid] = (err, table) => (err ? reject(err) : resolve(table!));
      const out = new this.pClass(this.output);
      out.writeMessageBegin('get_table', MessageType.CALL, seqid);
      writeGetTableArgs(out, { dbname, tblName });
      out.writeMessageEnd();
      out.flush();
    });
  }

  recv_get_table(input: TProtocol, mtype: thrift.Thrift.MessageType, rseqid: number): void {
    const callback = this._reqs[rseqid] ?? (() => undefined);
    delete this._reqs[rseqid];
    if (mtype === MessageType.EXCEPTION) {
      const x = new TApplicationException();
      x.read(input);
      input.readMessageEnd();
      callback(x);
      return;
    }
    const result = readGetTableResult(input);
    input.readMessageEnd();
    if (result === undefined) callback(new Error('get_table failed: the metastore sent no result'));
    else if ('error' in result) callback(result.error);
    else callback(null, result.success);
  }
}
