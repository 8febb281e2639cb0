import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Dataset } from '../../src/api/dataset.js';
import { foundDataset } from '../../src/webhook/kube-lookup.js';
import { AWS_ENV_ANNOTATION, mutatePod, NODE_IP_ENV, type MutateOptions } from '../../src/webhook/mutate.js';
import type { Pod } from '../../src/webhook/pod.js';
import { applied } from './pods.js';

// Transparent caching in the webhook: a Dataset the operator decided is read through the agents
// (status.resolved.agent) counts as read through them, and with --agent-host-port a `configmap` use
// points the pod at the agent of its own node by its hostPort; the pod's manifest names neither.
const AGENT = 'http://locus-agent.locus-system.svc:9300';
const STORE = 'http://minio.storage:9000';
const opts: MutateOptions = { schedulerName: 'locus-scheduler', allowMissing: false, agentUrl: AGENT };
const hostPort: MutateOptions = { ...opts, agentHostPort: 9300 };

/** The pod of the captured AdmissionReview (namespace datasets-demo), using `names` as configmap. */
function capturedPod(names: string[], annotations: Record<string, string> = {}): { pod: Pod; namespace: string } {
  const review = JSON.parse(readFileSync('test/fixtures/admission/pod-create-dataset-labels.json', 'utf8'));
  const pod = review.request.object as Pod;
  const labels = Object.fromEntries(
    names.flatMap((n, i) => [
      [`dataset.${i}.id`, n],
      [`dataset.${i}.useas`, 'configmap'],
    ]),
  );
  return { pod: { ...pod, metadata: { ...pod.metadata, labels: { app: 'dataset-consumer', ...labels }, annotations } }, namespace: review.request.namespace };
}

/** A Dataset at the store, as the API server has it; `agent`: the operator reads it through the agents. */
function storeDataset(name: string, agent?: string): Dataset {
  return {
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name, namespace: 'datasets-demo' },
    spec: { local: { type: 'S3', endpoint: STORE, bucket: 'books', 'secret-name': 'keys' }, cache: { readThrough: true } },
    status: { resolved: { bucket: 'books', endpoint: STORE, ...(agent ? { agent } : {}) } },
  };
}

const byName = (...ds: Dataset[]) => new Map(ds.map((d) => [d.metadata.name, foundDataset(d)]));
type Env = { name: string; value?: string; valueFrom?: Record<string, unknown> };
const env = (p: Pod, i = 0) => ((p.spec?.containers?.[i] as { env?: Env[] }).env ?? []) as Env[];
const NODE_IP: Env = { name: NODE_IP_ENV, valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } };
const fromConfigMap = (ds: string, key: string) => ({ configMapKeyRef: { name: ds, key, optional: true } });

describe('webhook: transparent caching (status.resolved.agent, --agent-host-port)', () => {
  it("a Dataset the operator reads through the agents has the agents' address as its endpoint; otherwise the store's", () => {
    expect(foundDataset(storeDataset('books', AGENT)).endpoint).to.equal(AGENT);
    expect(foundDataset(storeDataset('books')).endpoint).to.equal(STORE);
  });

  it("points a configmap use at the agent of the pod's node: the node address first, then the endpoint that expands it", () => {
    const { pod, namespace } = capturedPod(['books']);
    const m = mutatePod(pod, namespace, byName(storeDataset('books', AGENT)), hostPort);
    expect(m.denial).to.equal(undefined);
    const out = applied(pod, m.patch);
    const vars = env(out);
    expect(vars[0]).to.deep.equal(NODE_IP);
    expect(vars.find((e) => e.name === 'books_endpoint')).to.deep.equal({ name: 'books_endpoint', value: `http://$(${NODE_IP_ENV}):9300` });
    // The rest still comes from the ConfigMap and the Secret the operator writes.
    expect(vars.find((e) => e.name === 'books_bucket')?.valueFrom).to.deep.equal(fromConfigMap('books', 'bucket'));
    expect(vars.find((e) => e.name === 'books_accessKeyID')?.valueFrom).to.deep.equal({ secretKeyRef: { name: 'books-credentials', key: 'accessKeyID' } });
    expect(m.changes[0].actions.join('; ')).to.include(`endpoint http://$(${NODE_IP_ENV}):9300 (the agent of the pod's node)`);
    expect(mutatePod(out, namespace, byName(storeDataset('books', AGENT)), hostPort).patch, 'reinvocation').to.deep.equal([]);
  });

  it("locus.dev/aws-env: AWS_ENDPOINT_URL_S3 is the node's agent too", () => {
    const { pod, namespace } = capturedPod(['books'], { [AWS_ENV_ANNOTATION]: 'true' });
    const out = applied(pod, mutatePod(pod, namespace, byName(storeDataset('books', AGENT)), hostPort).patch);
    expect(env(out).find((e) => e.name === 'AWS_ENDPOINT_URL_S3')).to.deep.equal({ name: 'AWS_ENDPOINT_URL_S3', value: `http://$(${NODE_IP_ENV}):9300` });
    expect(env(out).findIndex((e) => e.name === NODE_IP_ENV)).to.be.lessThan(env(out).findIndex((e) => e.name === 'AWS_ENDPOINT_URL_S3'));
    expect(mutatePod(out, namespace, byName(storeDataset('books', AGENT)), hostPort).patch).to.deep.equal([]);
  });

  it('aws-env works for a transparent Dataset without the flag: the Service address', () => {
    const { pod, namespace } = capturedPod(['books'], { [AWS_ENV_ANNOTATION]: 'true' });
    const m = mutatePod(pod, namespace, byName(storeDataset('books', AGENT)), opts);
    expect(m.warnings).to.deep.equal([]);
    expect(env(applied(pod, m.patch)).find((e) => e.name === 'AWS_ENDPOINT_URL_S3')?.value).to.equal(AGENT);
  });

  it('without the flag the endpoint stays the ConfigMap’s (the agents’ Service), and no node address is added', () => {
    const { pod, namespace } = capturedPod(['books']);
    const out = applied(pod, mutatePod(pod, namespace, byName(storeDataset('books', AGENT)), opts).patch);
    expect(env(out).find((e) => e.name === 'books_endpoint')?.valueFrom).to.deep.equal(fromConfigMap('books', 'endpoint'));
    expect(env(out).map((e) => e.name)).to.not.include(NODE_IP_ENV);
  });

  it('a Dataset read directly is left as it was, flag or not', () => {
    const { pod, namespace } = capturedPod(['books']);
    const out = applied(pod, mutatePod(pod, namespace, byName(storeDataset('books')), hostPort).patch);
    expect(env(out).find((e) => e.name === 'books_endpoint')?.valueFrom).to.deep.equal(fromConfigMap('books', 'endpoint'));
    expect(env(out).map((e) => e.name)).to.not.include(NODE_IP_ENV);
  });

  it('two Datasets through the agents, one read directly: the node address once, before both endpoints', () => {
    const { pod, namespace } = capturedPod(['books', 'direct', 'papers']);
    const datasets = byName(storeDataset('books', AGENT), storeDataset('direct'), storeDataset('papers', AGENT));
    const out = applied(pod, mutatePod(pod, namespace, datasets, hostPort).patch);
    const names = env(out).map((e) => e.name);
    expect(names.filter((n) => n === NODE_IP_ENV)).to.have.length(1);
    expect(names.indexOf(NODE_IP_ENV)).to.equal(0);
    expect(env(out).find((e) => e.name === 'papers_endpoint')?.value).to.equal(`http://$(${NODE_IP_ENV}):9300`);
    expect(env(out).find((e) => e.name === 'direct_endpoint')?.valueFrom).to.deep.equal(fromConfigMap('direct', 'endpoint'));
    expect(mutatePod(out, namespace, datasets, hostPort).patch).to.deep.equal([]);
  });

  it('a mounted Dataset gets no env (the volume reads through the agents)', () => {
    const { pod, namespace } = capturedPod([]);
    const p = { ...pod, metadata: { ...pod.metadata, labels: { 'dataset.0.id': 'books', 'dataset.0.useas': 'mount' } } };
    const out = applied(p, mutatePod(p, namespace, byName(storeDataset('books', AGENT)), hostPort).patch);
    expect(env(out)).to.deep.equal([]);
  });
});
