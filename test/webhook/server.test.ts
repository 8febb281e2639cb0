import { mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { issueServingCert } from '../../src/certs/issue.js';
import { startWebhook, type RunningWebhook } from '../../src/webhook/server.js';
import type { DatasetLookup } from '../../src/webhook/review.js';
import { eventually } from '../support/eventually.js';
import { captureLog } from './logs.js';
import { applied, dataset, mapLookup } from './pods.js';
import { admit, call, certDir, type CertDir } from './tls.js';

const fixture = (name: string) => JSON.parse(readFileSync(`test/fixtures/admission/${name}`, 'utf8'));
const REVIEW = fixture('pod-create-dataset-labels.json');
const CAPTURED = fixture('pod-create-dataset-labels.response.json');
const decode = (patch: string) => JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as object[];

describe('webhook over HTTPS', () => {
  let certs: CertDir;
  let webhook: RunningWebhook;
  let logs: ReturnType<typeof captureLog>;

  const start = async (lookup: DatasetLookup = mapLookup({ 'datasets-demo/my-dataset': dataset('my-dataset') }), extra: { expiryWarnDays?: number } = {}) => {
    logs = captureLog();
    webhook = await startWebhook({
      host: '127.0.0.1',
      port: 0,
      certFile: certs.certFile,
      keyFile: certs.keyFile,
      reloadIntervalMs: 50,
      expiryWarnDays: extra.expiryWarnDays ?? 7,
      bodyLimit: 1 << 20,
      lookup,
      options: { schedulerName: 'locus-scheduler', allowMissing: false },
      log: logs.log,
    });
  };

  beforeEach(async () => {
    certs = await certDir();
  });
  afterEach(async () => {
    await webhook?.close();
  });

  it('answers the captured AdmissionReview with a patch that does what the captured one did, and more', async () => {
    await start();
    expect(new URL(webhook.url).pathname).to.equal(
      JSON.parse(readFileSync('test/fixtures/http-requests.json', 'utf8'))['admission/pod-create-dataset-labels.json'].path,
    );
    const reply = await admit(webhook.url, certs.ca.cert, REVIEW);
    expect(reply.status).to.equal(200);
    const answer = reply.json() as typeof CAPTURED;
    // Same envelope as the answer the API server accepted: keys, order, uid echoed.
    expect(Object.keys(answer)).to.deep.equal(Object.keys(CAPTURED));
    expect(Object.keys(answer.response)).to.deep.equal(Object.keys(CAPTURED.response));
    expect(answer).to.deep.include({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(answer.response).to.deep.include({ uid: REVIEW.request.uid, allowed: true, patchType: 'JSONPatch' });

    const ours = applied(REVIEW.request.object, decode(answer.response.patch));
    const theirs = applied(REVIEW.request.object, decode(CAPTURED.response.patch));
    expect(ours.metadata.annotations).to.deep.equal({ 'locus.dev/datasets': 'my-dataset' });
    expect(ours.spec.schedulerName).to.equal('locus-scheduler');
    // Apart from the annotation key and the scheduler, the pod is the one the captured patch made.
    expect({ ...ours, metadata: { ...ours.metadata, annotations: undefined }, spec: { ...ours.spec, schedulerName: undefined } }).to.deep.equal({
      ...theirs,
      metadata: { ...theirs.metadata, annotations: undefined },
      spec: { ...theirs.spec, schedulerName: undefined },
    });

    // Reinvocation on the patched pod: allowed, nothing to change.
    const again = (await admit(webhook.url, certs.ca.cert, { ...REVIEW, request: { ...REVIEW.request, object: ours } })).json() as typeof CAPTURED;
    expect(again.response).to.deep.equal({ uid: REVIEW.request.uid, allowed: true });
  });

  it('denies a pod whose Dataset is missing, with the label and the fix in the status', async () => {
    await start(mapLookup({}));
    const answer = (await admit(webhook.url, certs.ca.cert, REVIEW)).json() as { response: Record<string, unknown> };
    expect(answer.response).to.deep.include({ uid: REVIEW.request.uid, allowed: false });
    expect(answer.response).not.to.have.property('patch');
    const status = answer.response.status as { code: number; message: string };
    expect(status.code).to.equal(403);
    expect(status.message).to.match(
      /^dataset.0.id: label "dataset.0.id" names Dataset "my-dataset", which does not exist in namespace "datasets-demo"; create it/,
    );
  });

  it('honours ?timeout=: a hanging lookup is answered before the API server gives up', async () => {
    await start({ find: () => new Promise(() => {}) });
    const t0 = Date.now();
    const answer = (await admit(webhook.url, certs.ca.cert, REVIEW, '1s')).json() as {
      response: { allowed: boolean; status: { code: number; message: string } };
    };
    const took = Date.now() - t0;
    expect(took).to.be.within(400, 1000);
    expect(answer.response.allowed).to.equal(false);
    expect(answer.response.status.code).to.equal(503);
    expect(answer.response.status.message).to.match(/took longer than 500 ms; the pod was not admitted, try again/);
  });

  it('answers bad bodies with 400 naming the field', async () => {
    await start();
    const reply = await admit(webhook.url, certs.ca.cert, { ...REVIEW, apiVersion: 'admission.k8s.io/v1beta1' });
    expect(reply.status).to.equal(400);
    expect((reply.json() as { error: string }).error).to.match(/^apiVersion: apiVersion must be "admission.k8s.io\/v1"; set admissionReviewVersions: \["v1"\]/);
    const truncated = await call(`${webhook.url}?timeout=10s`, certs.ca.cert, {
      method: 'POST',
      body: '{"kind":',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(truncated.status).to.equal(400);
    expect(truncated.body).to.match(/not valid JSON/);
  });

  it('speaks HTTPS only', async () => {
    await start();
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest(`http://127.0.0.1:${webhook.port}/healthz`, { agent: false }, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (err) => resolve(`refused: ${err.message}`));
      req.end();
    });
    // Node's TLS server answers a plaintext request with a bare 400 and closes; nothing is served.
    expect(outcome).to.match(/^(refused|answered 400)/);
    expect((await call(webhook.url.replace('/mutate-pods', '/healthz'), certs.ca.cert)).body).to.equal('ok');
  });

  it('serves a replaced certificate without a restart, and rejects a half-written pair', async () => {
    await start();
    const healthz = webhook.url.replace('/mutate-pods', '/healthz');
    const first = await call(healthz, certs.ca.cert);
    const served = new X509Certificate(readFileSync(certs.certFile));
    expect(first.peer.serialNumber).to.equal(served.serialNumber);

    const next = await certs.rotate(90);
    const nextSerial = new X509Certificate(next.cert).serialNumber;
    await eventually(async () => expect((await call(healthz, certs.ca.cert)).peer.serialNumber).to.equal(nextSerial), { timeoutMs: 3000 });
    expect(await webhook.metrics.registry.getSingleMetricAsString('locus_webhook_certificate_reloads_total')).to.match(/outcome="ok"} 1/);
    const gauge = (await webhook.metrics.registry.getSingleMetric('locus_webhook_certificate_expiry_seconds')!.get()).values[0].value;
    expect(gauge / 86_400).to.be.closeTo(90, 0.1);

    // A key without its certificate (a rotation caught halfway): the served certificate stays.
    const other = await certDir();
    await writeFile(certs.keyFile, readFileSync(other.keyFile));
    await eventually(
      async () => expect(await webhook.metrics.registry.getSingleMetricAsString('locus_webhook_certificate_reloads_total')).to.match(/outcome="error"}/),
      { timeoutMs: 3000 },
    );
    expect((await call(healthz, certs.ca.cert)).peer.serialNumber).to.equal(nextSerial);
    expect(logs.lines().some((l) => String(l.msg).includes('do not form a valid pair'))).to.equal(true);
  });

  it("follows a mounted Secret's update, which swaps a symlink rather than writing the files", async () => {
    // The kubelet's layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/, replaced by renaming a new ..data link.
    const dir = mkdtempSync(join(tmpdir(), 'locus-secret-'));
    const version = async (name: string, pem: { cert: string; key: string }) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'tls.crt'), pem.cert);
      writeFileSync(join(dir, name, 'tls.key'), pem.key);
      symlinkSync(name, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    await version('..v1', { cert: readFileSync(certs.certFile, 'utf8'), key: readFileSync(certs.keyFile, 'utf8') });
    symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(dir, 'tls.key'));
    certs = { ...certs, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
    await start();
    const healthz = webhook.url.replace('/mutate-pods', '/healthz');
    const next = await issueServingCert(certs.ca, { dns: ['localhost'], ips: ['127.0.0.1'], days: 5 });
    await version('..v2', next);
    const serial = new X509Certificate(next.cert).serialNumber;
    await eventually(async () => expect((await call(healthz, certs.ca.cert)).peer.serialNumber).to.equal(serial), { timeoutMs: 3000 });
  });

  it('warns when the certificate expires within the warning window, and exports the time left', async () => {
    await certs.rotate(3);
    await start(undefined, { expiryWarnDays: 10 });
    const warning = logs.lines().find((l) => l.level === 40 && String(l.msg).includes('expires soon'));
    expect(warning).to.deep.include({ daysLeft: 2 });
    const metrics = await call(webhook.url.replace('/mutate-pods', '/metrics'), certs.ca.cert);
    const seconds = Number(/locus_webhook_certificate_expiry_seconds (\d+)/.exec(metrics.body)?.[1]);
    expect(seconds / 86_400).to.be.closeTo(3, 0.01);
    expect(metrics.body).to.contain('locus_webhook_admissions_total');
  });

  it('does not warn about a certificate far from expiry', async () => {
    await start(undefined, { expiryWarnDays: 10 });
    expect(logs.lines().filter((l) => String(l.msg).includes('expire'))).to.deep.equal([]);
  });
});
