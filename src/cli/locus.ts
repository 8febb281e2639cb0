#!/usr/bin/env node
// The `locus` binary: runs main and turns its result into the exit code. Installed under the name
// kubectl-locus (package.json bin, the image), it is the kubectl plugin: `kubectl locus <command>`.
import { basename } from 'node:path';
import { main } from './main.js';

const asPlugin = basename(process.argv[1] ?? '').replace(/\.[cm]?[jt]s$/, '') === 'kubectl-locus';

main(asPlugin ? ['kubectl', ...process.argv.slice(2)] : process.argv.slice(2), { asPlugin }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`locus: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
