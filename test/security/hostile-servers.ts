// Servers on 127.0.0.1 that a tenant could name in a Dataset: a "metastore" and an "S3" that stream
// an answer without end, and one that answers garbage. They stop when the client goes away or after
// `maxBytes`, so a probe is bounded even against code that does not bound itself.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Hostile {
  port: number;
  /** Bytes written to clients so far. */
  sent(): number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** Writes `head`, then `CHUNK`s until `maxBytes` or the client leaves. */
function pour(socket: NodeJS.WritableStream & { destroyed: boolean }, head: Buffer, maxBytes: number, count: (n: number) => void, end: () => void): void {
  socket.write(head);
  count(head.length);
  let written = head.length;
  const more = () => {
    while (!socket.destroyed && written < maxBytes) {
      written += CHUNK.length;
      count(CHUNK.length);
      if (!socket.write(CHUNK)) return void socket.once('drain', more);
    }
    end();
  };
  more();
}

async function listen(server: Server | HttpServer, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const closer = (server: Server | HttpServer, sockets: Set<Socket>) => async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
};

/**
 * A Hive "metastore" whose get_table reply is a Table whose first string claims 2 GiB and then
 * streams: a Thrift reader buffering whole messages holds all of it.
 */
export async function endlessMetastore(maxBytes: number): Promise<Hostile> {
  let sent = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      const name = Buffer.from('get_table');
      const head = Buffer.alloc(4 + 4 + name.length + 4 + 3 + 3 + 4);
      let o = head.writeInt32BE(0x80010002 | 0, 0); // VERSION_1 | REPLY
      o = head.writeInt32BE(name.length, o);
      o += name.copy(head, o);
      o = head.writeInt32BE(0, o); // seqid: the client's first call
      o = head.writeInt8(12, o); // field 0 (success): STRUCT Table
      o = head.writeInt16BE(0, o);
      o = head.writeInt8(11, o); // Table field 1 (tableName): STRING
      o = head.writeInt16BE(1, o);
      head.writeInt32BE(0x7fffffff, o); // of 2 GiB
      pour(
        socket,
        head,
        maxBytes,
        (n) => {
          sent += n;
        },
        () => socket.end(),
      );
    });
  });
  const port = await listen(server, sockets);
  return { port, sent: () => sent, close: closer(server, sockets) };
}

/** An "S3" whose ListObjectsV2 answer is one page of endless <Contents>. */
export async function endlessS3(maxBytes: number): Promise<Hostile> {
  let sent = 0;
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    res.on('error', () => undefined);
    res.writeHead(200, { 'content-type': 'application/xml' });
    const head = Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Contents><Key>',
    );
    pour(
      res as unknown as NodeJS.WritableStream & { destroyed: boolean },
      head,
      maxBytes,
      (n) => {
        sent += n;
      },
      () => res.end(),
    );
  });
  const port = await listen(server, sockets);
  return { port, sent: () => sent, close: closer(server, sockets) };
}

/** A server that answers anything with a line of garbage and closes (neither S3 nor Thrift). */
export async function garbageServer(): Promise<Hostile> {
  const sockets = new Set<Socket>();
  let sent = 0;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      sent += 14;
      socket.end('SSH-2.0-x\r\n\r\n');
    });
  });
  const port = await listen(server, sockets);
  return { port, sent: () => sent, close: closer(server, sockets) };
}
