// Loads one file through the file source's parser in a process of its own and prints the peak
// resident memory (VmHWM) before and after, in bytes: test/inventory/file-source-peak.test.ts.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseObjects } from '../../../src/inventory/file-source.js';

const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const [kind, file] = process.argv.slice(2) as ['NodeCache', string];
const before = hwm();
const objects = parseObjects(kind, file, await readFile(file, 'utf8'));
process.stdout.write(`${JSON.stringify({ before, after: hwm(), objects: objects.size })}\n`);
