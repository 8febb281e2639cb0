// The Datashim pod in the README's "Coming from Datashim" section is wired in unchanged.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { mutatePod } from '../../src/webhook/mutate.js';
import type { Pod } from '../../src/webhook/pod.js';
import { applied, dataset, found } from './pods.js';

describe('webhook README example', () => {
  it('mounts the Dataset of the Datashim pod at /mnt/datasets/<name>', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Coming from Datashim'));
    const yaml = /```yaml\n(# kubectl label namespace[^\n]*\n[\s\S]*?kind: Pod[\s\S]*?)```/.exec(section)?.[1];
    expect(yaml, 'the Datashim pod example').to.be.a('string');
    const pod = parse(yaml!) as Pod;
    const m = mutatePod(pod, 'default', found(dataset('example-dataset')), { schedulerName: 'locus-scheduler', allowMissing: false });
    expect(m.denial).to.equal(undefined);
    const out = applied(pod, m.patch);
    expect(out.spec?.volumes).to.deep.equal([{ name: 'example-dataset', persistentVolumeClaim: { claimName: 'example-dataset' } }]);
    expect(out.spec?.containers?.[0].volumeMounts).to.deep.equal([{ name: 'example-dataset', mountPath: '/mnt/datasets/example-dataset' }]);
  });
});
