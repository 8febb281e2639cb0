import { expect } from 'chai';
import { ArchiveError, type stageArchive } from '../../src/operator/archive.js';
import { ArchiveStager } from '../../src/operator/archive-jobs.js';
import type { ArchivePlan } from '../../src/operator/archive-plan.js';
import { eventually } from '../support/eventually.js';

const plan = (url: string): ArchivePlan => ({
  url,
  extract: true,
  keys: 'staging',
  id: url,
  target: { endpoint: 'http://s3', region: '', bucket: 'b', prefix: 'ml/x/' },
});
const keys = { accessKeyID: 'a', secretAccessKey: 's' };

/** A stage function whose runs the test finishes by hand. */
function manual() {
  const runs: Array<{ url: string; signal?: AbortSignal; resolve: () => void; reject: (e: Error) => void; progress: Parameters<typeof stageArchive>[2] }> = [];
  const stage: typeof stageArchive = (job, _limits, progress, signal) =>
    new Promise((resolve, reject) => {
      runs.push({ url: job.url, signal, resolve: () => resolve({ objects: 2, bytes: 10, detected: 'tar+gzip' }), reject, progress });
    });
  return { runs, stage };
}

describe('ArchiveStager', () => {
  it('runs a staging per Dataset, reports progress and the result, and calls back on each change', async () => {
    const { runs, stage } = manual();
    const changed: string[] = [];
    const s = new ArchiveStager({ stage, onChange: (k) => changed.push(k), progressEveryMs: 0, now: () => new Date('2026-12-04T10:00:00Z') });
    expect(s.observe('ml/x', plan('http://h/a.tgz'), keys)).to.deep.include({ state: 'running', phase: 'downloading' });
    expect(runs).to.have.length(1);
    runs[0].progress!({ phase: 'downloading', bytes: 5, totalBytes: 10, objects: 0 });
    expect(s.observe('ml/x', plan('http://h/a.tgz'), keys)).to.deep.include({ state: 'running', bytes: 5, totalBytes: 10 });
    runs[0].resolve();
    await eventually(() =>
      expect(s.observe('ml/x', plan('http://h/a.tgz'), keys)).to.deep.equal({
        state: 'done',
        id: 'http://h/a.tgz',
        objects: 2,
        bytes: 10,
        detected: 'tar+gzip',
        at: '2026-12-04T10:00:00Z',
      }),
    );
    expect(runs, 'a finished staging is not started again').to.have.length(1);
    expect(changed.every((k) => k === 'ml/x')).to.equal(true);
    expect(changed.length).to.be.greaterThan(2);
  });

  it('queues beyond its concurrency, and abandons the staging of a spec that changed', async () => {
    const { runs, stage } = manual();
    const s = new ArchiveStager({ stage, onChange: () => {}, concurrency: 1 });
    s.observe('ml/a', plan('http://h/a.tgz'), keys);
    expect(s.observe('ml/b', plan('http://h/b.tgz'), keys).state).to.equal('queued');
    expect(runs.map((r) => r.url)).to.deep.equal(['http://h/a.tgz']);
    s.observe('ml/a', plan('http://h/a2.tgz'), keys);
    expect(runs[0].signal?.aborted).to.equal(true);
    runs[0].reject(new Error('aborted'));
    await eventually(() => expect(runs.map((r) => r.url)).to.deep.equal(['http://h/a.tgz', 'http://h/b.tgz']));
    s.stop();
  });

  it('a lasting failure waits for a spec change; a passing one is tried again after retryMs', async () => {
    const { runs, stage } = manual();
    let t = Date.parse('2026-12-04T10:00:00Z');
    const s = new ArchiveStager({ stage, onChange: () => {}, retryMs: 60_000, now: () => new Date(t) });
    s.observe('ml/big', plan('http://h/big.tgz'), keys);
    runs[0].reject(new ArchiveError('too big', 'TooLarge'));
    await eventually(() =>
      expect(s.observe('ml/big', plan('http://h/big.tgz'), keys)).to.deep.include({ state: 'failed', reason: 'TooLarge', retryAt: undefined }),
    );
    s.observe('ml/net', plan('http://h/net.tgz'), keys);
    runs[1].reject(new ArchiveError('unreachable', 'DownloadFailed'));
    await eventually(() => expect(s.observe('ml/net', plan('http://h/net.tgz'), keys)).to.deep.include({ state: 'failed', retryAt: '2026-12-04T10:01:00Z' }));
    t += 61_000;
    expect(s.observe('ml/net', plan('http://h/net.tgz'), keys).state).to.equal('running');
    expect(s.observe('ml/big', plan('http://h/big.tgz'), keys).state).to.equal('failed');
    expect(runs).to.have.length(3);
    s.stop();
  });
});
