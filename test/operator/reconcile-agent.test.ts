import { expect } from 'chai';
import { agentCredentials } from '../../src/api/agent-credentials.js';
import type { Condition, DatasetStatus } from '../../src/api/dataset.js';
import { FINALIZER } from '../../src/api/names.js';
import { summarise } from '../../src/catalog/listing.js';
import type { KubeObject } from '../../src/kube/object.js';
import { DEFAULT_CONFIG, type OperatorConfig } from '../../src/operator/config.js';
import { desiredSecret } from '../../src/operator/desired.js';
import { reconcile, type Action, type Listing, type Observed, type ReconcileResult } from '../../src/operator/reconcile.js';

// Datasets read through the agents: the owned Secret gets credentials derived from the agent key,
// only after the tenant's own keys listed the bucket/prefix at the agents' upstream directly.
const AGENT_URL = 'http://locus-agent.locus-system.svc:9300';
const UPSTREAM = 'http://minio.storage:9000';
const KEY = Buffer.from('k'.repeat(48));
const CONFIG: OperatorConfig = { ...DEFAULT_CONFIG, agent: { url: AGENT_URL, upstream: UPSTREAM, keyFile: '/etc/locus/agent-auth/key' } };
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';
const UID = 'uid-books';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const DERIVED = agentCredentials(KEY, 'ml', 'books');

const agentSpec = { local: { type: 'S3', endpoint: AGENT_URL, bucket: 'books', prefix: 'train/', 'secret-name': 's3-creds' } };
const directSpec = { local: { ...agentSpec.local, endpoint: UPSTREAM } };
const rawKeysSpec = { local: { type: 'S3', endpoint: AGENT_URL, bucket: 'books', accessKeyID: 'AK', secretAccessKey: 'SK' } };

function dataset(spec: object, status?: DatasetStatus): KubeObject {
  return {
    apiVersion: 'locus.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'books', namespace: 'ml', uid: UID, generation: 1, resourceVersion: '10', finalizers: [FINALIZER] },
    spec,
    ...(status ? { status } : {}),
  };
}

const userSecret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's3-creds', namespace: 'ml' },
  data: { accessKeyID: b64('AK'), secretAccessKey: b64('SK') },
};
/** The Secret an earlier round wrote, as the API server hands it back. */
const issued = desiredSecret({ namespace: 'ml', name: 'books', uid: UID }, DERIVED, 'agent');
const ownedSecret: KubeObject = { ...issued, metadata: { ...issued.metadata, uid: 'uid-secret', resourceVersion: '20' } };
/** The Secret as issued before the administrator rotated the agent key (KEY is the new first line). */
const beforeRotation = desiredSecret({ namespace: 'ml', name: 'books', uid: UID }, agentCredentials(Buffer.from('o'.repeat(48)), 'ml', 'books'), 'agent');
const staleSecret: KubeObject = { ...beforeRotation, metadata: { ...beforeRotation.metadata, uid: 'uid-secret', resourceVersion: '20' } };
const listed: Listing = { ok: true, summary: summarise([{ key: 'train/a', size: 10, etag: 'e' }], 4 << 20, 'train/') };
const refused: Listing = { ok: false, refused: true, message: 'listing s3://books/train/ failed: AccessDenied: Access Denied' };
const down: Listing = { ok: false, message: 'no usable answer from the object store' };
const base: Observed = { now: T1, userSecret, ownedSecret: null, configMap: null, pvc: null, pv: null, pods: [] };

/** What an earlier round recorded after issuing the credentials: proof made at T0, catalog fresh. */
const issuedBefore: DatasetStatus = {
  phase: 'Ready',
  observedGeneration: 1,
  resolved: { bucket: 'books', prefix: 'train/', endpoint: AGENT_URL },
  catalog: { ...listed.summary, refreshedAt: T0 },
  conditions: [
    { type: 'CredentialsResolved', status: 'True', reason: 'FromAgentKey', message: 'issued', lastTransitionTime: T0 },
    { type: 'CatalogListed', status: 'True', reason: 'Listed', message: 'listed', lastTransitionTime: T0 },
  ] as Condition[],
};

const cond = (r: ReconcileResult, type: string): Condition | undefined => r.status?.conditions?.find((c) => c.type === type);
const secretWrite = (r: ReconcileResult): KubeObject | undefined =>
  r.actions.flatMap((a: Action) => ((a.kind === 'create' || a.kind === 'update') && a.object.kind === 'Secret' ? [a.object] : []))[0];
const deletesSecret = (r: ReconcileResult): boolean => r.actions.some((a) => a.kind === 'delete' && a.target.kind === 'Secret');

interface Case {
  name: string;
  spec?: object;
  config?: OperatorConfig;
  status?: DatasetStatus;
  observed: Partial<Observed>;
  /** CredentialsResolved as status/reason, and a pattern of its message. */
  credentials: [Condition['status'], string, RegExp?];
  /** The owned Secret: written with the derived keys, deleted, or left as it is. */
  secret: 'derived' | 'deleted' | 'untouched';
}

const cases: Case[] = [
  {
    name: 'issues derived keys (not the tenant keys) once the tenant keys listed the prefix at the upstream',
    observed: { listing: listed, agentKey: KEY },
    credentials: [
      'True',
      'FromAgentKey',
      /agent credentials in Secret books-credentials; the keys from Secret s3-creds listed s3:\/\/books\/train\/ at http:\/\/minio\.storage:9000/,
    ],
    secret: 'derived',
  },
  {
    name: "refuses when the upstream refused the tenant's keys, naming the fix",
    observed: { listing: refused, agentKey: KEY },
    credentials: [
      'False',
      'UpstreamAccessDenied',
      /the keys from Secret s3-creds may not list s3:\/\/books\/train\/ at http:\/\/minio\.storage:9000 .*AccessDenied.*grant them s3:ListBucket/,
    ],
    secret: 'untouched',
  },
  {
    name: 'withdraws credentials issued earlier when the upstream now refuses',
    status: issuedBefore,
    observed: { listing: refused, agentKey: KEY, ownedSecret },
    credentials: ['False', 'UpstreamAccessDenied'],
    secret: 'deleted',
  },
  {
    name: 'keeps credentials issued earlier while the upstream is down (a failure that refutes nothing)',
    status: issuedBefore,
    observed: { listing: down, agentKey: KEY, ownedSecret },
    credentials: ['True', 'FromAgentKey'],
    secret: 'untouched',
  },
  {
    name: 'keeps credentials issued earlier between listings (same spec and location)',
    status: issuedBefore,
    observed: { agentKey: KEY, ownedSecret },
    credentials: ['True', 'FromAgentKey'],
    secret: 'untouched',
  },
  {
    name: 'rewrites the Secret with the current key after a rotation, without listing again',
    status: issuedBefore,
    observed: { agentKey: KEY, ownedSecret: staleSecret },
    credentials: ['True', 'FromAgentKey'],
    secret: 'derived',
  },
  {
    name: 'issues nothing while the upstream is down and nothing was shown yet',
    observed: { listing: down, agentKey: KEY },
    credentials: ['False', 'WaitingForUpstreamListing', /once the keys from Secret s3-creds have listed .*: no usable answer/],
    secret: 'untouched',
  },
  {
    name: "withdraws them when the tenant's Secret is gone",
    status: issuedBefore,
    observed: { userSecret: null, agentKey: KEY, ownedSecret },
    credentials: ['False', 'SecretNotFound'],
    secret: 'deleted',
  },
  {
    name: 'says how to give the operator the agent key when it has none',
    observed: { listing: listed, agentKey: { error: 'the operator has no agent key: mount Secret locus-system/locus-agent-auth and pass --agent-key-file' } },
    credentials: ['False', 'NoAgentKey', /mount Secret locus-system\/locus-agent-auth and pass --agent-key-file/],
    secret: 'untouched',
  },
  {
    name: 'says the operator needs --agent-upstream, and lists nothing (not even through the agent)',
    config: { ...CONFIG, agent: { url: AGENT_URL, keyFile: '/k' } },
    observed: { agentKey: KEY },
    credentials: ['False', 'NoAgentUpstream', /--agent-upstream/],
    secret: 'untouched',
  },
  {
    name: 'refuses raw keys in the spec for a Dataset read through the agents',
    spec: rawKeysSpec,
    observed: { userSecret: undefined, listing: listed, agentKey: KEY },
    credentials: ['False', 'SecretNameRequired', /put spec\.local\.accessKeyID\/secretAccessKey in a Secret, set secret-name/],
    secret: 'untouched',
  },
  {
    name: 'a Dataset at the store itself still gets the tenant keys (not read through the agents)',
    spec: directSpec,
    observed: { listing: listed, namespaceLabels: {} },
    credentials: ['True', 'FromSecret'],
    secret: 'untouched',
  },
];

describe('operator reconcile: agent credentials (pure)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = reconcile(dataset(c.spec ?? agentSpec, c.status), { ...base, ...c.observed }, c.config ?? CONFIG);
      expect(r.needs, 'decided without further lookups').to.deep.equal([]);
      const [status, reason, message] = c.credentials;
      const got = cond(r, 'CredentialsResolved');
      expect(got).to.include({ status, reason });
      if (message) expect(got?.message).to.match(message);
      const written = secretWrite(r);
      if (c.secret === 'derived') {
        expect(written?.data).to.deep.equal({ accessKeyID: b64(DERIVED.accessKeyID), secretAccessKey: b64(DERIVED.secretAccessKey) });
        expect(written?.metadata.annotations?.['locus.dev/credentials-source']).to.equal('agent');
        expect(
          r.actions.some((a) => a.kind === 'create' && a.object.kind === 'PersistentVolumeClaim'),
          'the PVC follows',
        ).to.equal(true);
      } else if (c.spec !== directSpec) {
        expect(written, 'no Secret written').to.equal(undefined);
        if (status === 'False')
          expect(
            r.actions.some((a) => a.kind === 'create' && a.object.kind === 'PersistentVolumeClaim'),
            'no PVC',
          ).to.equal(false);
      }
      expect(deletesSecret(r)).to.equal(c.secret === 'deleted');
      if (c.spec !== directSpec) expect(JSON.stringify(r.actions)).to.not.include(b64('SK'));
    });
  }

  it("lists at the agents' upstream with the tenant's keys, never at the agent", () => {
    const r = reconcile(dataset(agentSpec), { ...base, agentKey: KEY }, CONFIG);
    const listing = r.needs.find((n) => n.kind === 'listing');
    expect(listing).to.deep.include({ keys: { accessKeyID: 'AK', secretAccessKey: 'SK' } });
    expect(listing && 'location' in listing && listing.location).to.deep.include({ endpoint: UPSTREAM, bucket: 'books', prefix: 'train/' });
    expect(
      r.actions.some((a) => a.kind === 'create' && a.object.kind === 'Secret'),
      'nothing issued before the proof',
    ).to.equal(false);
  });

  it('lists again before issuing when the proof was made for an earlier spec', () => {
    const r = reconcile(dataset(agentSpec, { ...issuedBefore, observedGeneration: 0 }), { ...base, agentKey: KEY }, CONFIG);
    expect(r.needs.map((n) => n.kind)).to.include('listing');
  });

  it('reads the agent key only once the tenant has shown access', () => {
    expect(reconcile(dataset(agentSpec), { ...base, listing: listed }, CONFIG).needs).to.deep.equal([{ kind: 'agentKey' }]);
    expect(reconcile(dataset(agentSpec), { ...base, listing: refused }, CONFIG).needs).to.deep.equal([]);
  });

  it('the status records the agent address, so the agents front the Dataset', () => {
    const r = reconcile(dataset(agentSpec), { ...base, listing: listed, agentKey: KEY }, CONFIG);
    expect(r.status?.resolved).to.deep.equal({ bucket: 'books', prefix: 'train/', endpoint: AGENT_URL, agent: AGENT_URL });
  });
});
