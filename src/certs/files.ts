// Certificate files on disk, named as in a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`)
// so the same directory layout works locally and as a mounted Secret.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pem } from './issue.js';

export const FILES = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;

/** Writes through a temporary file and a rename, so a watcher never reads half a certificate. */
export async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** The CA kept in `dir` from an earlier run, if both its files are there. */
export async function readCa(dir: string): Promise<Pem | undefined> {
  const cert = join(dir, FILES.caCert);
  const key = join(dir, FILES.caKey);
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
}

export async function writeCertFiles(dir: string, ca: Pem, serving: Pem): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, FILES.caCert), ca.cert, 0o644);
  await writeAtomic(join(dir, FILES.caKey), ca.key, 0o600);
  // Key before certificate: a reload triggered between the two renames sees a mismatched pair,
  // which the reloader rejects and retries, rather than a new certificate with the old key.
  await writeAtomic(join(dir, FILES.key), serving.key, 0o600);
  await writeAtomic(join(dir, FILES.cert), serving.cert, 0o644);
}
