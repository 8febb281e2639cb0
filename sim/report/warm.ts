// The warm cache's part of a report (`locus sim --warm`): per policy, its run without warm options
// (base), with each option alone and with all of them, and what each saves against the base: object-store
// egress, time to the first block, cold starts. Every one of these runs models pod start-up alike.
import { round, type PolicyMetrics } from '../metrics.js';
import type { SimPolicyName } from '../policies/index.js';
import { warmSuffix, warmVariants, type WarmOption, type WarmSpec } from '../warm.js';
import type { Report } from './json.js';
import { decimal, type Table } from './table.js';

export interface WarmRow {
  /** `base`, `+prefetch`, …, `+all`. */
  variant: string;
  /** The run's policy name in `policies[]`. */
  policy: string;
  firstBlockSeconds: number;
  meanJctSeconds: number;
  hitRatio: number;
  coldStartSeconds?: { p50: number; p99: number };
  egressBytes: number;
  peerBytes: number;
  prefetchedBytes: number;
  wastedPrefetchBytes: number;
  warmAheadBytes: number;
  /** Against the base run of the same policy (positive: saved). */
  saved: { egressBytes: number; egressShare: number; firstBlockSeconds: number; coldP50Seconds?: number; coldP99Seconds?: number };
}

export interface WarmReport {
  spec: WarmSpec;
  options: WarmOption[];
  comparisons: Array<{ policy: string; rows: WarmRow[] }>;
}

/** Per policy that ran with warm variants, its rows in variant order (base first). */
export function warmComparisons(
  policies: readonly SimPolicyName[],
  options: readonly WarmOption[],
  metrics: readonly PolicyMetrics[],
): WarmReport['comparisons'] {
  const byName = new Map(metrics.map((m) => [m.policy, m]));
  const variants = warmVariants(options);
  return policies.flatMap((name) => {
    const runs = variants.map((v) => ({ suffix: warmSuffix(v), m: byName.get(`${name}${warmSuffix(v)}`) }));
    const base = runs[0].m;
    if (!base?.warm || runs.slice(1).some((r) => !r.m)) return [];
    const rows = runs.map(({ suffix, m }): WarmRow => {
      const w = m!.warm!;
      const cold = m!.coldStartSeconds;
      const baseCold = base.coldStartSeconds;
      return {
        variant: suffix === '' ? 'base' : suffix.trim(),
        policy: m!.policy,
        firstBlockSeconds: w.firstBlockSeconds,
        meanJctSeconds: m!.jctSeconds.mean,
        hitRatio: m!.hitRatio,
        ...(cold ? { coldStartSeconds: { p50: cold.p50, p99: cold.p99 } } : {}),
        egressBytes: w.egressBytes,
        peerBytes: w.peerBytes,
        prefetchedBytes: w.prefetchedBytes,
        wastedPrefetchBytes: w.wastedPrefetchBytes,
        warmAheadBytes: w.warmAheadBytes,
        saved: {
          egressBytes: base.warm!.egressBytes - w.egressBytes,
          egressShare: round(base.warm!.egressBytes > 0 ? 1 - w.egressBytes / base.warm!.egressBytes : 0),
          firstBlockSeconds: round(base.warm!.firstBlockSeconds - w.firstBlockSeconds),
          ...(cold && baseCold ? { coldP50Seconds: round(baseCold.p50 - cold.p50), coldP99Seconds: round(baseCold.p99 - cold.p99) } : {}),
        },
      };
    });
    return [{ policy: name, rows }];
  });
}

const seconds = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
const signed = (x: number) => (x === 0 ? '0' : `${x > 0 ? '' : '−'}${seconds(Math.abs(x))}`);

/** What a reader of the warm tables must know to read the other figures of the same report. */
export function warmNotes(report: Report): string[] {
  if (!report.warm) return [];
  const s = report.warm.spec;
  return [
    `Every run of this report models pod start-up (${s.podStartSeconds} s from binding to the container's first read), so its times are not those of a report without --warm. ` +
      'Fetched ahead (prefetch, warm-ahead), a block is on the node before the task reads it: local bytes count it and can pass the bounds, which take a first read as a miss; ' +
      'store egress is the figure to compare. A read that joins a fetch ahead still under way counts as remote. "first block" is the mean time from a container’s start to its first block read.',
  ];
}

/** One table per policy compared: what each warm-cache option adds to it. */
export function warmTables(report: Report): Table[] {
  if (!report.warm) return [];
  const start = report.warm.spec.podStartSeconds;
  return report.warm.comparisons.map(({ policy, rows }) => {
    const cold = rows.some((r) => r.coldStartSeconds !== undefined);
    return {
      title: `Warm cache, ${policy}: what each option adds (pod start-up ${start} s in every run)`,
      header: [
        'variant',
        'first block s',
        ...(cold ? ['cold p50 / p99 s'] : []),
        'mean JCT s',
        'local bytes',
        'store egress',
        'from peers',
        'fetched ahead (wasted)',
        'egress saved',
        'first block saved s',
        ...(cold ? ['cold p50 / p99 saved s'] : []),
      ],
      rows: rows.map((r) => [
        r.variant,
        seconds(r.firstBlockSeconds),
        ...(cold ? [r.coldStartSeconds ? `${seconds(r.coldStartSeconds.p50)} / ${seconds(r.coldStartSeconds.p99)}` : '–'] : []),
        seconds(r.meanJctSeconds),
        `${(r.hitRatio * 100).toFixed(1)}%`,
        decimal(r.egressBytes),
        decimal(r.peerBytes),
        `${decimal(r.prefetchedBytes)} (${decimal(r.wastedPrefetchBytes)})`,
        `${decimal(r.saved.egressBytes)} (${(r.saved.egressShare * 100).toFixed(1)}%)`,
        signed(r.saved.firstBlockSeconds),
        ...(cold ? [r.saved.coldP50Seconds === undefined ? '–' : `${signed(r.saved.coldP50Seconds)} / ${signed(r.saved.coldP99Seconds!)}`] : []),
      ]),
    };
  });
}
