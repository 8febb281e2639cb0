// What no placement policy can beat. The compulsory-miss bound is order- and capacity-free: a block's
// first read always comes from the object store. The clairvoyant bound (Belady's MIN over the whole
// cluster's cache capacity, as if every task ran where its blocks are) holds for one given order of reads.
import { blockNumbering } from './engine.js';
import { EventHeap } from './heap.js';
import { blockBytes, taskBlocks, type Workload } from './workloads/types.js';

export interface WorkloadReads {
  requestedBytes: number;
  distinctBytes: number;
  blockReads: number;
}

/** Bytes every policy reads (the same for all), and the bytes of distinct blocks among them. */
export function workloadReads(workload: Workload, blockSize: number): WorkloadReads {
  const numbering = blockNumbering(workload, blockSize);
  const seen = new Uint8Array(numbering.total);
  let requestedBytes = 0;
  let distinctBytes = 0;
  let blockReads = 0;
  for (const job of workload.jobs) {
    for (const stage of job.stages) {
      if (stage.dataset < 0) continue;
      const total = workload.datasets[stage.dataset].bytes;
      const base = numbering.base(stage.dataset);
      for (let pass = 0; pass < stage.passes; pass++) {
        for (let t = 0; t < stage.tasks; t++) {
          const [from, to] = taskBlocks(stage, t, pass);
          for (let b = from; b < to; b++) {
            const bytes = blockBytes(total, blockSize, b);
            requestedBytes += bytes;
            blockReads++;
            if (!seen[base + b]) {
              seen[base + b] = 1;
              distinctBytes += bytes;
            }
          }
        }
      }
    }
  }
  return { requestedBytes, distinctBytes, blockReads };
}

/**
 * Most bytes any cache of `capacityBytes` could serve for this sequence of global block ids (Belady's
 * MIN, optimal for equal-size blocks). Each dataset's last, shorter block is counted as always cached
 * after its first read, so the result stays an upper bound.
 */
export function beladyBytes(reads: Int32Array, workload: Workload, blockSize: number, capacityBytes: number): number {
  const numbering = blockNumbering(workload, blockSize);
  const sizeOf = (global: number) => {
    const d = numbering.datasetOf(global);
    return blockBytes(workload.datasets[d].bytes, blockSize, global - numbering.base(d));
  };
  const slots = Math.floor(capacityBytes / blockSize);
  const next = new Int32Array(reads.length);
  const lastSeen = new Int32Array(numbering.total).fill(reads.length);
  for (let i = reads.length - 1; i >= 0; i--) {
    next[i] = lastSeen[reads[i]];
    lastSeen[reads[i]] = i;
  }
  const cachedUntil = new Int32Array(numbering.total).fill(-1);
  const partialSeen = new Uint8Array(numbering.total);
  // The event heap ordered on minus the next use: its top is the block needed furthest in the future.
  const heap = new EventHeap<number>();
  let held = 0;
  let bytes = 0;
  for (let i = 0; i < reads.length; i++) {
    const b = reads[i];
    const size = sizeOf(b);
    if (size < blockSize) {
      if (partialSeen[b]) bytes += size;
      partialSeen[b] = 1;
      continue;
    }
    if (cachedUntil[b] === i) bytes += size;
    else if (slots === 0) continue;
    else held++;
    cachedUntil[b] = next[i];
    heap.push(-next[i], b);
    // Over capacity: drop the cached block needed furthest in the future (the new one, if it is).
    while (held > slots) {
      const use = -heap.peekTime();
      const victim = heap.pop();
      if (cachedUntil[victim] !== use) continue;
      cachedUntil[victim] = -1;
      held--;
    }
  }
  return bytes;
}
