// Printing as kubectl does: a table with upper-case headers and columns three spaces apart (more
// columns with -o wide), or the objects themselves with -o json / -o yaml.
import { stringify } from 'yaml';

export const OUTPUTS = ['wide', 'json', 'yaml'] as const;
export type Output = (typeof OUTPUTS)[number] | undefined;

export interface Column<T> {
  header: string;
  value(row: T): string;
  /** Shown only with -o wide. */
  wide?: boolean;
}

export function render<T>(rows: readonly T[], columns: readonly Column<T>[], output: Output, objects: () => unknown[], empty: string): string {
  if (output === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects() }, null, 4)}\n`;
  if (output === 'yaml') return stringify({ apiVersion: 'v1', kind: 'List', items: objects() });
  if (rows.length === 0) return `${empty}\n`;
  const shown = columns.filter((c) => output === 'wide' || !c.wide);
  const table = [shown.map((c) => c.header), ...rows.map((r) => shown.map((c) => c.value(r)))];
  const widths = shown.map((_, i) => Math.max(...table.map((line) => line[i].length)));
  return (
    table
      .map((line) =>
        line
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Bytes as kubectl shows quantities: binary units, at most one decimal. */
export function bytes(n: number | undefined): string {
  if (n === undefined) return '<unknown>';
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n}` : `${Number(n.toFixed(1))}${units[i]}`;
}

/** An age as kubectl prints one: 45s, 12m, 5h, 3d. */
export function age(since: string | undefined, now: number): string {
  if (!since) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 2 * 3600) return `${Math.floor(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
