// Debian's Chromium, headless, for tests that look at a rendered page (.ci/run installs it). Every run gets
// a fresh profile and no network side channels, and is bounded in time.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

async function headless(args: string[], window: { width: number; height: number }): Promise<string> {
  if (!CHROMIUM) throw new Error('Chromium not found: apt-get install chromium');
  const profile = mkdtempSync(join(tmpdir(), 'locus-chromium-'));
  try {
    const { stdout } = await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--window-size=${window.width},${window.height}`,
        ...args,
      ],
      { timeout: 60_000, maxBuffer: 64 << 20 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM after its load-time scripts ran. */
export function dumpDom(file: string, window: { width: number; height: number }): Promise<string> {
  return headless(['--dump-dom', pathToFileURL(file).href], window);
}

/** A PNG of the page's first `window.height` pixels at `window.width` wide. */
export async function screenshot(file: string, png: string, window: { width: number; height: number }): Promise<Buffer> {
  await headless([`--screenshot=${png}`, pathToFileURL(file).href], window);
  return readFileSync(png);
}
