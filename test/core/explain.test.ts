import { expect } from 'chai';
import { explain } from '../../src/core/explain.js';
import { scoreNodes } from '../../src/core/policies/index.js';
import { requestForPod } from '../../src/core/pod-request.js';
import { buildIndex } from './index-builder.js';

describe('core/explain', () => {
  const index = buildIndex({
    datasets: { 'ml/a': { totalBytes: 1000 }, 'ml/unsized': {} },
    nodes: { n1: { zone: 'z1', region: 'r' }, n2: { zone: 'z1', region: 'r' } },
    caches: { n1: { 'ml/a': 600 } },
  });
  const pod = { metadata: { namespace: 'ml', labels: { 'dataset.0.id': 'a', 'dataset.1.id': 'unsized', 'dataset.2.id': 'missing' } } };

  it('breaks the score down per dataset and agrees with scoreNodes', () => {
    const req = requestForPod(pod, ['n1', 'n2'], index, 0);
    const e = explain('locality', req, 'n2');
    expect(e).to.deep.include({ node: 'n2', policy: 'locality', zone: 'z1', region: 'r', inventoryLive: false });
    expect(e.score).to.equal(scoreNodes('locality', req)[1]).and.equal(3);
    expect(e.datasets[0]).to.deep.equal({ dataset: 'ml/a', totalBytes: 1000, onNode: 0, inZone: 600, inRegion: 600, credited: 300 });
    expect(e.datasets[1].note).to.match(/size not known/);
    expect(e.datasets[2].note).to.match(/unknown Dataset/);
  });

  it('builds requests from PVC volumes named after Datasets too', () => {
    const req = requestForPod(
      { metadata: { namespace: 'ml' }, spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'a' } }] } },
      ['n1'],
      index,
      0,
    );
    expect(req.datasets.map((d) => d.name)).to.deep.equal(['a']);
    expect(scoreNodes('locality', req)).to.deep.equal([6]);
  });
});
