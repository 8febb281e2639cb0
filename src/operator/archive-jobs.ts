// The operator's archive stagings, run in its own process a few at a time: each reconcile asks how
// the staging of its Dataset's current spec stands (starting it when none is under way) and is
// called again when that changes. A spec change abandons the staging of the old one.
import type { S3Credentials } from '../catalog/s3.js';
import { ArchiveError, stageArchive } from './archive.js';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './config.js';
import type { ArchiveObservation, ArchivePlan } from './archive-plan.js';

export interface StagerOptions {
  limits?: ArchiveLimits;
  /** Stagings at once; more wait their turn. */
  concurrency?: number;
  /** After a failure that may pass (the server or the store was unreachable), try again after this long. */
  retryMs?: number;
  /** How often progress alone calls `onChange`. */
  progressEveryMs?: number;
  /** Called with the key whose staging changed state or made progress. */
  onChange: (key: string) => void;
  stage?: typeof stageArchive;
  now?: () => Date;
}

interface Job {
  plan: ArchivePlan;
  credentials: S3Credentials;
  seen: ArchiveObservation;
  abort?: AbortController;
}

/** Failures the same spec would meet again: only a spec change starts over. */
const LASTING = new Set(['TooLarge', 'TooManyFiles', 'TooManyRedirects', 'NotATar', 'UnsupportedURL', 'ForbiddenAddress']);

export class ArchiveStager {
  private readonly jobs = new Map<string, Job>();
  private running = 0;
  private readonly now: () => Date;

  constructor(private readonly opts: StagerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** How staging `plan` for `key` stands; starts it (or queues it) when it is not under way. */
  observe(key: string, plan: ArchivePlan, credentials: S3Credentials): ArchiveObservation {
    const job = this.jobs.get(key);
    if (job && job.plan.id === plan.id) {
      const { seen } = job;
      const retry = seen.state === 'failed' && seen.retryAt !== undefined && Date.parse(seen.retryAt) <= this.now().getTime();
      if (!retry) return seen;
    }
    if (job) this.cancel(key);
    const fresh: Job = { plan, credentials, seen: { state: 'queued', id: plan.id } };
    this.jobs.set(key, fresh);
    this.pump();
    return fresh.seen;
  }

  /** Forgets `key`, stopping its staging (the Dataset was deleted or its spec changed). */
  cancel(key: string): void {
    const job = this.jobs.get(key);
    if (!job) return;
    this.jobs.delete(key);
    job.abort?.abort();
  }

  stop(): void {
    for (const key of [...this.jobs.keys()]) this.cancel(key);
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 2;
    for (const [key, job] of this.jobs) {
      if (this.running >= limit) return;
      if (job.seen.state === 'queued' && !job.abort) this.run(key, job);
    }
  }

  private run(key: string, job: Job): void {
    const { plan } = job;
    const abort = new AbortController();
    job.abort = abort;
    this.running++;
    let told = 0;
    const current = () => this.jobs.get(key) === job;
    const change = (seen: ArchiveObservation, force: boolean) => {
      if (!current()) return;
      job.seen = seen;
      const t = this.now().getTime();
      if (force || t - told >= (this.opts.progressEveryMs ?? 5000)) {
        told = t;
        this.opts.onChange(key);
      }
    };
    change({ state: 'running', id: plan.id, phase: 'downloading', bytes: 0, objects: 0 }, true);
    const stage = this.opts.stage ?? stageArchive;
    stage(
      { url: plan.url, extract: plan.extract, target: plan.target, credentials: job.credentials },
      this.opts.limits ?? DEFAULT_ARCHIVE_LIMITS,
      (p) => change({ state: 'running', id: plan.id, ...p }, false),
      abort.signal,
    )
      .then((r) =>
        change(
          {
            state: 'done',
            id: plan.id,
            ...r,
            at: this.now()
              .toISOString()
              .replace(/\.\d+Z$/, 'Z'),
          },
          true,
        ),
      )
      .catch((err: unknown) => {
        if (abort.signal.aborted) return;
        const reason = err instanceof ArchiveError ? err.reason : 'Failed';
        const lasting = LASTING.has(reason);
        const retryAt = lasting ? undefined : new Date(this.now().getTime() + (this.opts.retryMs ?? 60_000)).toISOString().replace(/\.\d+Z$/, 'Z');
        if (!lasting) setTimeout(() => current() && this.opts.onChange(key), this.opts.retryMs ?? 60_000).unref();
        change({ state: 'failed', id: plan.id, reason, message: (err as Error).message, retryAt }, true);
      })
      .finally(() => {
        this.running--;
        this.pump();
      });
  }
}
