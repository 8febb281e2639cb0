// Settings more than one component depends on, each defined once. The extender (and the simulator's
// index) read NodeCaches that the agents (and the simulator's agents) write, so these must agree.
import { DEFAULT_SCORING, type ScoringConfig } from '../core/policies/config.js';
import { UserError } from './errors.js';
import { formatDuration } from './units.js';

/** An agent rewrites an unchanged NodeCache this often, so readers can tell a live one from a stale one. */
export const AGENT_REFRESH_MS = 10 * 60_000;

/** A NodeCache not rewritten for this long counts as empty: longer than AGENT_REFRESH_MS plus write delays. */
export const NODECACHE_TTL_MS = 15 * 60_000;

/** Credit of a byte cached elsewhere in the node's zone / region (the scoring core owns the numbers). */
export const SCORING_CREDITS: Readonly<ScoringConfig> = DEFAULT_SCORING;

/** Two settings that contradict each other; the hint says which way to move them. */
export class SettingsError extends UserError {
  override readonly name = 'SettingsError';
}

/**
 * The rule that keeps live caches counted: a reader's TTL must be longer than the writers' refresh
 * interval, or every unchanged NodeCache expires between two rewrites and scores as empty.
 * `ttlName`/`refreshName` are how the caller's user sets each (a flag, a spec field).
 */
export function checkFreshness(
  ttlMs: number,
  refreshMs: number,
  names: { ttl: string; refresh: string } = { ttl: '--ttl', refresh: "the agents' --refresh-interval" },
): void {
  if (!(ttlMs > refreshMs)) {
    throw new SettingsError(
      `${names.ttl} (${formatDuration(ttlMs)}) must be longer than ${names.refresh} (${formatDuration(refreshMs)}): ` +
        'otherwise every unchanged NodeCache expires before its agent rewrites it and counts as empty',
      `raise ${names.ttl} or lower ${names.refresh}`,
    );
  }
}
