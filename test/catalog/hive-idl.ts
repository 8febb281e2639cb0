// The part of the Hive metastore's IDL (hive_metastore.thrift) the fake metastore answers with, as
// data: struct names, field ids and types copied from the IDL, encoded and decoded by a generic walk
// over the thrift library's own protocol classes. Deliberately independent of
// src/catalog/hive-thrift.ts: the client's hand-written decoder is checked against this encoding of
// whole IDL structs (fields it does not read included), not against a writer of its own.
import thrift, { type TProtocol } from 'thrift';

const { Type } = thrift.Thrift;

export type IdlType = 'string' | 'i32' | 'bool' | { list: IdlType } | { map: [IdlType, IdlType] } | { struct: IdlStruct };
export interface IdlStruct {
  name: string;
  fields: Record<number, [name: string, type: IdlType]>;
}
/** A struct's value: its fields by IDL name. */
export type IdlValue = { [field: string]: unknown };

const strings = { map: ['string', 'string'] } as const satisfies IdlType;

const FieldSchema: IdlStruct = { name: 'FieldSchema', fields: { 1: ['name', 'string'], 2: ['type', 'string'], 3: ['comment', 'string'] } };
const SerDeInfo: IdlStruct = { name: 'SerDeInfo', fields: { 1: ['name', 'string'], 2: ['serializationLib', 'string'], 3: ['parameters', strings] } };
const Order: IdlStruct = { name: 'Order', fields: { 1: ['col', 'string'], 2: ['order', 'i32'] } };
const StorageDescriptor: IdlStruct = {
  name: 'StorageDescriptor',
  fields: {
    1: ['cols', { list: { struct: FieldSchema } }],
    2: ['location', 'string'],
    3: ['inputFormat', 'string'],
    4: ['outputFormat', 'string'],
    5: ['compressed', 'bool'],
    6: ['numBuckets', 'i32'],
    7: ['serdeInfo', { struct: SerDeInfo }],
    8: ['bucketCols', { list: 'string' }],
    9: ['sortCols', { list: { struct: Order } }],
    10: ['parameters', strings],
    12: ['storedAsSubDirectories', 'bool'],
  },
};
const Table: IdlStruct = {
  name: 'Table',
  fields: {
    1: ['tableName', 'string'],
    2: ['dbName', 'string'],
    3: ['owner', 'string'],
    4: ['createTime', 'i32'],
    5: ['lastAccessTime', 'i32'],
    6: ['retention', 'i32'],
    7: ['sd', { struct: StorageDescriptor }],
    8: ['partitionKeys', { list: { struct: FieldSchema } }],
    9: ['parameters', strings],
    10: ['viewOriginalText', 'string'],
    11: ['viewExpandedText', 'string'],
    12: ['tableType', 'string'],
    14: ['temporary', 'bool'],
    15: ['rewriteEnabled', 'bool'],
  },
};
const message = (name: string): IdlStruct => ({ name, fields: { 1: ['message', 'string'] } });

/** `Table get_table(1: string dbname, 2: string tbl_name) throws (1: MetaException o1, 2: NoSuchObjectException o2)` */
export const GetTableArgs: IdlStruct = { name: 'get_table_args', fields: { 1: ['dbname', 'string'], 2: ['tbl_name', 'string'] } };
export const GetTableResult: IdlStruct = {
  name: 'get_table_result',
  fields: { 0: ['success', { struct: Table }], 1: ['o1', { struct: message('MetaException') }], 2: ['o2', { struct: message('NoSuchObjectException') }] },
};

function typeId(t: IdlType): thrift.Thrift.Type {
  if (t === 'string') return Type.STRING;
  if (t === 'i32') return Type.I32;
  if (t === 'bool') return Type.BOOL;
  return 'list' in t ? Type.LIST : 'map' in t ? Type.MAP : Type.STRUCT;
}

export function writeStruct(out: TProtocol, s: IdlStruct, value: IdlValue): void {
  out.writeStructBegin(s.name);
  for (const [id, [name, type]] of Object.entries(s.fields)) {
    if (value[name] === undefined) continue;
    out.writeFieldBegin(name, typeId(type), Number(id));
    writeValue(out, type, value[name]);
    out.writeFieldEnd();
  }
  const unknown = Object.keys(value).filter((k) => !Object.values(s.fields).some(([name]) => name === k));
  if (unknown.length > 0) throw new Error(`${s.name} has no field ${unknown.join(', ')} in the IDL`);
  out.writeFieldStop();
  out.writeStructEnd();
}

function writeValue(out: TProtocol, t: IdlType, v: unknown): void {
  if (t === 'string') out.writeString(v as string);
  else if (t === 'i32') out.writeI32(v as number);
  else if (t === 'bool') out.writeBool(v as boolean);
  else if ('list' in t) {
    const items = v as unknown[];
    out.writeListBegin(typeId(t.list), items.length);
    for (const item of items) writeValue(out, t.list, item);
    out.writeListEnd();
  } else if ('map' in t) {
    const entries = Object.entries(v as Record<string, unknown>);
    out.writeMapBegin(typeId(t.map[0]), typeId(t.map[1]), entries.length);
    for (const [k, x] of entries) {
      writeValue(out, t.map[0], k);
      writeValue(out, t.map[1], x);
    }
    out.writeMapEnd();
  } else writeStruct(out, t.struct, v as IdlValue);
}

/** Reads a struct of string fields (call arguments); fields the IDL does not name are skipped. */
export function readStringStruct(input: TProtocol, s: IdlStruct): Record<string, string> {
  const out: Record<string, string> = {};
  input.readStructBegin();
  for (;;) {
    const f = input.readFieldBegin();
    if (f.ftype === Type.STOP) break;
    const field = s.fields[f.fid];
    if (field && field[1] === 'string' && f.ftype === Type.STRING) out[field[0]] = input.readString();
    else input.skip(f.ftype);
    input.readFieldEnd();
  }
  input.readStructEnd();
  return out;
}
