// Scoring knobs, the request every policy answers, and kube-scheduler's score range.
import type { LocalityIndex, Locality } from '../locality-index.js';
import type { DatasetRef } from '../types.js';

/** kube-scheduler's MaxExtenderPriority: extender scores are integers 0..10. */
export const MAX_SCORE = 10;

export interface ScoringConfig {
  /** Credit for a byte cached elsewhere in the node's zone, relative to a byte on the node. */
  zoneCredit: number;
  /** Credit for a byte cached elsewhere in the node's region (outside its zone). */
  regionCredit: number;
}

export const DEFAULT_SCORING: ScoringConfig = { zoneCredit: 0.5, regionCredit: 0.2 };

export interface ScoreRequest {
  datasets: DatasetRef[];
  nodes: readonly string[];
  index: LocalityIndex;
  now: number;
  config?: Partial<ScoringConfig>;
}

/** A policy is its per-dataset credit: bytes counted as local, between 0 and the Dataset's size. */
export interface Policy {
  name: string;
  summary: string;
  credit(loc: Locality, totalBytes: number, config: ScoringConfig): number;
}

export function scoringConfig(partial: Partial<ScoringConfig> | undefined): ScoringConfig {
  return { ...DEFAULT_SCORING, ...partial };
}
