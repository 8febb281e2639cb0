// The harness itself: the control plane that scripts/e2e.sh started is reachable, seeded, and schedules pods.
import { expect } from 'chai';
import { get, type Obj } from './support/api.js';
import { cluster } from './support/env.js';
import { boundNode, createPod, deleteAllPods, pod } from './support/pods.js';

describe('e2e control plane', () => {
  after(() => deleteAllPods('default'));

  it('has the seeded nodes, Ready and untainted', async () => {
    const nodes = await get<{ items: Obj[] }>('/api/v1/nodes');
    expect(nodes.items.map((n) => n.metadata.name).sort()).to.deep.equal([...cluster.nodes].sort());
    for (const n of nodes.items) {
      const ready = (n.status.conditions as { type: string; status: string }[]).find((c) => c.type === 'Ready');
      expect(ready?.status, `${n.metadata.name} Ready`).to.equal('True');
      expect(n.spec.taints ?? [], `${n.metadata.name} taints`).to.deep.equal([]);
    }
  });

  it('binds a plain pod with the default scheduler', async () => {
    await createPod(pod('default', 'plain'));
    expect(cluster.nodes).to.include(await boundNode('default', 'plain'));
  });
});
