import { expect } from 'chai';
import { UsageIndex, type PodObject } from '../../src/operator/usage.js';

const pod = (name: string, labels: Record<string, string>, claims: string[] = [], phase = 'Running'): PodObject => ({
  metadata: { name, namespace: 'ml', labels },
  spec: { volumes: claims.map((c) => ({ name: `v-${c}`, persistentVolumeClaim: { claimName: c } })) },
  status: { phase },
});

describe('operator usage index (data-access audit)', () => {
  const datasets = new Set(['ml/books', 'ml/films']);
  const index = () => new UsageIndex((ns, name) => datasets.has(`${ns}/${name}`));

  it('counts pods by Datashim labels and by PVC volumes named after a Dataset', () => {
    const u = index();
    expect(u.setPod(pod('a', { 'dataset.0.id': 'books', 'dataset.0.useas': 'mount' }))).to.deep.equal(['ml/books']);
    expect(u.setPod(pod('b', {}, ['films', 'scratch']))).to.deep.equal(['ml/films']);
    expect(u.setPod(pod('c', { 'dataset.0.id': 'books', 'dataset.1.id': 'films' }))).to.have.members(['ml/books', 'ml/films']);
    expect(u.pods('ml/books')).to.deep.equal(['a', 'c']);
    expect(Object.fromEntries(u.counts())).to.deep.equal({ 'ml/books': 2, 'ml/films': 2 });
  });

  it('reports only the Datasets whose users changed, and forgets finished and deleted pods', () => {
    const u = index();
    u.setPod(pod('a', { 'dataset.0.id': 'books' }));
    expect(u.setPod(pod('a', { 'dataset.0.id': 'books' }))).to.deep.equal([]);
    expect(u.setPod(pod('a', { 'dataset.0.id': 'films' }))).to.have.members(['ml/books', 'ml/films']);
    expect(u.setPod(pod('a', { 'dataset.0.id': 'films' }, [], 'Succeeded'))).to.deep.equal(['ml/films']);
    expect(u.pods('ml/films')).to.deep.equal([]);
    u.setPod(pod('b', { 'dataset.0.id': 'books' }));
    expect(u.deletePod(pod('b', {}))).to.deep.equal(['ml/books']);
    expect(u.counts().size).to.equal(0);
  });
});
