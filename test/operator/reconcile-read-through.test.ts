import { expect } from 'chai';
import { agentCredentials } from '../../src/api/agent-credentials.js';
import type { Condition, DatasetStatus } from '../../src/api/dataset.js';
import { FINALIZER } from '../../src/api/names.js';
import { summarise } from '../../src/catalog/listing.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DEFAULT_CONFIG, type OperatorConfig } from '../../src/operator/config.js';
import { desiredConfigMap, desiredPvc, desiredSecret } from '../../src/operator/desired.js';
import { READ_THROUGH_LABEL } from '../../src/operator/read-through.js';
import { reconcile, type Action, type Listing, type Observed, type ReconcileResult } from '../../src/operator/reconcile.js';

// Transparent caching: a Dataset naming the store the agents read is read through them when it, its
// namespace or the cluster default opts in (first level that says something wins), with the same
// credential proof as a Dataset naming the agents; any other store is read directly, saying why.
const AGENT_URL = 'http://locus-agent.locus-system.svc:9300';
const UPSTREAM = 'http://minio.storage:9000';
const OTHER = 'http://other.storage:9000';
const KEY = Buffer.from('k'.repeat(48));
const T1 = '2026-01-01T00:05:00Z';
const UID = 'uid-books';
const OWNER = { namespace: 'ml', name: 'books', uid: UID };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const DERIVED = agentCredentials(KEY, 'ml', 'books');
const TENANT = { accessKeyID: 'AK', secretAccessKey: 'SK' };

/** `upstream` null: the operator has no --agent-upstream. */
const config = (readThroughDefault: boolean, upstream: string | null = UPSTREAM): OperatorConfig => ({
  ...DEFAULT_CONFIG,
  agent: { url: AGENT_URL, upstream: upstream ?? undefined, keyFile: '/etc/locus/agent-auth/key', readThroughDefault },
});

function dataset(opts: { readThrough?: boolean; endpoint?: string; generation?: number; status?: DatasetStatus } = {}): KubeObject {
  return {
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'books', namespace: 'ml', uid: UID, generation: opts.generation ?? 1, resourceVersion: '10', finalizers: [FINALIZER] },
    spec: {
      local: { type: 'S3', endpoint: opts.endpoint ?? UPSTREAM, bucket: 'books', prefix: 'train/', 'secret-name': 's3-creds' },
      ...(opts.readThrough !== undefined ? { cache: { readThrough: opts.readThrough } } : {}),
    },
    ...(opts.status ? { status: opts.status } : {}),
  };
}

const userSecret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's3-creds', namespace: 'ml' },
  data: { accessKeyID: b64(TENANT.accessKeyID), secretAccessKey: b64(TENANT.secretAccessKey) },
};
const listed: Listing = { ok: true, summary: summarise([{ key: 'train/a', size: 10, etag: 'e' }], 4 << 20, 'train/') };
const fresh: Observed = { now: T1, userSecret, ownedSecret: null, configMap: null, pvc: null, pv: null, pods: [], listing: listed, agentKey: KEY };

const written = (r: ReconcileResult, kind: string): KubeObject | undefined =>
  r.actions.flatMap((a: Action) => ((a.kind === 'create' || a.kind === 'update') && a.object.kind === kind ? [a.object] : []))[0];
const endpointOf = (cm: KubeObject | undefined) => (cm?.data as Record<string, string> | undefined)?.endpoint;
const cond = (r: ReconcileResult, type: string): Condition | undefined => r.status?.conditions?.find((c) => c.type === type);
const as = (o: KubeObject, rv: string): KubeObject => ({ ...o, metadata: { ...o.metadata, uid: `uid-${o.kind}`, resourceVersion: rv } });

interface Case {
  name: string;
  /** spec.cache.readThrough */
  dataset?: boolean;
  /** The namespace's locus.dev/read-through label. */
  namespace?: string;
  cluster: boolean;
  endpoint?: string;
  upstream?: string;
  /** ReadThroughAgents: status and reason, or absent; and a pattern of its message. */
  condition?: [Condition['status'], string, RegExp?];
  agent: boolean;
}

const cases: Case[] = [
  {
    name: 'the Dataset opts in, against its namespace and the cluster',
    dataset: true,
    namespace: 'false',
    cluster: false,
    condition: ['True', 'DatasetOptIn'],
    agent: true,
  },
  {
    name: 'the Dataset opts out, against its namespace and the cluster',
    dataset: false,
    namespace: 'true',
    cluster: true,
    condition: ['False', 'OptedOut', /spec\.cache\.readThrough is false: pods read http:\/\/minio\.storage:9000 directly/],
    agent: false,
  },
  {
    name: 'the namespace opts in, against the cluster',
    namespace: 'true',
    cluster: false,
    condition: ['True', 'NamespaceDefault', /locus\.dev\/read-through label is true/],
    agent: true,
  },
  {
    name: 'the namespace opts out, against the cluster',
    namespace: 'false',
    cluster: true,
    condition: ['False', 'OptedOut', /namespace's locus\.dev\/read-through label is false/],
    agent: false,
  },
  { name: 'the cluster default, when neither says', cluster: true, condition: ['True', 'ClusterDefault', /--read-through-default is true/], agent: true },
  { name: 'nothing opts in: read directly, no condition (as before)', cluster: false, agent: false },
  {
    name: 'a namespace label that is neither true nor false is skipped, and said so',
    namespace: 'yes',
    cluster: true,
    condition: ['True', 'ClusterDefault', /label "yes" is neither "true" nor "false"/],
    agent: true,
  },
  {
    name: 'opted in, but the store is not the one the agents read: read directly, saying why',
    dataset: true,
    cluster: false,
    endpoint: OTHER,
    condition: ['False', 'OtherStore', /they read http:\/\/minio\.storage:9000 and the Dataset is at http:\/\/other\.storage:9000: pods read it directly/],
    agent: false,
  },
  {
    name: 'opted in by the namespace, but the operator has no --agent-upstream: said, not ignored',
    namespace: 'true',
    cluster: false,
    upstream: '',
    condition: ['False', 'NoAgentUpstream', /--agent-upstream/],
    agent: false,
  },
  {
    name: 'a Dataset naming the agents is read through them whatever the levels say',
    dataset: false,
    cluster: false,
    endpoint: AGENT_URL,
    condition: ['True', 'AgentEndpoint'],
    agent: true,
  },
];

describe('operator reconcile: transparent caching (pure)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const labels: Record<string, string> = c.namespace === undefined ? {} : { [READ_THROUGH_LABEL]: c.namespace };
      const cfg = config(c.cluster, c.upstream === '' ? null : (c.upstream ?? UPSTREAM));
      const r = reconcile(dataset({ readThrough: c.dataset, endpoint: c.endpoint }), { ...fresh, namespaceLabels: labels }, cfg);
      expect(r.needs, 'decided without further lookups').to.deep.equal([]);
      const got = cond(r, 'ReadThroughAgents');
      if (c.condition) {
        expect(got).to.include({ status: c.condition[0], reason: c.condition[1] });
        if (c.condition[2]) expect(got?.message).to.match(c.condition[2]);
      } else expect(got).to.equal(undefined);
      const store = c.endpoint ?? UPSTREAM;
      const configMap = written(r, 'ConfigMap');
      const pvc = written(r, 'PersistentVolumeClaim');
      const secret = written(r, 'Secret');
      // Pods and the CSI-S3 mount are pointed at the agents; status keeps the store and names the agents.
      expect(endpointOf(configMap)).to.equal(c.agent ? AGENT_URL : store);
      expect(pvc?.metadata.annotations?.['locus.dev/endpoint']).to.equal(c.agent ? AGENT_URL : store);
      expect(r.status?.resolved).to.deep.equal({ bucket: 'books', prefix: 'train/', endpoint: store, ...(c.agent ? { agent: AGENT_URL } : {}) });
      if (c.agent && c.endpoint !== AGENT_URL && c.upstream !== '') {
        expect(secret?.data).to.deep.equal({ accessKeyID: b64(DERIVED.accessKeyID), secretAccessKey: b64(DERIVED.secretAccessKey) });
        expect(cond(r, 'CredentialsResolved')).to.include({ status: 'True', reason: 'FromAgentKey' });
      } else if (!c.agent) {
        expect(secret?.data, "the tenant's own keys").to.deep.equal({ accessKeyID: b64('AK'), secretAccessKey: b64('SK') });
      }
      // Reading directly although the Dataset asked for the agents does not keep it from being usable.
      expect(cond(r, 'Ready')?.reason).to.not.equal('OtherStore');
    });
  }

  it('asks for the namespace only when the Dataset does not decide (and does not name the agents)', () => {
    const base = { ...fresh, listing: undefined, agentKey: undefined };
    expect(reconcile(dataset(), base, config(false)).needs.map((n) => n.kind)).to.include('namespaceLabels');
    expect(reconcile(dataset({ readThrough: true }), base, config(false)).needs.map((n) => n.kind)).to.not.include('namespaceLabels');
    expect(
      reconcile(dataset(), base, config(false, null)).needs.map((n) => n.kind),
      'a label is never silently ignored',
    ).to.include('namespaceLabels');
    expect(reconcile(dataset({ endpoint: AGENT_URL }), base, config(false)).needs.map((n) => n.kind)).to.not.include('namespaceLabels');
  });

  it("proves the tenant's keys at the store itself before issuing agent credentials", () => {
    const r = reconcile(dataset({ readThrough: true }), { ...fresh, listing: undefined, agentKey: undefined }, config(false));
    const listing = r.needs.find((n) => n.kind === 'listing');
    expect(listing).to.deep.include({ keys: TENANT });
    expect(listing && 'location' in listing && listing.location).to.deep.include({ endpoint: UPSTREAM, bucket: 'books', prefix: 'train/' });
    expect(written(r, 'Secret'), 'nothing issued before the proof').to.equal(undefined);
  });

  it('refuses agent credentials when the store refuses the tenant keys, and reads nothing through the agents', () => {
    const refused: Listing = { ok: false, refused: true, message: 'AccessDenied' };
    const r = reconcile(dataset({ readThrough: true }), { ...fresh, listing: refused }, config(false));
    expect(cond(r, 'CredentialsResolved')).to.include({ status: 'False', reason: 'UpstreamAccessDenied' });
    expect(written(r, 'Secret')).to.equal(undefined);
    expect(written(r, 'PersistentVolumeClaim'), 'no volume').to.equal(undefined);
  });

  describe('opting out again restores direct reads with the tenant keys', () => {
    // What a transparent round left: derived keys, agent endpoint in the ConfigMap and the PVC.
    const pod = { ...OWNER };
    const podStorage = {
      kind: 'object-store' as const,
      location: { endpoint: AGENT_URL, region: '', bucket: 'books', prefix: 'train/' },
      readonly: false,
    };
    const issued: DatasetStatus = {
      phase: 'Ready',
      observedGeneration: 1,
      resolved: { bucket: 'books', prefix: 'train/', endpoint: UPSTREAM, agent: AGENT_URL },
      catalog: { ...listed.summary, refreshedAt: T1 },
      conditions: [
        { type: 'CredentialsResolved', status: 'True', reason: 'FromAgentKey', message: 'issued', lastTransitionTime: T1 },
        { type: 'CatalogListed', status: 'True', reason: 'Listed', message: 'listed', lastTransitionTime: T1 },
      ] as Condition[],
    };
    const before: Observed = {
      ...fresh,
      listing: undefined,
      agentKey: undefined,
      ownedSecret: as(desiredSecret(pod, DERIVED, 'agent'), '20'),
      configMap: as(desiredConfigMap(pod, podStorage), '21'),
      pvc: { ...as(desiredPvc(pod, podStorage, DEFAULT_CONFIG), '22'), status: { phase: 'Bound' } },
    };

    it('the namespace label turned to false: tenant keys and the store back, the outdated PVC replaced', () => {
      const r = reconcile(dataset({ status: issued }), { ...before, namespaceLabels: { [READ_THROUGH_LABEL]: 'false' } }, config(false));
      expect(r.needs).to.deep.equal([]);
      expect(written(r, 'Secret')?.data).to.deep.equal({ accessKeyID: b64('AK'), secretAccessKey: b64('SK') });
      expect(written(r, 'Secret')?.metadata.annotations?.['locus.dev/credentials-source']).to.equal('secret/s3-creds');
      expect(endpointOf(written(r, 'ConfigMap'))).to.equal(UPSTREAM);
      expect(r.actions.some((a) => a.kind === 'delete' && a.target.kind === 'PersistentVolumeClaim')).to.equal(true);
      expect(r.status?.resolved).to.deep.equal({ bucket: 'books', prefix: 'train/', endpoint: UPSTREAM });
      expect(cond(r, 'ReadThroughAgents')).to.include({ status: 'False', reason: 'OptedOut' });
    });

    it('the cluster default turned off (nothing else says): the same, and no condition', () => {
      const r = reconcile(dataset({ status: issued }), { ...before, namespaceLabels: {} }, config(false));
      expect(written(r, 'Secret')?.data).to.deep.equal({ accessKeyID: b64('AK'), secretAccessKey: b64('SK') });
      expect(endpointOf(written(r, 'ConfigMap'))).to.equal(UPSTREAM);
      expect(cond(r, 'ReadThroughAgents')).to.equal(undefined);
    });

    it('while pods use the volume, the PVC is kept and the condition says what to do', () => {
      const r = reconcile(dataset({ status: issued }), { ...before, namespaceLabels: {}, pods: ['trainer-0'] }, config(false));
      expect(r.actions.some((a) => a.kind === 'delete')).to.equal(false);
      expect(cond(r, 'VolumeBound')).to.include({ status: 'False', reason: 'VolumeOutdated' });
    });

    it('opting in again lists again before issuing (the old proof was withdrawn with the opt-out)', () => {
      const direct: DatasetStatus = {
        ...issued,
        resolved: { bucket: 'books', prefix: 'train/', endpoint: UPSTREAM },
        conditions: [{ type: 'CredentialsResolved', status: 'True', reason: 'FromSecret', message: 'keys', lastTransitionTime: T1 }] as Condition[],
      };
      const r = reconcile(dataset({ status: direct }), { ...before, namespaceLabels: { [READ_THROUGH_LABEL]: 'true' } }, config(false));
      expect(r.needs.map((n) => n.kind)).to.deep.equal(['listing']);
    });
  });
});
