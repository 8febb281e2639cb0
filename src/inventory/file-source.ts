// Node, Dataset and NodeCache objects from YAML or JSON files (one object, a `List`, or several YAML
// documents each), reloaded when a file changes: the extender runs standalone and tests drive it.
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { ChangeType, InventoryFeed, ObjectKind } from './feed.js';
import type { InventorySource } from './source.js';

export interface FileSourceOptions {
  nodes?: string[];
  datasets?: string[];
  caches?: string[];
  /** How often files are checked for changes, ms (default 1000). */
  pollMs?: number;
  /** Told when a file cannot be read or parsed (its previous objects stay in force). */
  onError?: (file: string, err: Error) => void;
  /** Told after a file was (re)loaded, with the number of objects in it. */
  onLoad?: (file: string, objects: number) => void;
}

export class FileSourceError extends Error {}

interface Watched {
  kind: ObjectKind;
  file: string;
  /** Objects last loaded from the file, by identity key, as their JSON text. */
  objects: Map<string, string>;
  /** The file's stat when it was last read (or found missing): a reload happens when it differs. */
  signature?: string;
  loading: Promise<void>;
}

const signatureOf = (s: Stats | undefined) => (s ? `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : 'missing');

export class FileSource implements InventorySource {
  private readonly files: Watched[] = [];
  private feed?: InventoryFeed;
  private isSynced = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: FileSourceOptions) {
    // Nodes first, then Datasets, then NodeCaches: the order a cluster's informers sync in.
    for (const [kind, list] of [
      ['Node', opts.nodes],
      ['Dataset', opts.datasets],
      ['NodeCache', opts.caches],
    ] as const) {
      for (const file of list ?? []) this.files.push({ kind, file, objects: new Map(), loading: Promise.resolve() });
    }
  }

  async start(feed: InventoryFeed): Promise<void> {
    this.feed = feed;
    for (const w of this.files) {
      // The first load must succeed: a standalone extender with a broken file should not start.
      await this.load(w, true);
    }
    // Polled against the stat taken before each read, so a write that lands between the first load and
    // the first poll is still seen (a stat watcher would take that write as its baseline).
    this.timer = setInterval(() => {
      for (const w of this.files) w.loading = w.loading.then(() => this.reloadIfChanged(w));
    }, this.opts.pollMs ?? 1000);
    this.timer.unref();
    this.isSynced = true;
  }

  synced(): boolean {
    return this.isSynced;
  }

  /** Waits for reloads already triggered by file changes (tests). */
  async settled(): Promise<void> {
    await Promise.all(this.files.map((w) => w.loading));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.settled();
  }

  private async reloadIfChanged(w: Watched): Promise<void> {
    if (signatureOf(await stat(w.file).catch(() => undefined)) !== w.signature) await this.load(w, false);
  }

  private async load(w: Watched, first: boolean): Promise<void> {
    let objects: Map<string, { obj: unknown; text: string }>;
    try {
      w.signature = 'missing';
      w.signature = signatureOf(await stat(w.file));
      objects = parseObjects(w.kind, w.file, await readFile(w.file, 'utf8'));
    } catch (err) {
      const error = err instanceof FileSourceError ? err : new FileSourceError(`${w.file}: ${(err as Error).message}`);
      if (first) throw error;
      this.opts.onError?.(w.file, error);
      return;
    }
    const feed = this.feed!;
    const apply = (type: ChangeType, obj: unknown) => feed.apply(w.kind, type, obj);
    for (const [key, text] of w.objects) {
      if (!objects.has(key)) apply('delete', JSON.parse(text));
    }
    for (const [key, { obj, text }] of objects) {
      if (w.objects.get(key) !== text) apply('upsert', obj);
    }
    w.objects = new Map([...objects].map(([k, v]) => [k, v.text]));
    this.opts.onLoad?.(w.file, objects.size);
  }
}

/**
 * The objects of one kind in a file's text, keyed by namespace/name; throws naming the file and document.
 * A JSON file is read by JSON.parse; YAML one document at a time, so that the parser's document tree
 * (tens of times the text) exists for one document, not the whole file.
 */
export function parseObjects(kind: ObjectKind, file: string, text: string): Map<string, { obj: unknown; text: string }> {
  const out = new Map<string, { obj: unknown; text: string }>();
  let d = 0;
  for (const value of values(file, text)) {
    d++;
    if (value === null || value === undefined) continue;
    const list = isList(value) ? value.items : [value];
    list.forEach((obj, i) => {
      const where = `${file}: document ${d}${isList(value) ? ` item ${i}` : ''}`;
      if (typeof obj !== 'object' || obj === null) throw new FileSourceError(`${where}: expected a ${kind} object`);
      const o = obj as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
      if (o.kind !== undefined && o.kind !== kind)
        throw new FileSourceError(`${where}: kind is "${String(o.kind)}", but this file was given as ${kind} objects`);
      const name = o.metadata?.name;
      if (typeof name !== 'string' || name === '') throw new FileSourceError(`${where}: metadata.name must be a non-empty string`);
      const key = `${typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : 'default'}/${name}`;
      if (out.has(key)) throw new FileSourceError(`${where}: ${kind} ${name} appears twice; keep one`);
      out.set(key, { obj, text: JSON.stringify(obj) });
    });
  }
  return out;
}

/** The file's documents as values: one for JSON, one per YAML document. */
function* values(file: string, text: string): Generator<unknown> {
  if (/^\s*[[{]/.test(text)) {
    try {
      yield JSON.parse(text);
      return;
    } catch {
      // Not JSON after all (YAML flow style can start the same way): read it as YAML.
    }
  }
  let d = 0;
  for (const chunk of yamlChunks(text)) {
    for (const doc of parseAllDocuments(chunk)) {
      d++;
      if (doc.errors.length > 0) throw new FileSourceError(`${file}: document ${d} is not valid YAML or JSON: ${doc.errors[0].message}`);
      yield doc.toJS();
    }
  }
}

/**
 * The text cut before each `---` that starts a line: a document marker wherever it stands at the start
 * of a line, so every piece holds whole documents (usually one).
 */
function* yamlChunks(text: string): Generator<string> {
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let start = 0;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    if (m.index > start && text.slice(start, m.index).trim() !== '') yield text.slice(start, m.index);
    if (m.index > start) start = m.index;
  }
  yield text.slice(start);
}

function isList(v: unknown): v is { items: unknown[] } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { items?: unknown }).items);
}
