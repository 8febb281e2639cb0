// Probe 5 (claims): Datasets in any namespace may name any bucket/prefix, and the agent gave an
// object to the Dataset with the longest matching prefix, so a tenant creating `shared/train/x/`
// took over how another tenant's reads of `shared/train/` were reported in the NodeCache (and so
// scheduled). Now a signed read counts for the Dataset its credentials belong to, and an unsigned one
// for the namespace that claimed the bytes first: a later claim elsewhere changes nothing.
import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import type { Agent } from '../../src/agent/agent.js';
import { datasetSource } from '../../src/agent/dataset-sources.js';
import type { DatasetSource } from '../../src/agent/catalogs.js';
import { agentFor, bytes, clientFor, getBytes, MiB, tempDir } from '../agent/harness.js';
import { startRemote, type Remote } from '../agent/remote.js';
import { AGENT_KEY, credsFor, s3ClientAs } from './agent-support.js';

const UPSTREAM = 'http://minio.storage:9000';
const BODY = bytes(MiB, 4);

function dataset(namespace: string, name: string, prefix: string, created: string): DatasetSource {
  const obj = {
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { namespace, name, creationTimestamp: created },
    spec: { local: { type: 'S3', endpoint: UPSTREAM, bucket: 'shared', prefix } },
  };
  return datasetSource(obj, [UPSTREAM])!;
}

/** The Datasets the agent reports blocks for. */
const reported = (agent: Agent) => agent.holdings().map((h) => h.inventory.dataset);

describe("security probe 5: a Dataset in another namespace cannot take over how a tenant's reads are reported", function () {
  this.timeout(30_000);
  let remote: Remote;
  let dir: string;
  let agent: Agent | undefined;

  before(async () => {
    remote = await startRemote(['shared']);
    await remote.direct.put('shared', 'train/a.bin', bytes(MiB + 100, 3));
    await remote.direct.put('shared', 'train/x/file.bin', BODY);
  });
  after(async () => {
    await remote.close();
  });
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('unsigned reads: the namespace that claimed the prefix first keeps it against a longer, later claim', async () => {
    agent = await agentFor(remote, dir, {
      datasets: [dataset('tenant-a', 'train', 'train/', '2026-01-01T00:00:00Z'), dataset('tenant-b', 'steal', 'train/x/', '2026-06-01T00:00:00Z')],
    });
    const c = clientFor(agent.s3Url);
    expect((await getBytes(c, 'shared', 'train/x/file.bin')).equals(BODY)).to.equal(true);
    c.destroy();
    expect(reported(agent)).to.deep.equal(['tenant-a/train']);
  });

  it("signed reads count for the reader's own Dataset, even against a claim made earlier in another namespace", async () => {
    agent = await agentFor(remote, dir, {
      auth: { keys: [AGENT_KEY] },
      datasets: [dataset('tenant-a', 'train', 'train/', '2026-06-01T00:00:00Z'), dataset('tenant-b', 'steal', 'train/x/', '2026-01-01T00:00:00Z')],
    });
    const c = s3ClientAs(agent.s3Url, credsFor('tenant-a', 'train'));
    expect((await getBytes(c, 'shared', 'train/x/file.bin')).equals(BODY)).to.equal(true);
    c.destroy();
    expect(reported(agent)).to.deep.equal(['tenant-a/train']);
  });
});
