// A job's stages as a DAG (graphlib): ordered topologically, dependencies turned into stage indices.
import { Graph, alg } from '@dagrejs/graphlib';
import type { StageSpec } from './types.js';

export type StageNode = Omit<StageSpec, 'after'> & { needs: string[] };

/** Orders stages so each comes after the ones it needs; throws on a cycle or an unknown stage name. */
export function stageDag(jobId: string, stages: StageNode[]): StageSpec[] {
  const g = new Graph();
  for (const s of stages) g.setNode(s.name, s);
  for (const s of stages) {
    for (const need of s.needs) {
      if (!g.hasNode(need)) throw new Error(`job ${jobId}: stage "${s.name}" needs unknown stage "${need}"`);
      g.setEdge(need, s.name);
    }
  }
  if (!alg.isAcyclic(g)) throw new Error(`job ${jobId}: stage dependencies form a cycle`);
  const order = alg.topsort(g);
  const position = new Map(order.map((name, i) => [name, i]));
  return order.map((name) => {
    const { needs, ...stage } = g.node(name) as StageNode;
    return { ...stage, after: needs.map((n) => position.get(n)!).sort((a, b) => a - b) };
  });
}
