// Every benchmark prints JSON lines, each with the machine's load average at the moment it was printed
// (os.loadavg(): 1, 5 and 15 minutes), so a figure measured on a busy machine says so where it is quoted.
import { loadavg } from 'node:os';

export function jsonLine(fields: object): void {
  process.stdout.write(`${JSON.stringify({ ...fields, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) })}\n`);
}
