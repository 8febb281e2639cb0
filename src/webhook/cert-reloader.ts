// Keeps the HTTPS server on the certificate currently on disk. Files are polled rather than
// watched: a mounted Secret is updated by swapping a symlink, which inode watches miss, and
// polling the paths' contents sees every kind of replacement.
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { notAfter } from '../certs/expiry.js';

export interface CertReloaderOptions {
  certFile: string;
  keyFile: string;
  /** How often to look at the files. */
  intervalMs: number;
  /** Warn when the certificate expires within this many days. */
  warnDays: number;
  log: Logger;
  onReload?: (outcome: 'ok' | 'error') => void;
  now?: () => Date;
}

const DAY_MS = 86_400_000;
/** Repeat the expiry warning at most this often, so it shows up in any recent log window. */
const WARN_EVERY_MS = 3_600_000;

export class CertReloader {
  private current = '';
  private expires?: Date;
  private lastWarned = 0;
  private timer?: NodeJS.Timeout;
  private readonly now: () => Date;

  private constructor(
    private readonly opts: CertReloaderOptions,
    readonly pem: { cert: string; key: string },
  ) {
    this.now = opts.now ?? (() => new Date());
    this.current = pem.cert + pem.key;
    this.expires = notAfter(pem.cert);
  }

  /** Reads the pair once; throws with the file names when it is unreadable or mismatched. */
  static async load(opts: CertReloaderOptions): Promise<CertReloader> {
    const pem = await readPair(opts.certFile, opts.keyFile);
    try {
      createSecureContext(pem);
    } catch (err) {
      throw new Error(`${opts.certFile} and ${opts.keyFile} are not a certificate and its key: ${(err as Error).message}`, { cause: err });
    }
    const reloader = new CertReloader(opts, pem);
    reloader.warnIfExpiring();
    return reloader;
  }

  /** The serving certificate's notAfter. */
  get notAfter(): Date | undefined {
    return this.expires;
  }

  /** Starts polling; a changed, valid pair becomes the server's context for new connections. */
  watch(server: Server): void {
    this.timer = setInterval(() => void this.check(server), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One poll: reload when the files changed. Exposed so a SIGHUP can force it. */
  async check(server: Server): Promise<void> {
    const { certFile, keyFile, log } = this.opts;
    let pem: { cert: string; key: string };
    try {
      pem = await readPair(certFile, keyFile);
    } catch (err) {
      log.warn({ err, certFile, keyFile }, 'cannot read the serving certificate; keeping the current one');
      this.opts.onReload?.('error');
      return;
    }
    if (pem.cert + pem.key !== this.current) {
      try {
        server.setSecureContext(pem);
        this.current = pem.cert + pem.key;
        this.expires = notAfter(pem.cert);
        this.lastWarned = 0;
        log.info({ certFile, notAfter: this.expires.toISOString() }, 'serving certificate reloaded');
        this.opts.onReload?.('ok');
      } catch (err) {
        // Usually a rotation caught between writing the key and the certificate: retried next poll.
        log.warn({ err, certFile, keyFile }, 'new certificate files do not form a valid pair; keeping the current one');
        this.opts.onReload?.('error');
      }
    }
    this.warnIfExpiring();
  }

  private warnIfExpiring(): void {
    if (!this.expires) return;
    const now = this.now().getTime();
    const left = this.expires.getTime() - now;
    if (left > this.opts.warnDays * DAY_MS || now - this.lastWarned < WARN_EVERY_MS) return;
    this.lastWarned = now;
    this.opts.log.warn(
      { certFile: this.opts.certFile, notAfter: this.expires.toISOString(), daysLeft: Math.floor(left / DAY_MS) },
      left > 0
        ? 'serving certificate expires soon; renew it (locus certs) before the API server rejects the webhook'
        : 'serving certificate has expired; the API server cannot call the webhook until it is renewed (locus certs)',
    );
  }
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { cert, key };
}
