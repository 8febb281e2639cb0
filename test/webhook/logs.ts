// A pino logger whose lines the test can read.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export function captureLog(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return {
    log: pino({ level: 'debug' }, sink),
    lines: () =>
      out
        .flatMap((s) => s.split('\n'))
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}
