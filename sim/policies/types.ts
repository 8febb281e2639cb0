// What a placement policy sees for one task, and what it answers.
import type { PolicyName } from '../../src/core/policies/index.js';
import type { Rng } from '../rng.js';
import type { WarmOptions } from '../warm.js';
import type { StageSpec } from '../workloads/types.js';

/** A policy's answer when the task should wait (delay scheduling) rather than run anywhere now. */
export const WAIT = -1;

export interface PlaceContext {
  now: number;
  stage: StageSpec;
  /** Free slots per node (index = node). */
  free: Int32Array;
  slotsPerNode: number;
  /** Node names, by index (the names the extender knows). */
  names: readonly string[];
  /** kube-scheduler's weight for the extender's score. */
  extenderWeight: number;
  /** Seeded generator for tie-breaks (kube-scheduler picks at random among the best nodes). */
  rng: Rng;
  /** The core's score (0..10) of every node for this task's pod, through the extender's decisions. */
  scores(policy: PolicyName): Uint8Array;
  /** The index of the stage's task being placed. */
  task: number;
  /** The pod the task runs as (labels name its Dataset, annotations its slice), for policies that ask a live extender. */
  pod(): PodObject;
  /**
   * Bytes of the task's slice held now in node `n`'s modelled cache, not as its agent last published it:
   * perfect knowledge, for the oracle reference only.
   */
  liveBytes(n: number): number;
  /** When the stage's next task first had to wait, or `now`. */
  waitingSince: number;
}

export interface PodObject {
  metadata: { name: string; namespace: string; uid: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { schedulerName: string };
}

export interface SimPolicy {
  name: string;
  /** Whether nodes cache what they read (false: the remote-only baseline). */
  caches: boolean;
  /** Whether it reads the inventory (the locality index); if not, the agents' writes are not modelled. */
  readsInventory: boolean;
  /** For policies that may answer WAIT: the longest a stage waits before placing anyway, s. */
  maxWait?: number;
  /** The warm cache's options this policy runs with (sim/warm.ts); absent: none. */
  warm?: WarmOptions;
  /** A node index with a free slot, or WAIT. */
  place(ctx: PlaceContext): number | Promise<number>;
}
