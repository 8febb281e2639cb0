// Exponential backoff with jitter: restarts spread out instead of every replica hitting a recovering
// API server in the same instant, and never drop near zero, so a persistent failure cannot spin.

export interface BackoffOptions {
  /** Delay before the first retry (default 500 ms). */
  initialMs?: number;
  /** Ceiling (default 30 s). */
  maxMs?: number;
}

/** Delay before retry number `attempt` (0-based): uniform in [base/2, base], base = min(max, initial·2^attempt). */
export function backoffDelay(attempt: number, random: () => number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + random() * (base / 2));
}
