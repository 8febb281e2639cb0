// bench:core — scoring 5,000 nodes for a pod with 3 datasets over an index of
// 5,000 nodes × 50 datasets × 1,000 blocks. Prints one JSON line per case.
// Baseline: the least any scorer must do (3 map look-ups per node), measured in the same run.
import { decodeBlockSet, encodeBlockSet, filterNodes, LocalityIndex, scoreNodes, type DatasetRef, type InventorySnapshot } from '../src/core/index.js';

const NODES = 5000;
const DATASETS = 50;
const BLOCKS = 1000;
const BLOCK = 16 * 2 ** 20;
const ZONES = 3;

let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => { gc?.(); gc?.(); return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers; };

function build(fill: number): { index: LocalityIndex; applyNs: number; snapshotBytes: number } {
  const before = heap();
  const index = new LocalityIndex({ ttlMs: 15 * 60_000 });
  for (let d = 0; d < DATASETS; d++) {
    index.upsertDataset({ key: `ml/d${d}`, totalBytes: BLOCKS * BLOCK, blockSize: BLOCK, blockCount: BLOCKS, catalogVersion: 'v1' });
  }
  const names: string[] = [];
  for (let n = 0; n < NODES; n++) {
    names.push(`node-${n}`);
    index.upsertNode({ name: `node-${n}`, zone: `zone-${n % ZONES}`, region: 'region-1' });
  }
  let applyNs = 0;
  let snapshotBytes = 0;
  for (let n = 0; n < NODES; n++) {
    const snap: InventorySnapshot = { node: names[n], epoch: 'e1', seq: 1, datasets: [] };
    for (let d = 0; d < DATASETS; d++) {
      if (rand() >= fill) continue;
      const blocks: number[] = [];
      for (let b = 0; b < BLOCKS; b++) if (rand() < 0.5) blocks.push(b);
      const encoded = encodeBlockSet(blocks, BLOCKS);
      snapshotBytes += encoded.length;
      snap.datasets.push({ dataset: `ml/d${d}`, bytes: blocks.length * BLOCK, blockSize: BLOCK, catalogVersion: 'v1', blocks: decodeBlockSet(encoded) });
    }
    const t = process.hrtime.bigint();
    index.applyInventory(snap, 0);
    applyNs += Number(process.hrtime.bigint() - t);
  }
  return { index, applyNs: applyNs / NODES, snapshotBytes: snapshotBytes / NODES, ...{ memoryBytes: heap() - before } };
}

function time(fn: () => void, rounds: number): { p50: number; min: number } {
  for (let i = 0; i < 3; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t));
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(rounds / 2)], min: samples[0] };
}

const pod: DatasetRef[] = [0, 17, 33].map((d, i) => ({ namespace: 'ml', name: `d${d}`, useAs: ['mount'], source: { kind: 'label', index: i } }));
const nodes = Array.from({ length: NODES }, (_, n) => `node-${n}`);

for (const fill of [0.2, 1]) {
  const built = build(fill);
  const { index } = built;
  const base = { nodes: NODES, datasets: DATASETS, blocks: BLOCKS, fill };
  console.log(JSON.stringify({
    case: 'index', ...base, memoryMiB: +((built as unknown as { memoryBytes: number }).memoryBytes / 2 ** 20).toFixed(1),
    applyUsPerSnapshot: +(built.applyNs / 1000).toFixed(1), nodeCacheStatusBytes: Math.round(built.snapshotBytes), gcExposed: gc !== undefined,
  }));
  const keys = pod.map((r) => `${r.namespace}/${r.name}`);
  const baseline = time(() => {
    let sum = 0;
    for (const n of nodes) for (const k of keys) sum += index.cachedBytes(n, k, 1);
    if (sum < 0) throw new Error('unreachable');
  }, 50);
  console.log(JSON.stringify({ case: 'baseline: 3 cachedBytes look-ups per node', ...base, nsPerNode: +(baseline.p50 / NODES).toFixed(1) }));
  for (const policy of ['locality', 'dataset-affinity'] as const) {
    // Every round is a fresh `now`, so the zone unions are recomputed as after an inventory change.
    let now = 1;
    const cold = time(() => { scoreNodes(policy, { datasets: pod, nodes, index, now: now++ }); }, 30);
    const warm = time(() => { scoreNodes(policy, { datasets: pod, nodes, index, now }); }, 30);
    console.log(JSON.stringify({
      case: `score ${policy}`, ...base, nsPerNode: +(warm.p50 / NODES).toFixed(1), nsPerNodeAfterChange: +(cold.p50 / NODES).toFixed(1),
      msPerPod: +(warm.p50 / 1e6).toFixed(2), vsBaseline: +(warm.p50 / baseline.p50).toFixed(2),
    }));
  }
  const annotations = { 'locus.dev/locality': 'required' };
  const filter = time(() => { filterNodes({ datasets: pod, nodes, index, now: 1, annotations }); }, 30);
  console.log(JSON.stringify({ case: 'filter required', ...base, nsPerNode: +(filter.p50 / NODES).toFixed(1), vsBaseline: +(filter.p50 / baseline.p50).toFixed(2) }));
}
