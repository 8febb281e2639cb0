// The scheduler verbs' answers written straight into a Buffer of their exact byte length: no JSON
// string of 160 KB to build and then copy again (into a Buffer by Koa, or behind the headers by
// node:http). The bytes are those of JSON.stringify on the same answer.
import type { ExtenderFilterResult, HostPriority } from '../api/scheduler-extender.js';

/** JSON text assembled from pieces, measured as it grows, written once. */
class JsonPieces {
  private readonly texts: string[] = [];
  /** Per piece: written byte by byte (ASCII, needs no escaping) or through the UTF-8 encoder. */
  private readonly ascii: boolean[] = [];
  private length = 0;

  /** Punctuation, keys and numbers: ASCII by construction. */
  raw(text: string): this {
    this.texts.push(text);
    this.ascii.push(true);
    this.length += text.length;
    return this;
  }

  /** A JSON text made elsewhere (e.g. JSON.stringify of Node objects). */
  json(text: string): this {
    const ascii = isAscii(text);
    this.texts.push(text);
    this.ascii.push(ascii);
    this.length += ascii ? text.length : Buffer.byteLength(text);
    return this;
  }

  string(s: string): this {
    return plain(s) ? this.raw('"').raw(s).raw('"') : this.json(JSON.stringify(s));
  }

  strings(list: readonly string[]): this {
    this.raw('[');
    for (let i = 0; i < list.length; i++) {
      if (i > 0) this.raw(',');
      this.string(list[i]);
    }
    return this.raw(']');
  }

  record(map: Record<string, string>): this {
    this.raw('{');
    let first = true;
    for (const [key, value] of Object.entries(map)) {
      if (!first) this.raw(',');
      first = false;
      this.string(key).raw(':').string(value);
    }
    return this.raw('}');
  }

  buffer(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    let at = 0;
    for (let p = 0; p < this.texts.length; p++) {
      const text = this.texts[p];
      if (this.ascii[p]) {
        for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
      } else {
        at += out.write(text, at, 'utf8');
      }
    }
    return out;
  }
}

/** Printable ASCII without `"` or `\`: JSON writes it as it is. */
function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

const number = (n: number): string => (Number.isInteger(n) && n >= 0 && n <= 10 ? DIGITS[n] : JSON.stringify(n));
const DIGITS = Array.from({ length: 11 }, (_, i) => String(i));

/** `[{"Host":"…","Score":n},…]` */
export function prioritiesBuffer(list: readonly HostPriority[]): Buffer {
  const out = new JsonPieces().raw('[');
  for (let i = 0; i < list.length; i++) {
    out.raw(i === 0 ? '{"Host":' : ',{"Host":').string(list[i].Host).raw(',"Score":').raw(number(list[i].Score)).raw('}');
  }
  return out.raw(']').buffer();
}

/** ExtenderFilterResult, its keys in the order Go and JSON.stringify write them. */
export function filterResultBuffer(r: ExtenderFilterResult): Buffer {
  const out = new JsonPieces().raw('{"Nodes":');
  if (r.Nodes === null) out.raw('null');
  else out.json(JSON.stringify(r.Nodes));
  out.raw(',"NodeNames":');
  if (r.NodeNames === null) out.raw('null');
  else out.strings(r.NodeNames);
  out.raw(',"FailedNodes":').record(r.FailedNodes);
  out.raw(',"FailedAndUnresolvableNodes":').record(r.FailedAndUnresolvableNodes);
  return out.raw(',"Error":').string(r.Error).raw('}').buffer();
}
