import { expect } from 'chai';
import { createExtender } from '../../src/extender/server.js';
import { MemorySource } from '../../src/inventory/memory-source.js';
import { snapshotToNodeCache } from '../../src/inventory/nodecache.js';
import { inProcess } from '../extender/in-process.js';

describe('inventory/memory-source', () => {
  it('feeds objects given before start, then changes as they are pushed', async () => {
    const source = new MemorySource({
      nodes: [{ metadata: { name: 'n1' } }],
      datasets: [
        {
          metadata: { name: 'd', namespace: 'default' },
          status: { catalog: { objectCount: 1, totalBytes: 100, blockSize: 10, blockCount: 10, version: 'v', refreshedAt: 'x' } },
        },
      ],
    });
    source.apply('NodeCache', 'upsert', snapshotToNodeCache({ node: 'n1', epoch: 'e', seq: 1, datasets: [{ dataset: 'default/d', bytes: 50 }] }));
    const ext = createExtender({ source });
    expect(ext.ready()).to.equal(false);
    await ext.start();
    expect(ext.ready()).to.equal(true);
    const request = inProcess(ext.app);
    const pod = { metadata: { labels: { 'dataset.0.id': 'd' } } };
    const score = async () => JSON.parse((await request('POST', '/scheduler/prioritize', JSON.stringify({ Pod: pod, NodeNames: ['n1'] }))).body)[0].Score;
    expect(await score()).to.equal(5);
    source.apply('NodeCache', 'upsert', snapshotToNodeCache({ node: 'n1', epoch: 'e', seq: 2, datasets: [{ dataset: 'default/d', bytes: 100 }] }));
    expect(await score()).to.equal(10);
    source.apply('NodeCache', 'delete', { metadata: { name: 'n1' } });
    expect(await score()).to.equal(0);
    await ext.close();
  });
});
