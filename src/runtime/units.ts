// Durations and byte sizes as flags take them: `15m`, `500ms`; `64Mi`, `10MB`, `1048576`.

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of `15m`, `90s`, `500ms`, `1.5h`; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * DURATION_MS[m[2]] : undefined;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(|B|K|KB|Ki|KiB|M|MB|Mi|MiB|G|GB|Gi|GiB)$/i;
const SIZE_FACTOR: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, ki: 1024, kib: 1024, m: 1e6, mb: 1e6, mi: 1024 ** 2, mib: 1024 ** 2, g: 1e9, gb: 1e9, gi: 1024 ** 3, gib: 1024 ** 3,
};

/** Bytes of `64Mi`, `10MB`, `1048576`; undefined when malformed. */
export function parseBytes(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  return m ? Math.floor(Number(m[1]) * SIZE_FACTOR[m[2].toLowerCase()]) : undefined;
}
