// A Node object's place in the topology, from its well-known labels (the beta labels as fallback).
import type { NodeTopology } from '../core/types.js';

export const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
export const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];

interface NodeLike {
  metadata?: { name?: string; labels?: Record<string, string> | null } | null;
}

/** The topology of a Node object, or undefined when it has no name. */
export function nodeTopology(node: NodeLike): NodeTopology | undefined {
  const name = node.metadata?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const labels = node.metadata?.labels ?? {};
  const topology: NodeTopology = { name };
  const zone = firstLabel(labels, ZONE_LABELS);
  const region = firstLabel(labels, REGION_LABELS);
  if (zone) topology.zone = zone;
  if (region) topology.region = region;
  return topology;
}

function firstLabel(labels: Record<string, string>, keys: string[]): string | undefined {
  for (const key of keys) {
    const value = labels[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}
