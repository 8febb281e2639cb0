// Shared test setup: the captured kube-scheduler payloads and an extender fed the fixture inventory.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FileSource } from '../../src/inventory/file-source.js';
import { startExtender, type ExtenderOptions, type RunningExtender } from '../../src/extender/server.js';

/** Parsed JSON off the wire, examined by assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Wire = any;

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const inventoryFiles = {
  nodes: [here('./fixtures/nodes.yaml')],
  datasets: [here('./fixtures/datasets.yaml')],
  caches: [here('./fixtures/nodecaches.yaml')],
};

/** A captured request or answer from test/fixtures/kube-scheduler, parsed. */
export function capture(name: string): Wire {
  return JSON.parse(readFileSync(here(`../fixtures/kube-scheduler/${name}`), 'utf8'));
}

/** The captured request's body exactly as the scheduler sent it: compact JSON. */
export function captureBody(name: string): string {
  return JSON.stringify(capture(name));
}

/** An extender on 127.0.0.1 (free port) fed the fixture inventory, synced. */
export async function fixtureExtender(opts: Partial<ExtenderOptions> = {}): Promise<RunningExtender> {
  const ext = await startExtender({ port: 0, source: new FileSource({ ...inventoryFiles, pollMs: 50 }), ...opts });
  await ext.synced;
  return ext;
}

export async function post(url: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Wire;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** The captured pod with extra annotations (e.g. a locality requirement). */
export function withAnnotations(args: Wire, annotations: Record<string, string>): Wire {
  const copy = structuredClone(args);
  copy.Pod.metadata.annotations = { ...copy.Pod.metadata.annotations, ...annotations };
  return copy;
}
