// One node on real parts, for the prefetch and warm-ahead tests: s3rver holding a Dataset's objects, the
// in-memory API server holding the node and Dataset ml/train with the catalog the operator would write,
// and an agent of the node in this process that watches the node's pods and the Datasets.
import type { Agent } from '../../src/agent/agent.js';
import { ClusterDatasets } from '../../src/agent/dataset-sources.js';
import type { PrefetchSettings } from '../../src/agent/prefetcher.js';
import { summarise } from '../../src/catalog/listing.js';
import { listObjects } from '../../src/catalog/s3.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { agentFor, MiB, silent, tempDir } from './harness.js';
import { S3RVER_KEYS, startRemote, type Remote } from './remote.js';

export const NODE = 'node-a';
export const BUCKET = 'data';

export interface NodeSetup {
  /** Each ranged GET of the remote takes this long, one at a time. */
  slowReadsMs?: number;
  capacityBytes?: number;
  pinShare?: number;
  prefetch?: Partial<PrefetchSettings>;
}

export interface NodeWorld {
  remote: Remote;
  api: FakeApiServer;
  kube: KubeClient;
  /** The agent's cache directory. */
  dir: string;
  catalog: ReturnType<typeof summarise>;
}

/** s3rver with `objects` (key → bytes) under ds/, and the API server with NODE and Dataset ml/train over them. */
export async function nodeWorld(objects: ReadonlyArray<[string, Buffer]>, s: NodeSetup = {}): Promise<NodeWorld> {
  const remote = await startRemote([BUCKET], s.slowReadsMs ? { slowReads: { delayMs: s.slowReadsMs } } : {});
  for (const [key, body] of objects) await remote.direct.put(BUCKET, key, body);
  const listing = await listObjects({ endpoint: remote.direct.endpoint, bucket: BUCKET, prefix: 'ds/' }, S3RVER_KEYS);
  const catalog = summarise(listing, MiB, 'ds/');
  const api = await FakeApiServer.start();
  api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, uid: 'uid-a' } });
  api.put({
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { namespace: 'ml', name: 'train' },
    spec: { local: { type: 'S3', endpoint: remote.endpoint, bucket: BUCKET, prefix: 'ds/' } },
    status: { catalog: { ...catalog, refreshedAt: new Date().toISOString() } },
  });
  return { remote, api, kube: createKubeClient(api.kubeconfig()), dir: await tempDir(), catalog };
}

/** The agent of NODE (1 MiB blocks, budgets of 64 MiB, two fetches ahead unless `s` says otherwise) and its watch of the Datasets. */
export async function nodeAgent(w: NodeWorld, s: NodeSetup = {}): Promise<{ agent: Agent; datasets: ClusterDatasets }> {
  const agent = await agentFor(w.remote, w.dir, {
    capacityBytes: s.capacityBytes ?? 64 * MiB,
    blockSize: MiB,
    publish: { client: w.kube, node: NODE, interval: () => 50 },
    boundPods: { kc: w.api.kubeconfig(), client: w.kube, node: NODE },
    pinShare: s.pinShare ?? 0.5,
    prefetch: { podBudgetBytes: 64 * MiB, nodeBudgetBytes: 64 * MiB, concurrency: 2, ...s.prefetch },
  });
  const datasets = new ClusterDatasets(w.api.kubeconfig(), w.kube, [w.remote.endpoint], (sources) => agent.setDatasets(sources), silent);
  await datasets.start();
  return { agent, datasets };
}
