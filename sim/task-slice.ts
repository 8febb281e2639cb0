// What a simulated task's pod declares it reads, written as users write it on their pods: a training
// worker that shards the whole Dataset carries its replica index (as a Kubeflow training job's pods do)
// and the shard count; any other task (a Spark map task, a partial reader) names its block range. The
// core resolves either to the blocks the task reads on its first pass.
import { formatSlice, REPLICA_INDEX_LABEL, SHARDS_ANNOTATION, SLICE_ANNOTATION } from '../src/core/index.js';
import { taskBlocks, type StageSpec } from './workloads/types.js';

export interface SliceMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * Labels and annotations declaring the slice that task `task` of `stage` reads of a Dataset of
 * `blockCount` blocks. A stage whose reads overlap its compute is a training job's workers (data loaders).
 */
export function taskSlice(stage: StageSpec, blockCount: number, task: number): SliceMetadata {
  // Shard i of n is blocks [floor(i·B/n), floor((i+1)·B/n)): the very blocks taskBlocks gives task i
  // when the stage reads every block and no share is empty.
  if (stage.overlapIO && stage.readBlocks === blockCount && stage.tasks > 1 && stage.tasks <= blockCount) {
    return { labels: { [REPLICA_INDEX_LABEL]: String(task) }, annotations: { [SHARDS_ANNOTATION]: String(stage.tasks) } };
  }
  const [from, to] = taskBlocks(stage, task, 0);
  if (from === 0 && to === blockCount) return { labels: {}, annotations: {} };
  return { labels: {}, annotations: { [SLICE_ANNOTATION]: formatSlice({ kind: 'blocks', ranges: [[from, to]] }) } };
}
