// kube-scheduler with a live Locus extender: for every task, the nodes with a free slot are sent to
// the extender's filter and (when two or more pass) prioritize verbs on the scheduler's wire format,
// and the answers weighted as the scheduler does. Used to check the in-process path against the server.
import { selectHost } from './kube.js';
import type { PlaceContext, SimPolicy } from './types.js';

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`);
  return res.json();
}

/** `urlPrefix` as in the scheduler's config, e.g. `http://127.0.0.1:8888/scheduler`. */
export function extenderClientPolicy(name: string, urlPrefix: string): SimPolicy {
  return {
    name,
    caches: true,
    readsInventory: true,
    async place(ctx: PlaceContext) {
      const candidates: string[] = [];
      for (let n = 0; n < ctx.free.length; n++) if (ctx.free[n] > 0) candidates.push(ctx.names[n]);
      const args = { Pod: ctx.pod(), Nodes: null, NodeNames: candidates };
      const filtered = (await post(`${urlPrefix}/filter`, args)) as { NodeNames: string[] | null; Error: string };
      if (filtered.Error) throw new Error(`extender filter: ${filtered.Error}`);
      const passed = new Set(filtered.NodeNames ?? []);
      const ext = new Uint8Array(ctx.free.length);
      if (passed.size >= 2) {
        const index = new Map(ctx.names.map((n, i) => [n, i]));
        const list = (await post(`${urlPrefix}/prioritize`, { ...args, NodeNames: [...passed] })) as Array<{ Host: string; Score: number }>;
        for (const { Host, Score } of list) ext[index.get(Host)!] = Score;
      }
      return selectHost(ctx, ext, (n) => passed.has(ctx.names[n]));
    },
  };
}
