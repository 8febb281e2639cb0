// Policies that ignore the caches: the scheduler's own spreading, random placement, and the
// remote-only baseline in which nodes cache nothing.
import { selectHost } from './kube.js';
import type { SimPolicy } from './types.js';

/** kube-scheduler without the extender: least-allocated spread. */
export const defaultPolicy: SimPolicy = { name: 'default', caches: true, readsInventory: false, place: (ctx) => selectHost(ctx) };

/** A uniformly random node with a free slot. */
export const randomPolicy: SimPolicy = {
  name: 'random',
  caches: true,
  readsInventory: false,
  place(ctx) {
    let count = 0;
    for (let n = 0; n < ctx.free.length; n++) if (ctx.free[n] > 0) count++;
    let k = ctx.rng.int(count);
    for (let n = 0; n < ctx.free.length; n++) if (ctx.free[n] > 0 && k-- === 0) return n;
    return -1;
  },
};

/** Every read goes to the object store and nothing is cached; placement as `default`. */
export const noCachePolicy: SimPolicy = { name: 'no-cache', caches: false, readsInventory: false, place: (ctx) => selectHost(ctx) };
