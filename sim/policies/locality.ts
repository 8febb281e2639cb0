// Placement with the Locus extender: the core's scores for the pod (through the extender's own
// filter/prioritize decisions) weighted into kube-scheduler's choice; and delay scheduling on top of
// the same scores.
import type { PolicyName } from '../../src/core/policies/index.js';
import { selectHost } from './kube.js';
import { WAIT, type SimPolicy } from './types.js';

/** kube-scheduler with the Locus extender running core policy `core`. */
export function extenderPolicy(name: string, core: PolicyName): SimPolicy {
  return { name, caches: true, readsInventory: true, place: (ctx) => selectHost(ctx, ctx.scores(core)) };
}

/**
 * Delay scheduling: when some node scores at least `minScore` for the pod but none of those has a
 * free slot, the stage waits (up to `maxWait` s) instead of running elsewhere; later stages may pass it.
 */
export function delayPolicy(maxWait: number, minScore: number): SimPolicy {
  return {
    name: 'delay',
    caches: true,
    readsInventory: true,
    maxWait,
    place(ctx) {
      const scores = ctx.scores('locality');
      let holders = false;
      for (let n = 0; n < scores.length; n++)
        if (scores[n] >= minScore) {
          holders = true;
          break;
        }
      if (!holders) return selectHost(ctx);
      const local = selectHost(ctx, scores, (n) => scores[n] >= minScore);
      if (local >= 0) return local;
      return ctx.now - ctx.waitingSince < maxWait ? WAIT : selectHost(ctx, scores);
    },
  };
}
