import { expect } from 'chai';
import { datasetRefsFromPod } from '../../src/core/dataset-refs.js';
import type { PodLike } from '../../src/core/pod.js';
import { declaredSlices, type SliceOptions } from '../../src/core/pod-slices.js';
import { formatSlice } from '../../src/core/slice.js';

const labels = { 'dataset.0.id': 'train', 'dataset.1.id': 'val' };
const pvc = { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'extra' } }] };
const job = [{ kind: 'Job', name: 'resize', controller: true }];
const completions: SliceOptions = { jobCompletions: (ns, name) => (ns === 'ml' && name === 'resize' ? 4 : undefined) };

/** The slice text per reference (train, val[, extra]) and the fields of the problems. */
function run(pod: PodLike, opts: SliceOptions = {}): { slices: string[]; problems: string[] } {
  const { refs } = datasetRefsFromPod(pod, { isDataset: () => true });
  const { slices, problems } = declaredSlices(pod, refs, opts);
  return { slices: slices.map((s) => (s ? formatSlice(s.spec) : 'whole')), problems: problems.map((p) => p.field) };
}

const pod = (annotations: Record<string, string>, extra: { labels?: Record<string, string>; owners?: typeof job; volumes?: boolean } = {}): PodLike => ({
  metadata: { namespace: 'ml', labels: { ...labels, ...extra.labels }, annotations, ownerReferences: extra.owners },
  spec: extra.volumes ? pvc : undefined,
});

describe('core/pod-slices', () => {
  const cases: Array<{ name: string; pod: PodLike; opts?: SliceOptions; slices: string[]; problems?: string[] }> = [
    { name: 'no annotation: every Dataset whole', pod: pod({}), slices: ['whole', 'whole'] },
    { name: 'locus.dev/slice applies to every Dataset', pod: pod({ 'locus.dev/slice': 'shard 1/4' }), slices: ['shard 1/4', 'shard 1/4'] },
    {
      name: 'locus.dev/slice.<i> applies to dataset.<i>.id and wins',
      pod: pod({ 'locus.dev/slice': 'shard 1/4', 'locus.dev/slice.1': 'all' }),
      slices: ['shard 1/4', 'all'],
    },
    {
      name: 'locus.dev/slice.<claim> applies to a PVC Dataset',
      pod: pod({ 'locus.dev/slice.extra': 'blocks 0-9' }, { volumes: true }),
      slices: ['whole', 'whole', 'blocks 0-9'],
    },
    {
      name: 'a malformed slice is reported and that Dataset read whole',
      pod: pod({ 'locus.dev/slice.0': 'half', 'locus.dev/slice.1': 'shard 0/2' }),
      slices: ['whole', 'shard 0/2'],
      problems: ['locus.dev/slice.0'],
    },
    { name: 'an out-of-range shard is reported', pod: pod({ 'locus.dev/slice': 'shard 4/4' }), slices: ['whole', 'whole'], problems: ['locus.dev/slice'] },
    {
      name: 'a per-Dataset annotation naming no Dataset of the pod is reported',
      pod: pod({ 'locus.dev/slice.7': 'all' }),
      slices: ['whole', 'whole'],
      problems: ['locus.dev/slice.7'],
    },
    {
      name: "Indexed Job: the completion index of the Job's completions",
      pod: pod({ 'batch.kubernetes.io/job-completion-index': '2' }, { owners: job }),
      opts: completions,
      slices: ['shard 2/4', 'shard 2/4'],
    },
    {
      name: "Indexed Job: locus.dev/shards wins over the Job's completions",
      pod: pod({ 'batch.kubernetes.io/job-completion-index': '2', 'locus.dev/shards': '3' }, { owners: job }),
      opts: completions,
      slices: ['shard 2/3', 'shard 2/3'],
    },
    {
      name: 'Indexed Job: an explicit slice wins over the index, per Dataset',
      pod: pod({ 'batch.kubernetes.io/job-completion-index': '2', 'locus.dev/slice.1': 'all' }, { owners: job }),
      opts: completions,
      slices: ['shard 2/4', 'all'],
    },
    {
      name: 'Indexed Job whose Job is unknown: whole',
      pod: pod({ 'batch.kubernetes.io/job-completion-index': '2' }, { owners: job }),
      slices: ['whole', 'whole'],
    },
    {
      name: 'an index past the shard count is reported',
      pod: pod({ 'batch.kubernetes.io/job-completion-index': '4' }, { owners: job }),
      opts: completions,
      slices: ['whole', 'whole'],
      problems: ['batch.kubernetes.io/job-completion-index'],
    },
    {
      name: 'Kubeflow replica index with locus.dev/shards',
      pod: pod({ 'locus.dev/shards': '8' }, { labels: { 'training.kubeflow.org/replica-index': '5' } }),
      slices: ['shard 5/8', 'shard 5/8'],
    },
    {
      name: 'Kubeflow replica index without a count: whole',
      pod: pod({}, { labels: { 'training.kubeflow.org/replica-index': '5' } }),
      slices: ['whole', 'whole'],
    },
    {
      name: 'a bad shard count is reported',
      pod: pod({ 'locus.dev/shards': 'eight' }, { labels: { 'training.kubeflow.org/replica-index': '5' } }),
      slices: ['whole', 'whole'],
      problems: ['locus.dev/shards'],
    },
    {
      name: 'a bad index is reported',
      pod: pod({ 'locus.dev/shards': '8' }, { labels: { 'training.kubeflow.org/replica-index': 'x' } }),
      slices: ['whole', 'whole'],
      problems: ['training.kubeflow.org/replica-index'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = run(c.pod, c.opts);
      expect(r.slices).to.deep.equal(c.slices);
      expect(r.problems).to.deep.equal(c.problems ?? []);
    });
  }

  it('a problem names the annotation, what is wrong, and that the Dataset is read whole', () => {
    const { refs } = datasetRefsFromPod(pod({ 'locus.dev/slice': 'shard 4/4' }));
    const [p] = declaredSlices(pod({ 'locus.dev/slice': 'shard 4/4' }), refs).problems;
    expect(p.message).to.equal(
      'annotation "locus.dev/slice": "shard 4/4": shard index 4 is out of range; shards of 4 are numbered 0 to 3; the pod is scored on the whole Dataset',
    );
  });
});
