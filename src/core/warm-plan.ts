// Warm-ahead planning: which nodes fetch the slices of queued work (pods the scheduler could not place,
// suspended Jobs) before it runs. Pure: the extender passes the queue, the nodes, the index and `now`.
//
// Queued work is taken oldest first. Its candidate nodes (live inventory, schedulable, matching its
// nodeSelector) are ranked by the very policy that prioritize scores it with, ties going to the node
// missing fewer bytes, then by name. The top `nodesPerPod` are its warm nodes: a node holding the whole
// slice already counts as one and gets nothing to do; a node the last plan chose stays chosen while it
// qualifies (so what it fetched stays pinned and plans do not flap); any other node is chosen only when
// the bytes it misses fit in its own budget and in the cluster's. Resources, taints and affinity are not
// looked at: the plan warms where the data ranks a node best, whether or not the work fits there now.
import { scoreNodes, sizedDatasets, type PolicyName } from './policies/index.js';
import type { ScoringConfig } from './policies/config.js';
import type { LocalityIndex } from './locality-index.js';
import { formatSlice } from './slice.js';
import type { DatasetRef } from './types.js';

/** What a warm item is for: a pod, or one index (Indexed) or all pods (NonIndexed) of a suspended Job. */
export type WarmTarget =
  { kind: 'Pod'; namespace: string; name: string; uid: string } | { kind: 'Job'; namespace: string; name: string; uid: string; index?: number };

export interface QueuedWork {
  target: WarmTarget;
  /** Since when it has been queued (unschedulable, or created suspended), ms. */
  since: number;
  /** Its Datasets with their slices resolved (as `requestForPod` gives them). */
  datasets: DatasetRef[];
  nodeSelector?: Record<string, string>;
}

export interface WarmNode {
  name: string;
  labels: Record<string, string>;
  /** Cordoned (`spec.unschedulable`): nothing is warmed there. */
  unschedulable?: boolean;
}

export interface WarmSettings {
  /** Bytes planned for warming at once, all nodes together. */
  clusterBytes: number;
  /** Bytes planned for warming at once on one node. */
  nodeBytes: number;
  /** Warm nodes per queued pod (a node already holding its slice counts). */
  nodesPerPod: number;
  /** Work queued for less than this long is not warmed yet, ms. */
  afterMs: number;
}

export interface WarmItem {
  target: WarmTarget;
  /** Each Dataset, with its slice as text when the work reads part of it. */
  datasets: Array<{ namespace: string; name: string; slice?: string }>;
  /** Bytes of the slices the node misses. */
  bytes: number;
}

export interface WarmPlanInput {
  queue: readonly QueuedWork[];
  nodes: readonly WarmNode[];
  index: LocalityIndex;
  policy: PolicyName;
  scoring?: Partial<ScoringConfig>;
  settings: WarmSettings;
  now: number;
  /** Target key → nodes it was warmed on by the last plan. */
  previous?: ReadonlyMap<string, readonly string[]>;
}

export interface WarmPlan {
  /** Node → its items, oldest work first; nodes with none are absent. */
  byNode: Map<string, WarmItem[]>;
  /** Target key → its warm nodes (the next plan's `previous`). */
  assigned: Map<string, string[]>;
  /** Bytes planned, all nodes together. */
  bytes: number;
}

/** `Pod ns/name` or `Job ns/name[#index]`: one per item. */
export function warmTargetKey(t: WarmTarget): string {
  return `${t.kind} ${t.namespace}/${t.name}${t.kind === 'Job' && t.index !== undefined ? `#${t.index}` : ''}`;
}

export function matchesSelector(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

export function planWarm(input: WarmPlanInput): WarmPlan {
  const { index, settings, now } = input;
  const loc = { onNode: 0, inZone: 0, inRegion: 0 };
  const byNode = new Map<string, WarmItem[]>();
  const assigned = new Map<string, string[]>();
  const nodeUsed = new Map<string, number>();
  let bytes = 0;
  const live = input.nodes.filter((n) => !n.unschedulable && index.isLive(n.name, now));
  const queue = [...input.queue].sort((a, b) => a.since - b.since || warmTargetKey(a.target).localeCompare(warmTargetKey(b.target)));
  for (const work of queue) {
    if (now - work.since < settings.afterMs) continue;
    const key = warmTargetKey(work.target);
    const before = new Set(input.previous?.get(key) ?? []);
    // With the cluster budget spent only nodes chosen before can keep their items: skip the scoring.
    if (bytes >= settings.clusterBytes && before.size === 0) continue;
    const nodes = live.filter((n) => matchesSelector(n.labels, work.nodeSelector)).map((n) => n.name);
    const req = { datasets: work.datasets, nodes, index, now, config: input.scoring };
    const sized = sizedDatasets(req);
    if (sized.length === 0 || nodes.length === 0) continue;
    // What each node misses, Dataset by Dataset through the index's views, as scoreNodes reads them.
    const ids = index.nodeIds(nodes);
    const missing = new Array<number>(nodes.length).fill(0);
    for (const d of sized) {
      const view = index.view(d.key, d.slice, now);
      for (let i = 0; i < ids.length; i++) missing[i] += Math.max(0, d.totalBytes - view.fill(ids[i], loc).onNode);
    }
    // No node holds the slice and none misses little enough for what is left of the cluster budget.
    if (bytes + missing.reduce((m, x) => Math.min(m, x), Infinity) > settings.clusterBytes) continue;
    const scores = scoreNodes(input.policy, req);
    const better = (a: number, b: number) => scores[b] - scores[a] || missing[a] - missing[b] || (nodes[a] < nodes[b] ? -1 : 1);
    const datasets = work.datasets
      .filter((ref) => sized.some((d) => d.key === `${ref.namespace}/${ref.name}`))
      .map((ref) => ({ namespace: ref.namespace, name: ref.name, ...(ref.slice && !ref.slice.whole ? { slice: formatSlice(ref.slice.spec) } : {}) }));
    const chosen: string[] = [];
    let satisfied = 0;
    // Nodes chosen before keep their place first, then the ranking fills up: taken best first from a
    // heap, since a pod usually needs its first few nodes of thousands (a full sort cost more than scoring).
    const kept = nodes.map((_, i) => i).filter((i) => before.has(nodes[i]));
    function* order() {
      yield* kept.sort(better);
      yield* bestFirst(nodes.length, better, (i) => !before.has(nodes[i]));
    }
    for (const i of order()) {
      if (satisfied >= settings.nodesPerPod) break;
      const node = nodes[i];
      const need = missing[i];
      if (need === 0 && !before.has(node)) {
        satisfied++; // holds the slice already: nothing to warm
        continue;
      }
      const used = nodeUsed.get(node) ?? 0;
      if (used + need > settings.nodeBytes || bytes + need > settings.clusterBytes) continue;
      nodeUsed.set(node, used + need);
      bytes += need;
      satisfied++;
      chosen.push(node);
      const items = byNode.get(node) ?? [];
      items.push({ target: work.target, datasets, bytes: need });
      byNode.set(node, items);
    }
    if (chosen.length > 0) assigned.set(key, chosen);
  }
  return { byNode, assigned, bytes };
}

/** Indices 0..n-1 that pass `keep`, lazily in the order `better` sorts them (a binary heap, built in O(n)). */
function* bestFirst(n: number, better: (a: number, b: number) => number, keep: (i: number) => boolean): Generator<number> {
  const heap: number[] = [];
  for (let i = 0; i < n; i++) if (keep(i)) heap.push(i);
  const down = (from: number) => {
    for (let i = from; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && better(heap[l], heap[top]) < 0) top = l;
      if (r < heap.length && better(heap[r], heap[top]) < 0) top = r;
      if (top === i) return;
      [heap[i], heap[top]] = [heap[top], heap[i]];
      i = top;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  while (heap.length > 0) {
    const best = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      down(0);
    }
    yield best;
  }
}
