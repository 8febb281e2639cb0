// The slice examples of the README's "Slices" section declare what the README says they do.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { datasetRefsFromPod } from '../../src/core/dataset-refs.js';
import type { PodLike } from '../../src/core/pod.js';
import { declaredSlices } from '../../src/core/pod-slices.js';
import { formatSlice } from '../../src/core/slice.js';

type Doc = {
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown> & { template?: PodLike };
};

const section = (() => {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('### Slices: the part of a Dataset a pod reads');
  return readme.slice(start, readme.indexOf('\n## ', start));
})();
const docs: Doc[] = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) => parseAllDocuments(m[1]).map((d) => d.toJS() as Doc));
const find = (kind: string) => docs.find((d) => d.kind === kind)!;

/** The slice text per Dataset of `pod`, as the extender reads them (`whole` when none applies). */
function slices(pod: PodLike, completions?: number): string[] {
  const { refs } = datasetRefsFromPod(pod);
  const { slices: declared, problems } = declaredSlices(pod, refs, { jobCompletions: () => completions });
  expect(problems).to.deep.equal([]);
  return declared.map((d) => (d ? formatSlice(d.spec) : 'whole'));
}

describe('README slice examples', () => {
  it("the Indexed Job's pod of index 3 reads shard 3/8 of images, the count from the Job's completions", () => {
    const job = find('Job');
    const template = job.spec.template!;
    const pod: PodLike = {
      metadata: {
        ...template.metadata,
        namespace: job.metadata.namespace,
        annotations: { 'batch.kubernetes.io/job-completion-index': '3' },
        ownerReferences: [{ kind: 'Job', name: job.metadata.name, controller: true }],
      },
    };
    expect(slices(pod, job.spec.completions as number)).to.deep.equal(['shard 3/8']);
  });

  it("the PyTorchJob's worker of replica index 2 reads shard 2/4 of imagenet and all of imagenet-val", () => {
    const worker = (find('PyTorchJob').spec.pytorchReplicaSpecs as { Worker: { template: PodLike } }).Worker.template;
    const pod: PodLike = {
      metadata: { ...worker.metadata, namespace: 'ml', labels: { ...worker.metadata!.labels, 'training.kubeflow.org/replica-index': '2' } },
    };
    expect(slices(pod)).to.deep.equal(['shard 2/4', 'all']);
  });

  it("the Spark task pod reads its partition's prefix", () => {
    expect(slices(find('Pod') as PodLike)).to.deep.equal(['prefix date=2024-01-01/']);
  });
});
