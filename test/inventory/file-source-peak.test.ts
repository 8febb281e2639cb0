// A large NodeCache file is read without a peak far beyond its size: JSON by JSON.parse, YAML one
// document at a time (a whole-file YAML parse of 12.8 MB once peaked at 868 MB).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { encodeBlockSet } from '../../src/core/blockset.js';

const loader = fileURLToPath(new URL('./support/peak-load.ts', import.meta.url));

/** NodeCaches of 20 Datasets each, every one caching a random half of 1,000 blocks (a bitset). */
function caches(count: number): object[] {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, (_, n) => ({
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'NodeCache',
    metadata: { name: `node-${n}` },
    spec: { nodeName: `node-${n}` },
    status: {
      epoch: 'e1',
      seq: 1,
      datasets: Array.from({ length: 20 }, (_, d) => {
        const blocks = Array.from({ length: 1000 }, (_, b) => b).filter(() => rand() < 0.5);
        return {
          namespace: 'ml',
          name: `d${d}`,
          bytes: blocks.length * 2 ** 24,
          blockSize: 2 ** 24,
          catalogVersion: 'v1',
          blockCount: 1000,
          blocks: encodeBlockSet(blocks, 1000),
        };
      }),
    },
  }));
}

function peak(file: string): { growth: number; objects: number } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', loader, 'NodeCache', file], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`loader failed: ${run.stderr}`);
  const { before, after, objects } = JSON.parse(run.stdout) as { before: number; after: number; objects: number };
  return { growth: after - before, objects };
}

describe('inventory/file-source peak memory', function () {
  this.timeout(240_000);
  let dir: string;
  const objects = caches(2_000);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'locus-peak-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['yaml', 'json'] as const) {
    it(`a ${format === 'yaml' ? 'multi-document YAML' : 'JSON List'} file of 12–13 MB peaks at a few times its size`, () => {
      const file = join(dir, `caches.${format}`);
      writeFileSync(
        file,
        format === 'yaml'
          ? objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n')
          : JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
      );
      const size = statSync(file).size;
      const { growth, objects: read } = peak(file);
      console.log(`      ${format}: ${(size / 2 ** 20).toFixed(1)} MiB file, peak grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
      expect(read).to.equal(objects.length);
      expect(size).to.be.greaterThan(11 * 2 ** 20);
      expect(growth).to.be.lessThan(10 * size);
    });
  }
});
