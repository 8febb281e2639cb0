// The block-aware oracle: a REFERENCE line for the report, not a policy anyone can run. It places each
// task on a free node whose cache holds the most bytes of the task's slice right now, seeing the
// modelled caches themselves instead of the inventories the agents last published, and never waits.
// It shows what placement that knows the caches exactly reaches with these caches and slots; being
// greedy it is no bound (spreading, which copies blocks to more nodes, can beat it on small clusters).
import { selectHost } from './policies/kube.js';
import type { SimPolicy } from './policies/types.js';
import type { NodeCacheModel } from './node-cache.js';
import { blockBytes, taskBlocks, type SimDataset, type StageSpec } from './workloads/types.js';

export const ORACLE_NAME = 'oracle';
export const ORACLE_LABEL = 'reference: block-aware oracle (perfect knowledge of live caches; not a policy)';

/** Bytes of the blocks task `task` of `stage` reads on its first pass that `cache` holds now. */
export function liveSliceBytes(cache: NodeCacheModel, stage: StageSpec, task: number, datasets: readonly SimDataset[], blockSize: number): number {
  if (stage.dataset < 0) return 0;
  const held = cache.held(stage.dataset);
  if (!held) return 0;
  const total = datasets[stage.dataset].bytes;
  const [from, to] = taskBlocks(stage, task, 0);
  let bytes = 0;
  if (held.blocks.size < to - from) {
    for (const b of held.blocks) if (b >= from && b < to) bytes += blockBytes(total, blockSize, b);
  } else {
    for (let b = from; b < to; b++) if (held.blocks.has(b)) bytes += blockBytes(total, blockSize, b);
  }
  return bytes;
}

/** The oracle: most live bytes of the slice first; among equals, kube-scheduler's own choice. */
export const oraclePolicy: SimPolicy = {
  name: ORACLE_NAME,
  caches: true,
  readsInventory: false,
  place(ctx) {
    let best = 0;
    const live = new Float64Array(ctx.free.length);
    for (let n = 0; n < ctx.free.length; n++) {
      if (ctx.free[n] <= 0) continue;
      live[n] = ctx.liveBytes(n);
      best = Math.max(best, live[n]);
    }
    return best > 0 ? selectHost(ctx, undefined, (n) => live[n] === best) : selectHost(ctx);
  },
};
