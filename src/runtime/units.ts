// The one syntax of durations and sizes in every flag, manifest and help text:
// durations `500ms`, `90s`, `1m30s`, `15m`, `1.5h`, `30d`; sizes as Kubernetes quantities, `64Mi`, `10G`, `1048576`.

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of `500ms`, `1m30s`, `15m`, `1.5h`, `30d`; undefined when malformed (a bare number has no unit). */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  DURATION_PART.lastIndex = 0;
  let ms = 0;
  let m: RegExpExecArray | null;
  while ((m = DURATION_PART.exec(s)) !== null) {
    ms += Number(m[1]) * DURATION_MS[m[2]];
    if (DURATION_PART.lastIndex === s.length) return ms;
  }
  return undefined;
}

/** The shortest exact spelling of `ms` in the duration syntax: 900000 → `15m`, 90000 → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const n = Math.floor(rest / DURATION_MS[unit]);
    if (n > 0) {
      parts.push(`${n}${unit}`);
      rest -= n * DURATION_MS[unit];
    }
  }
  return parts.join('');
}

const SIZE = /^(\d+(?:\.\d+)?)(|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)$/;
const SIZE_FACTOR: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** Bytes of a Kubernetes quantity: `64Mi`, `10G`, `500k`, `1048576`; undefined when malformed. */
export function parseBytes(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  return m ? Math.floor(Number(m[1]) * SIZE_FACTOR[m[2]]) : undefined;
}

/** The shortest exact binary spelling of `bytes`: 67108864 → `64Mi`, 1000 → `1000`. */
export function formatBytes(bytes: number): string {
  for (const unit of ['Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    const f = SIZE_FACTOR[unit];
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${unit}`;
  }
  return String(bytes);
}
