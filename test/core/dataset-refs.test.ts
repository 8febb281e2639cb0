import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { datasetRefsFromPod } from '../../src/core/dataset-refs.js';
import type { PodLike } from '../../src/core/pod.js';

const fixture = (path: string) => JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8'));
const pod = (labels: Record<string, string>, extra: Partial<PodLike> = {}): PodLike => ({ metadata: { namespace: 'ml', labels }, ...extra });

describe('core/dataset-refs', () => {
  it('reads the dataset labels of the pod a real kube-scheduler sent', () => {
    const args = fixture('kube-scheduler/filter-nodecachecapable-true.json');
    const { refs, problems } = datasetRefsFromPod(args.Pod);
    expect(problems).to.deep.equal([]);
    expect(refs).to.deep.equal([{ namespace: args.Pod.metadata.namespace, name: 'my-dataset', useAs: ['mount'], source: { kind: 'label', index: 0 } }]);
  });

  it('takes the namespace from the AdmissionReview when the object has none', () => {
    const review = fixture('admission/pod-create-dataset-labels.json');
    const { refs } = datasetRefsFromPod(review.request.object, { namespace: review.request.namespace });
    expect(refs.map((r) => `${r.namespace}/${r.name}`)).to.deep.equal(['datasets-demo/my-dataset']);
  });

  const cases: Array<{ name: string; labels: Record<string, string>; refs: Array<[string, string[]]>; problems: string[] }> = [
    { name: 'no labels', labels: {}, refs: [], problems: [] },
    { name: 'missing useas means mount', labels: { 'dataset.0.id': 'a' }, refs: [['a', ['mount']]], problems: [] },
    { name: 'configmap', labels: { 'dataset.0.id': 'a', 'dataset.0.useas': 'configmap' }, refs: [['a', ['configmap']]], problems: [] },
    {
      name: 'both uses joined by a dot',
      labels: { 'dataset.0.id': 'a', 'dataset.0.useas': 'mount.configmap' },
      refs: [['a', ['mount', 'configmap']]],
      problems: [],
    },
    {
      name: 'indices in numeric order',
      labels: { 'dataset.10.id': 'c', 'dataset.2.id': 'b', 'dataset.0.id': 'a' },
      refs: [
        ['a', ['mount']],
        ['b', ['mount']],
        ['c', ['mount']],
      ],
      problems: [],
    },
    { name: 'other labels ignored', labels: { app: 'x', datasets: 'y', 'dataset.0.id': 'a' }, refs: [['a', ['mount']]], problems: [] },
    { name: 'bad key form', labels: { 'dataset.x.id': 'a', 'dataset.0.name': 'b' }, refs: [], problems: ['dataset.x.id', 'dataset.0.name'] },
    { name: 'useas without id', labels: { 'dataset.1.useas': 'mount' }, refs: [], problems: ['dataset.1.useas'] },
    { name: 'same dataset twice', labels: { 'dataset.0.id': 'a', 'dataset.1.id': 'a' }, refs: [['a', ['mount']]], problems: ['dataset.1.id'] },
    { name: 'unknown useas', labels: { 'dataset.0.id': 'a', 'dataset.0.useas': 'mount.cache' }, refs: [['a', ['mount']]], problems: ['dataset.0.useas'] },
    { name: 'invalid name', labels: { 'dataset.0.id': 'Not_A_Name' }, refs: [], problems: ['dataset.0.id'] },
  ];
  for (const c of cases) {
    it(`labels: ${c.name}`, () => {
      const { refs, problems } = datasetRefsFromPod(pod(c.labels));
      expect(refs.map((r) => [r.name, r.useAs])).to.deep.equal(c.refs);
      expect(problems.map((p) => p.field)).to.have.members(c.problems);
      for (const p of problems) expect(p.message).to.include(p.field);
    });
  }

  it('problem messages say how to fix the label', () => {
    const { problems } = datasetRefsFromPod(pod({ 'dataset.0.id': 'a', 'dataset.0.useas': 'cache' }));
    expect(problems[0].message).to.match(/use mount, configmap or mount\.configmap/);
  });

  it('counts a PVC volume named after a Dataset, once', () => {
    const volumes = [
      { name: 'data', persistentVolumeClaim: { claimName: 'imagenet' } },
      { name: 'scratch', persistentVolumeClaim: { claimName: 'not-a-dataset' } },
      { name: 'again', persistentVolumeClaim: { claimName: 'a' } },
    ];
    const isDataset = (ns: string, name: string) => ns === 'ml' && (name === 'imagenet' || name === 'a');
    const { refs } = datasetRefsFromPod(pod({ 'dataset.0.id': 'a' }, { spec: { volumes } }), { isDataset });
    expect(refs.map((r) => [r.name, r.source.kind])).to.deep.equal([
      ['a', 'label'],
      ['imagenet', 'pvc'],
    ]);
  });
});
