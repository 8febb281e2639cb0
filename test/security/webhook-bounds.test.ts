// Probe 3 (issue 14): one AdmissionReview naming 3,000 Datasets made 2,972 parallel Dataset GETs, and
// other pods' reviews waited past the API server's 10 s timeout. The webhook now denies a pod past
// --max-datasets-per-pod before any lookup, and bounds the GETs in flight for all reviews together.
import { expect } from 'chai';
import type { KubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/object.js';
import { kubeDatasetLookup, MAX_PARALLEL_GETS } from '../../src/webhook/kube-lookup.js';
import { MAX_DATASETS_PER_POD } from '../../src/webhook/review.js';
import { startWebhook, type RunningWebhook } from '../../src/webhook/server.js';
import { captureLog } from '../webhook/logs.js';
import { datasetLabels, pod, podReview } from '../webhook/pods.js';
import { admit, certDir, type CertDir } from '../webhook/tls.js';

/** An API server whose Dataset GETs each take `ms`, counting how many are in flight at once. */
function slowApi(ms: number) {
  const stats = { calls: 0, inFlight: 0, peak: 0 };
  const get = (async (_res: unknown, ref: { namespace?: string; name: string }): Promise<KubeObject | undefined> => {
    stats.calls++;
    stats.inFlight++;
    stats.peak = Math.max(stats.peak, stats.inFlight);
    await new Promise((r) => setTimeout(r, ms));
    stats.inFlight--;
    return {
      apiVersion: 'locus.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: ref.name, namespace: ref.namespace },
      spec: { local: { type: 'S3', endpoint: 'http://minio:9000', bucket: 'b' } },
    };
  }) as unknown as KubeClient['get'];
  return { stats, kube: { get } };
}

type ReviewAnswer = { response: { allowed: boolean; status?: { code: number; reason: string; message: string } } };

describe('security probe 3: the webhook bounds the Datasets a pod names and its lookups', () => {
  let certs: CertDir;
  let webhook: RunningWebhook | undefined;
  afterEach(async () => {
    await webhook?.close();
    webhook = undefined;
  });

  const start = async (kube: Pick<KubeClient, 'get'>) => {
    certs = await certDir();
    webhook = await startWebhook({
      host: '127.0.0.1',
      port: 0,
      certFile: certs.certFile,
      keyFile: certs.keyFile,
      reloadIntervalMs: 60_000,
      expiryWarnDays: 7,
      bodyLimit: 4 << 20,
      lookup: kubeDatasetLookup(kube),
      options: { schedulerName: 'locus-scheduler', allowMissing: false },
      log: captureLog().log,
    });
    return webhook;
  };

  it('denies a pod with 3,000 dataset labels without a single GET, naming the limit', async () => {
    const api = slowApi(5);
    const w = await start(api.kube);
    const answer = await admit(w.url, certs.ca.cert, podReview(pod(datasetLabels(3000)), 'big'));
    const { response } = answer.json() as ReviewAnswer;
    expect(response.allowed).to.equal(false);
    expect(response.status).to.deep.include({ code: 403, reason: 'Forbidden' });
    expect(response.status?.message).to.match(
      new RegExp(`names 3000 Datasets by label and 0 other PVCs, more than the ${MAX_DATASETS_PER_POD} .*--max-datasets-per-pod`),
    );
    expect(api.stats.calls).to.equal(0);
  });

  it('keeps the GETs of many concurrent reviews within the process-wide bound, and an ordinary review answers in time', async function () {
    this.timeout(20_000);
    const api = slowApi(20);
    const w = await start(api.kube);
    // Twenty reviews at the cap, all at once: 1,280 lookups.
    const heavy = Array.from({ length: 20 }, (_, i) =>
      admit(w.url, certs.ca.cert, podReview(pod(datasetLabels(MAX_DATASETS_PER_POD, i * 1000)), `heavy-${i}`), '10s'),
    );
    const t0 = Date.now();
    const ordinary = await admit(w.url, certs.ca.cert, podReview(pod(datasetLabels(1, 99_999)), 'ordinary'), '10s');
    const ordinaryMs = Date.now() - t0;
    const answers = await Promise.all(heavy);
    expect((ordinary.json() as ReviewAnswer).response.allowed).to.equal(true);
    expect(answers.every((a) => (a.json() as ReviewAnswer).response.allowed)).to.equal(true);
    expect(api.stats.peak).to.be.at.most(MAX_PARALLEL_GETS);
    expect(api.stats.calls).to.equal(20 * MAX_DATASETS_PER_POD + 1);
    // 1,280 GETs of 20 ms through 16 slots take ~1.6 s: the ordinary review waits its turn, well inside 10 s.
    expect(ordinaryMs).to.be.below(8_000);
  });
});
