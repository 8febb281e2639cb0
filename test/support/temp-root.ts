// Loaded by mocha before any test (.mocharc.json and test/e2e/.mocharc.json, "require"). Tests make
// temporary directories (certificates, kubeconfigs, caches) with os.tmpdir(), and a failing or killed
// test cannot remove its own: so every run gets one directory under the system's temporary directory,
// handed to the tests and to every process they start as TMPDIR, and removed when the run ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'locus-test-run-'));
process.env.TMPDIR = root;

export const mochaHooks = {
  afterAll(): void {
    rmSync(root, { recursive: true, force: true });
  },
};
