// kube-scheduler's choice among feasible nodes: its NodeResourcesLeastAllocated score (0..100, the
// node's free share after placing the pod) plus, with an extender, weight × 10 × the extender's score;
// ties are broken uniformly at random, as the scheduler's selectHost does.
import type { PlaceContext } from './types.js';

/** Least-allocated score of node `n` once one more slot is taken. */
export function leastAllocated(ctx: PlaceContext, n: number): number {
  return Math.floor(((ctx.free[n] - 1) * 100) / ctx.slotsPerNode);
}

/**
 * Best feasible node by least-allocated plus the extender's weighted scores (`ext`, by node, 0..10),
 * among nodes accepted by `allow`; -1 when none is feasible.
 */
export function selectHost(ctx: PlaceContext, ext?: ArrayLike<number>, allow?: (n: number) => boolean): number {
  let best = -1;
  let bestScore = -Infinity;
  let ties = 0;
  const weight = ctx.extenderWeight * 10;
  for (let n = 0; n < ctx.free.length; n++) {
    if (ctx.free[n] <= 0 || (allow && !allow(n))) continue;
    const score = leastAllocated(ctx, n) + (ext ? weight * ext[n] : 0);
    if (score > bestScore) {
      best = n;
      bestScore = score;
      ties = 1;
    } else if (score === bestScore && ctx.rng.int(++ties) === 0) {
      best = n;
    }
  }
  return best;
}
