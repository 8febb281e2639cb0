// `kubectl locus datasets|nodes|explain` against the in-memory API server: the columns kubectl users
// expect, -o wide|json|yaml, -n / -A / the context's namespace, --kubeconfig / --context, and a
// NodeCache past its TTL counting as holding nothing (as in the extender).
import { expect } from 'chai';
import { pino } from 'pino';
import { parse } from 'yaml';
import { run } from '../../src/cli/kubectl.js';
import { main } from '../../src/cli/main.js';
import { kubectlArgs } from '../../src/plugin/args.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { startExtender, type RunningExtender } from '../../src/extender/server.js';
import { KubeSource } from '../../src/inventory/kube-source.js';
import { createKubeClient } from '../../src/kube/client.js';

const GiB = 1024 ** 3;
/** Set when the objects are written, so their ages read the same whenever in a long run this file starts. */
let now: number;

async function kubectlLocus(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await run(
    args,
    (t) => {
      out += t;
    },
    true,
  );
  return { code, out };
}

describe('kubectl locus (against the fake API server)', () => {
  let api: FakeApiServer;
  let kubeconfig: string;

  before(async () => {
    now = Date.now();
    api = await FakeApiServer.start();
    kubeconfig = api.writeKubeconfig(undefined, { namespace: 'ml' });
    const node = (name: string, zone?: string) =>
      api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} } });
    node('node-a', 'zone-1');
    node('node-b', 'zone-1');
    node('node-c', 'zone-2');
    node('node-d');
    const dataset = (namespace: string, name: string, totalBytes: number, pods: string[]) =>
      api.put({
        apiVersion: 'locus.dev/v1alpha1',
        kind: 'Dataset',
        metadata: { namespace, name },
        spec: { local: { type: 'S3', endpoint: 'http://s3', bucket: name } },
        status: {
          phase: 'Ready',
          catalog: { objectCount: 1, totalBytes, blockSize: 16 << 20, blockCount: 1, version: 'v1', refreshedAt: new Date(now).toISOString() },
          usage: { pods: pods.length, podNames: pods },
        },
      });
    dataset('ml', 'imagenet', 100 * GiB, ['trainer-0', 'trainer-1']);
    dataset('ml', 'coco', 20 * GiB, []);
    dataset('prod', 'logs', 5 * GiB, ['etl-0']);
    const cache = (node: string, ageMs: number, datasets: { namespace: string; name: string; bytes: number }[]) =>
      api.put({
        apiVersion: 'locus.dev/v1alpha1',
        kind: 'NodeCache',
        metadata: { name: node },
        spec: { nodeName: node },
        status: {
          epoch: `e-${node}`,
          seq: 7,
          capacityBytes: 100 * GiB,
          usedBytes: datasets.reduce((s, d) => s + d.bytes, 0),
          updatedAt: new Date(now - ageMs).toISOString(),
          datasetCount: datasets.length,
          datasets,
        },
      });
    cache('node-a', 10 * 60_000, [
      { namespace: 'ml', name: 'imagenet', bytes: 30 * GiB },
      { namespace: 'prod', name: 'logs', bytes: GiB },
    ]);
    cache('node-b', 120_000, [{ namespace: 'ml', name: 'imagenet', bytes: 10 * GiB }]);
    cache('node-c', 60_000, [{ namespace: 'ml', name: 'imagenet', bytes: 5 * GiB }]);
    // past the 15m TTL: its 50Gi must not count
    cache('node-d', 20 * 60_000, [{ namespace: 'ml', name: 'imagenet', bytes: 50 * GiB }]);
  });
  after(async () => {
    await api.close();
  });

  it('rewrites kubectl short flags', () => {
    expect(kubectlArgs(['-n', 'ml', '-owide', '-A', '-nprod', '-o=json', 'pod'])).to.deep.equal([
      '--namespace',
      'ml',
      '--output=wide',
      '--all-namespaces',
      '--namespace=prod',
      '--output=json',
      'pod',
    ]);
  });

  it("datasets: size, cached bytes per zone (live nodes only) and readers, in the context's namespace", async () => {
    const { code, out } = await kubectlLocus(['datasets', '--kubeconfig', kubeconfig]);
    expect(code).to.equal(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0].split(/\s{3,}/)).to.deep.equal(['NAME', 'SIZE', 'CACHED', 'BY ZONE', 'READERS']);
    expect(lines.slice(1).map((l) => l.split(/\s{3,}/))).to.deep.equal([
      ['coco', '20Gi', '0', '<none>', '0'],
      ['imagenet', '100Gi', '45Gi', 'zone-1=40Gi,zone-2=5Gi', '2'],
    ]);
  });

  it('datasets -A adds NAMESPACE; -o wide adds type, phase, nodes and reader pods', async () => {
    const { out } = await kubectlLocus(['datasets', '-A', '-o', 'wide', '--kubeconfig', kubeconfig]);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{3,}/));
    expect(lines[0]).to.deep.equal(['NAMESPACE', 'NAME', 'TYPE', 'PHASE', 'SIZE', 'CACHED', 'BY ZONE', 'NODES', 'READERS', 'READER PODS']);
    expect(lines[2]).to.deep.equal(['ml', 'imagenet', 'S3', 'Ready', '100Gi', '45Gi', 'zone-1=40Gi,zone-2=5Gi', '3', '2', 'trainer-0,trainer-1']);
    expect(lines[3]).to.deep.equal(['prod', 'logs', 'S3', 'Ready', '5Gi', '1Gi', 'zone-1=1Gi', '1', '1', 'etl-0']);
  });

  it('datasets -n <ns> -o json / -o yaml: a List of plain objects', async () => {
    const json = JSON.parse((await kubectlLocus(['datasets', '-n', 'prod', '-o', 'json', '--kubeconfig', kubeconfig])).out) as {
      kind: string;
      items: Record<string, unknown>[];
    };
    expect(json.kind).to.equal('List');
    expect(json.items).to.have.length(1);
    expect(json.items[0]).to.include({ namespace: 'prod', name: 'logs', sizeBytes: 5 * GiB, cachedBytes: GiB, readers: 1 });
    expect(json.items[0].cachedBytesByZone).to.deep.equal({ 'zone-1': GiB });
    const yaml = parse((await kubectlLocus(['datasets', '-nprod', '-oyaml', '--kubeconfig', kubeconfig])).out) as unknown;
    expect(yaml).to.deep.equal(json);
  });

  it('datasets in an empty namespace says so as kubectl does', async () => {
    const { out } = await kubectlLocus(['datasets', '-n', 'empty', '--kubeconfig', kubeconfig]);
    expect(out).to.equal('No resources found in empty namespace.\n');
  });

  it('nodes: per-node cache use, stale and agent-less nodes marked', async () => {
    const { out } = await kubectlLocus(['nodes', '--kubeconfig', kubeconfig, '-o', 'wide']);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{3,}/));
    expect(lines[0]).to.deep.equal(['NAME', 'ZONE', 'CACHE', 'USED', 'CAPACITY', 'USE%', 'DATASETS', 'UPDATED', 'EPOCH', 'SEQ', 'LARGEST']);
    expect(lines[1]).to.deep.equal(['node-a', 'zone-1', 'Live', '31Gi', '100Gi', '31%', '2', '10m', 'e-node-a', '7', 'ml/imagenet=30Gi,prod/logs=1Gi']);
    expect(lines[4].slice(0, 3)).to.deep.equal(['node-d', '<none>', 'Stale']);
    const json = JSON.parse((await kubectlLocus(['nodes', '--kubeconfig', kubeconfig, '-o', 'json'])).out) as {
      items: { name: string; cache: string; usedBytes: number }[];
    };
    expect(json.items.map((n) => [n.name, n.cache])).to.deep.equal([
      ['node-a', 'Live'],
      ['node-b', 'Live'],
      ['node-c', 'Live'],
      ['node-d', 'Stale'],
    ]);
  });

  it('--context picks a context of the kubeconfig; an unknown one is an error naming it', async () => {
    const ok = await kubectlLocus(['nodes', '--kubeconfig', kubeconfig, '--context', api.kubeconfig().getCurrentContext()]);
    expect(ok.out).to.match(/^NAME/);
    let err = '';
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      err += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(['kubectl', 'nodes', '--kubeconfig', kubeconfig, '--context', 'nope'], { asPlugin: true })).to.equal(1);
    } finally {
      process.stderr.write = write;
    }
    expect(err).to.match(/^kubectl locus: .*nope/);
  });

  it('bad -o is a usage error in kubectl locus terms', async () => {
    let err = '';
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      err += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(['kubectl', 'datasets', '-o', 'table'], { asPlugin: true })).to.equal(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err).to.match(/--output must be one of wide, json, yaml, got "table"/);
    expect(err).to.match(/usage: kubectl locus datasets /);
  });

  describe('explain', () => {
    let extender: RunningExtender;
    before(async () => {
      api.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace: 'ml', name: 'trainer-0', labels: { 'dataset.0.id': 'imagenet', 'dataset.0.useas': 'mount' } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
      const kc = api.kubeconfig();
      extender = await startExtender({ host: '127.0.0.1', port: 0, source: new KubeSource(kc, createKubeClient(kc)), logger: pino({ level: 'silent' }) });
      await extender.synced;
    });
    after(async () => {
      await extender.close();
    });

    it("reads the pod with the user's kubeconfig and asks the extender (--server)", async () => {
      const { code, out } = await kubectlLocus(['explain', 'trainer-0', '--kubeconfig', kubeconfig, '--server', extender.url, '-o', 'json']);
      expect(code).to.equal(0);
      const answer = JSON.parse(out) as { pod: string; datasets: string[]; nodes: { node: string; score: number; datasets: { onNode: number }[] }[] };
      expect(answer.pod).to.equal('ml/trainer-0');
      expect(answer.datasets).to.deep.equal(['ml/imagenet']);
      // best node first: node-a holds 30 of imagenet's 100Gi; node-d's 50Gi are past the TTL
      expect(answer.nodes[0].node).to.equal('node-a');
      expect(answer.nodes[0].datasets[0].onNode).to.equal(30 * GiB);
      expect(answer.nodes.find((n) => n.node === 'node-d')!.datasets[0].onNode).to.equal(0);
      const table = await kubectlLocus(['explain', 'ml/trainer-0', '--kubeconfig', kubeconfig, '--server', extender.url]);
      expect(table.out).to.match(/^pod ml\/trainer-0 {2}policy \w+/);
    });

    it('a pod that does not exist is named as kubectl names it', async () => {
      await kubectlLocus(['explain', 'ghost', '-n', 'ml', '--kubeconfig', kubeconfig, '--server', extender.url]).then(
        () => expect.fail('should have thrown'),
        (err: Error) => expect(err.message).to.equal('pods "ghost" not found in namespace "ml"'),
      );
    });
  });
});
