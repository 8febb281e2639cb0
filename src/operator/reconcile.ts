// The operator's decisions, level-based and pure: from a Dataset and what was observed of the
// cluster (its objects, Secrets, PVC events, catalog lookups, pods), the writes to make, the
// status to record and when to look again. It also declares what else it needs looked up (`needs`);
// the controller fetches exactly that and asks again, so what to fetch is decided here, once.
import type { CatalogSummary } from '../catalog/listing.js';
import { DEFAULT_BLOCK_SIZE, parseDataset, type CatalogStatus, type Condition, type Dataset, type DatasetStatus, type Phase } from '../api/dataset.js';
import { agentCredentials } from '../api/agent-credentials.js';
import { readThroughAgent } from '../api/agent-endpoint.js';
import { credentialsSecretName, DATASET_ANNOTATION, FINALIZER, OWNER_UID_LABEL } from '../api/names.js';
import { localStorage, type ObjectStoreLocation, type Storage } from '../api/storage.js';
import type { KubeObject } from '../kube/object.js';
import { mergeConditions, notOk, ok, type ConditionInput } from './conditions.js';
import type { OperatorConfig } from './config.js';
import { resolveCredentials, type Credentials, type Keys } from './credentials.js';
import { stableJson } from './stable-json.js';
import { archivePlan, archiveState, stagedView, type ArchiveObservation, type ArchivePlan, type ArchiveState } from './archive-plan.js';
import { dirJobState, nfsDirName, nfsDirPath } from './nfs-dir.js';
import type { Provisioned } from './provision.js';
import { ignoredFields, unsupportedType } from './unsupported.js';
import { policyDenial } from './policy.js';
import { desiredConfigMap, desiredDirJob, desiredPv, desiredPvc, desiredSecret, type Owner } from './desired.js';
import { needsNamespace, readThroughChoice, readThroughDecision } from './read-through.js';

export type RemoteLookup = { ok: true; location: string; bucket: string; prefix: string } | { ok: false; message: string };
/** `refused`: the store answered that these keys may not list there (not a transient failure). */
export type Listing = { ok: true; summary: CatalogSummary } | { ok: false; message: string; refused?: boolean };

/** A lookup reconcile needs before it can decide: the controller performs it into `Observed`. */
export type Need =
  /** The Secret named by secret-name, in the Dataset's namespace → `userSecret`. */
  | { kind: 'userSecret'; name: string }
  /** Events about the PVC of this uid → `pvcEvents`. */
  | { kind: 'pvcEvents'; pvcUid: string }
  /** The catalog entry's location → `remote`. */
  | { kind: 'remote'; uri: string; table: string }
  /** A listing of the object store's prefix → `listing`. */
  | { kind: 'listing'; location: ObjectStoreLocation; keys: Keys; blockSize: number }
  /** The keys of the operator's archive staging store → `archiveKeys`. */
  | { kind: 'archiveKeys' }
  /** How staging this archive stands (starting it when it is not under way) → `archive`. */
  | { kind: 'archive'; plan: ArchivePlan; keys: Keys }
  /** Create the bucket unless it exists (`provision: "true"`) → `provisioned`. */
  | { kind: 'provision'; location: ObjectStoreLocation; keys: Keys }
  /** The Job making an NFS Dataset's own directory → `dirJob`. */
  | { kind: 'dirJob'; name: string }
  /** The current agent key, read from --agent-key-file → `agentKey`. */
  | { kind: 'agentKey' }
  /** The labels of the Dataset's namespace (its read-through default) → `namespaceLabels`. */
  | { kind: 'namespaceLabels' };

/** What the controller saw this round. `null`: looked up, absent; `undefined`: not looked up. */
export interface Observed {
  /** RFC 3339. */
  now: string;
  userSecret?: KubeObject | null;
  ownedSecret?: KubeObject | null;
  configMap?: KubeObject | null;
  pvc?: KubeObject | null;
  pv?: KubeObject | null;
  /** Events about the PVC (looked up when it is Pending). */
  pvcEvents?: KubeObject[];
  /** The catalog entry's location, when it was looked up this round. */
  remote?: RemoteLookup;
  /** The bucket listing, when it was refreshed this round. */
  listing?: Listing;
  /** Names of the pods that use the Dataset. */
  pods: string[];
  /** The archive staging store's keys, or why they cannot be read. */
  archiveKeys?: Keys | { error: string };
  archive?: ArchiveObservation;
  provisioned?: Provisioned;
  dirJob?: KubeObject | null;
  /** The key agent credentials are derived with, or why there is none. */
  agentKey?: Buffer | { error: string };
  /** The labels of the Dataset's namespace ({} when it has none or is not found). */
  namespaceLabels?: Readonly<Record<string, string>>;
}

export interface ObjectId {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type Action =
  | { kind: 'addFinalizer' }
  | { kind: 'removeFinalizer' }
  | { kind: 'create'; object: KubeObject }
  /** `object` carries the resourceVersion it was based on (409 when someone wrote in between). */
  | { kind: 'update'; object: KubeObject }
  | { kind: 'delete'; target: ObjectId }
  /** Remove raw keys from spec.local / spec.remote: they are now in the owned Secret. */
  | { kind: 'stripSpecKeys'; field: 'local' | 'remote' };

export interface ReconcileResult {
  /** Lookups to make before acting: when not empty, look them up and reconcile again. */
  needs: Need[];
  actions: Action[];
  /** The status to record; undefined leaves it as it is. */
  status?: DatasetStatus;
  /** 'backoff': something transient is wrong, look again with the key's backoff; afterMs: look again then. */
  requeue?: 'backoff' | { afterMs: number };
}

const isDeleting = (o: KubeObject | null | undefined): boolean => Boolean(o?.metadata.deletionTimestamp);
const ownedBy = (o: KubeObject, uid: string): boolean => (o.metadata.ownerReferences ?? []).some((r) => r.uid === uid);
const pvOwnedBy = (o: KubeObject, uid: string): boolean => o.metadata.labels?.[OWNER_UID_LABEL] === uid;

/** The Dataset's spec section that holds object-store settings, and its field path. */
function storeSpec(ds: Dataset): { spec: NonNullable<Dataset['spec']['local'] | Dataset['spec']['remote']>; field: 'local' | 'remote' } | undefined {
  if (ds.spec.remote) return { spec: ds.spec.remote, field: 'remote' };
  const local = ds.spec.local;
  if (local && localStorage(local).kind === 'object-store') return { spec: local, field: 'local' };
  return undefined;
}

/** Credentials of an object-store Dataset (undefined for NFS, HOST and unstaged archives). */
function credentialsOf(ds: Dataset, observed: Pick<Observed, 'userSecret' | 'ownedSecret'>): Credentials | undefined {
  const store = storeSpec(ds);
  if (!store) return undefined;
  return resolveCredentials({
    namespace: ds.metadata.namespace ?? '',
    name: ds.metadata.name,
    spec: store.spec,
    field: `spec.${store.field}`,
    userSecret: observed.userSecret,
    ownedSecret: observed.ownedSecret,
  });
}

/** The catalog address for spec.remote, or why there is none. */
function catalogAddress(ds: Dataset, config: OperatorConfig): { uri: string; table: string } | { error: string } | undefined {
  const remote = ds.spec.remote;
  if (!remote) return undefined;
  const uri = remote.catalogURI ?? config.hiveMetastore;
  if (!uri) return { error: 'spec.remote.catalogURI is not set and the operator has no --hive-metastore: set one of them to thrift://<host>:<port>' };
  return { uri, table: remote.table };
}

/**
 * Where the Dataset's data is: from spec.local, or for spec.remote from this round's catalog lookup
 * (else the one recorded in status). An error message when it cannot be known.
 */
function storageOf(
  ds: Dataset,
  remote: RemoteLookup | undefined,
  config: OperatorConfig,
): { storage: Storage } | { error: string; reason: string; permanent: boolean } {
  if (ds.spec.local) return { storage: localStorage(ds.spec.local) };
  const spec = ds.spec.remote!;
  const address = catalogAddress(ds, config);
  if (address && 'error' in address) return { reason: 'NoCatalog', permanent: true, error: address.error };
  if (!spec.endpoint) {
    return {
      reason: 'EndpointMissing',
      permanent: true,
      error: "spec.remote.endpoint is not set: the catalog gives the bucket and prefix, not the object store's address; set it, e.g. http://minio.storage:9000",
    };
  }
  let place: { bucket: string; prefix?: string } | undefined;
  if (remote?.ok) place = remote;
  else if (remote && !remote.ok) return { reason: 'LookupFailed', permanent: false, error: remote.message };
  else if (ds.status?.resolved) place = ds.status.resolved;
  if (!place) return { reason: 'NotLookedUp', permanent: false, error: `table ${spec.table} has not been looked up yet` };
  const location: ObjectStoreLocation = { endpoint: spec.endpoint, region: spec.region ?? '', bucket: place.bucket, prefix: place.prefix ?? '' };
  return { storage: { kind: 'object-store', location, readonly: spec.readonly === 'true' } };
}

/** Whether the catalog should be (re)listed now: never listed, spec changed, last listing failed, or interval passed. */
export function catalogDue(ds: Dataset, nowMs: number, intervalMs: number): boolean {
  const st = ds.status;
  if (!st?.catalog) return true;
  if (st.observedGeneration !== ds.metadata.generation) return true;
  if (st.conditions?.find((c) => c.type === 'CatalogListed')?.status !== 'True') return true;
  return nowMs - Date.parse(st.catalog.refreshedAt) >= intervalMs;
}

/** The owned Secret's credentials-source annotation, and the condition reason, for agent credentials. */
const AGENT_SOURCE = 'agent';
const AGENT_ISSUED = 'FromAgentKey';

/** Conditions that report without keeping the Dataset from being Ready. */
const ADVISORY = new Set<string>(['RawKeysInSpec', 'CatalogListed', 'ReadThroughAgents']);

const blockSizeOf = (ds: Dataset): number => ds.spec.cache?.blockSize ?? DEFAULT_BLOCK_SIZE;

export function reconcile(raw: KubeObject, observed: Observed, config: OperatorConfig): ReconcileResult {
  if (raw.metadata.deletionTimestamp) return finalize(raw, observed);
  const actions: Action[] = [];
  if (!(raw.metadata.finalizers ?? []).includes(FINALIZER)) actions.push({ kind: 'addFinalizer' });

  const parsed = parseDataset(raw);
  const previous = (raw.status ?? undefined) as DatasetStatus | undefined;
  if (!parsed.ok) {
    const message = parsed.problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    return {
      needs: [],
      actions,
      status: buildStatus(raw, previous, observed, [notOk('Ready', 'InvalidSpec', `the spec is invalid: ${message}`)], 'Failed', {}),
    };
  }
  const ds = parsed.dataset;
  const refused = unsupportedType(ds);
  // Before anything is created or fetched: the administrator's policy on what a Dataset may reach.
  const denied = policyDenial(ds, config.policy);
  const plan = archivePlan(ds, config);
  const cannot = refused
    ? { reason: 'UnsupportedType', message: refused }
    : denied
      ? { reason: 'PolicyDenied', message: denied.message }
      : plan && 'error' in plan
        ? { reason: 'NoStagingStore', message: plan.error }
        : undefined;
  if (cannot) {
    return {
      needs: [],
      actions,
      status: buildStatus(raw, previous, observed, [notOk('Ready', cannot.reason, cannot.message)], 'Failed', {}, config.podNameLimit),
    };
  }
  // An ARCHIVE is reconciled as the object store it is staged in, once the staging is done.
  const archive = plan && !('error' in plan) ? plan : undefined;
  return new Round(archive ? stagedView(ds, archive) : ds, raw, previous, observed, config, actions, archive).run();
}

/** Deletion: remove what the operator created, then let the Dataset go. */
function finalize(raw: KubeObject, observed: Observed): ReconcileResult {
  if (!(raw.metadata.finalizers ?? []).includes(FINALIZER)) return { needs: [], actions: [] };
  const uid = raw.metadata.uid ?? '';
  const actions: Action[] = [];
  for (const o of [observed.ownedSecret, observed.configMap, observed.pvc]) {
    if (o && !isDeleting(o) && ownedBy(o, uid)) actions.push({ kind: 'delete', target: idOf(o) });
  }
  if (observed.pv && !isDeleting(observed.pv) && pvOwnedBy(observed.pv, uid)) actions.push({ kind: 'delete', target: idOf(observed.pv) });
  // Objects still terminating (a PVC in use keeps its protection finalizer) finish on their own.
  actions.push({ kind: 'removeFinalizer' });
  return { needs: [], actions };
}

function idOf(o: KubeObject): ObjectId {
  return { kind: o.kind ?? '', namespace: o.metadata.namespace, name: o.metadata.name ?? '', uid: o.metadata.uid };
}

/** One reconcile of a valid Dataset. */
class Round {
  private readonly conditions: ConditionInput[] = [];
  private readonly needs: Need[] = [];
  private permanent = false;
  private transient = false;
  private readonly owner: Owner;

  constructor(
    private readonly ds: Dataset,
    private readonly raw: KubeObject,
    private readonly previous: DatasetStatus | undefined,
    private readonly observed: Observed,
    private readonly config: OperatorConfig,
    private readonly actions: Action[],
    private readonly archive?: ArchivePlan,
  ) {
    this.owner = { namespace: ds.metadata.namespace ?? '', name: ds.metadata.name, uid: ds.metadata.uid ?? '' };
  }

  run(): ReconcileResult {
    const { ds, observed, config } = this;
    const due = catalogDue(ds, Date.parse(observed.now), config.catalogIntervalMs);
    const address = catalogAddress(ds, config);
    if (address && !('error' in address) && (due || !ds.status?.resolved) && observed.remote === undefined) {
      this.needs.push({ kind: 'remote', uri: address.uri, table: address.table });
    }
    const where = storageOf(ds, observed.remote, config);
    if (ds.spec.remote) this.catalogResolvedCondition(where);

    const store = storeSpec(ds);
    const secretName = store?.spec['secret-name'];
    const secretNamespace = store?.spec['secret-namespace'];
    // Only ever the Dataset's own namespace: a Secret elsewhere is refused, not read.
    if (secretName && (!secretNamespace || secretNamespace === ds.metadata.namespace) && observed.userSecret === undefined) {
      this.needs.push({ kind: 'userSecret', name: secretName });
    }
    const ignored = ignoredFields(ds);
    if (ignored) this.conditions.push(ignored);
    const staging = this.archive && this.staging(this.archive);
    const creds = this.archive?.keys === 'staging' ? this.stagingCredentials() : credentialsOf(ds, observed);
    const agentEndpoint = 'storage' in where && where.storage.kind === 'object-store' && readThroughAgent(where.storage.location.endpoint, [config.agent.url]);
    const transparent = 'storage' in where && this.readThrough(where.storage, agentEndpoint);
    const agentRead = agentEndpoint || transparent;
    if (creds && !agentRead) this.credentials(creds);
    if (staging?.pending && creds?.ok && observed.archive === undefined) this.needs.push({ kind: 'archive', plan: this.archive!, keys: creds.keys });

    let volumeReady = false;
    let catalog: CatalogStatus | undefined;
    let resolved: DatasetStatus['resolved'];
    let issued = false;
    if ('storage' in where) {
      const storage = where.storage;
      // Transparent: pods (their ConfigMap and volume) are pointed at the agents; the listing and the
      // proof still go to the store the Dataset names.
      const podStorage =
        transparent && storage.kind === 'object-store' ? { ...storage, location: { ...storage.location, endpoint: config.agent.url } } : storage;
      this.ensure(observed.configMap, desiredConfigMap(this.owner, podStorage));
      if (storage.kind === 'object-store') {
        // Empty strings stay out of status: some API servers read them as null.
        const { bucket, prefix, endpoint } = storage.location;
        resolved = prefix ? { bucket, prefix, endpoint } : { bucket, endpoint };
        if (agentRead) resolved.agent = config.agent.url;
        // Read through the agents: the tenant's keys are used only at the agents' upstream, directly.
        const upstream = agentEndpoint ? config.agent.upstream : undefined;
        const direct = upstream ? { ...storage.location, endpoint: upstream } : storage.location;
        const proven = agentRead && this.upstreamAccessShown(resolved);
        catalog = this.catalog(resolved, creds);
        const bucketReady = this.provision(direct, creds, due);
        if (
          (due || (agentRead && !proven)) &&
          (!agentEndpoint || upstream) &&
          bucketReady &&
          creds?.ok &&
          !staging?.pending &&
          observed.listing === undefined
        ) {
          this.needs.push({ kind: 'listing', location: direct, keys: creds.keys, blockSize: blockSizeOf(ds) });
        }
        if (agentRead && creds) issued = this.agentCredentials(creds, direct, proven);
      }
      if (staging?.pending) this.conditions.push(notOk('VolumeBound', 'WaitingForArchive', `no PVC until the archive is staged: ${staging.condition.message}`));
      else if (agentRead && !issued) this.conditions.push(notOk('VolumeBound', 'WaitingForCredentials', 'no PVC until the agent credentials are issued'));
      else if (!creds || creds.ok) volumeReady = this.volume(podStorage);
      else this.conditions.push(notOk('VolumeBound', 'WaitingForCredentials', `no PVC until the credentials are resolved: ${creds.message}`));
    } else {
      this.conditions.push(notOk('VolumeBound', 'WaitingForCatalog', `no PVC until the catalog entry is resolved: ${where.error}`));
      if (where.permanent) this.permanent = true;
      else this.transient = true;
    }

    // The catalog serves placement, not access: a failed listing shows, but the Dataset is usable;
    // so is one read directly although it asked for the agents (ReadThroughAgents says why).
    const failing = this.conditions.find((c) => c.status !== 'True' && !ADVISORY.has(c.type));
    const ready = volumeReady && failing === undefined;
    const readyCondition = ready
      ? ok('Ready', 'Ready', this.readyMessage(catalog))
      : notOk('Ready', failing?.reason ?? 'NotReady', failing?.message ?? 'waiting for the volume');
    const phase: Phase = ready ? 'Ready' : this.permanent ? 'Failed' : 'Pending';
    const status = buildStatus(
      this.raw,
      this.previous,
      observed,
      [readyCondition, ...this.conditions],
      phase,
      { catalog, resolved, archive: staging?.record },
      this.config.podNameLimit,
    );
    return { needs: this.needs, actions: this.actions, status, requeue: this.requeue(catalog) };
  }

  /**
   * Whether an object-store Dataset at the store the agents read is read through them although its
   * endpoint is the store (transparent caching), with the ReadThroughAgents condition. Asks for the
   * namespace's labels when the Dataset does not decide and the answer could matter.
   */
  private readThrough(storage: Storage, agentEndpoint: boolean): boolean {
    const { ds, observed, config } = this;
    if (storage.kind !== 'object-store') {
      if (ds.spec.cache?.readThrough) {
        this.conditions.push(
          notOk(
            'ReadThroughAgents',
            'NotObjectStore',
            'spec.cache.readThrough is true, but the agents cache object stores only: pods read the volume directly',
          ),
        );
      }
      return false;
    }
    if (!agentEndpoint && needsNamespace(ds) && observed.namespaceLabels === undefined) {
      this.needs.push({ kind: 'namespaceLabels' });
      return false;
    }
    const choice = readThroughChoice(ds, observed.namespaceLabels, config.agent.readThroughDefault ?? false);
    const decision = readThroughDecision(choice, storage.location.endpoint, config.agent, agentEndpoint);
    if (decision.condition) this.conditions.push(decision.condition);
    return decision.transparent;
  }

  /** The ArchiveStaged condition and whether the volume must wait for the staging. */
  private staging(plan: ArchivePlan): ArchiveState {
    const state = archiveState(this.ds, plan, this.observed.archive);
    this.conditions.push(state.condition);
    if (state.lasting) this.permanent = true;
    return state;
  }

  /** The staging store's keys, read by name from the Secret the operator was given (--archive-secret). */
  private stagingCredentials(): Credentials {
    const keys = this.observed.archiveKeys;
    if (keys === undefined) {
      this.needs.push({ kind: 'archiveKeys' });
      return { ok: false, reason: 'NotLookedUp', message: "the staging store's keys have not been read yet", rawKeysInSpec: false, permanent: false };
    }
    if ('error' in keys) return { ok: false, reason: 'StagingKeysMissing', message: keys.error, rawKeysInSpec: false, permanent: false };
    return { ok: true, keys, source: 'staging', rawKeysInSpec: false };
  }

  /** `provision: "true"`: the bucket is created when missing; true when listing may go ahead. */
  private provision(location: ObjectStoreLocation, creds: Credentials | undefined, due: boolean): boolean {
    if (this.ds.spec.local?.provision !== 'true' || !creds?.ok) return true;
    const done = this.observed.provisioned;
    if (done === undefined) {
      const before = this.previous?.conditions?.find((c) => c.type === 'BucketProvisioned');
      if (!due && before) {
        this.conditions.push({ type: 'BucketProvisioned', status: before.status, reason: before.reason, message: before.message });
        return true;
      }
      this.needs.push({ kind: 'provision', location, keys: creds.keys });
      return false;
    }
    if (!done.ok) {
      this.transient = true;
      this.conditions.push(notOk('BucketProvisioned', 'ProvisionFailed', done.message));
      return false;
    }
    this.conditions.push(
      ok('BucketProvisioned', done.created ? 'Created' : 'Exists', `bucket ${location.bucket} ${done.created ? 'created' : 'exists'} at ${location.endpoint}`),
    );
    return true;
  }

  /**
   * createDirPVC: the Dataset's own directory on the share, made by a Job before the PV that mounts
   * it; true once it exists (or the Dataset needs none).
   */
  private directory(storage: Storage, pvExists: boolean): boolean {
    if (storage.kind !== 'nfs' || !storage.ownDirectory) return true;
    const { owner, observed } = this;
    const path = nfsDirPath(storage.share, nfsDirName(owner.name, owner.uid));
    const where = `directory ${path} on ${storage.server}`;
    if (pvExists) {
      this.conditions.push(ok('DirectoryCreated', 'Created', `${where} is the Dataset's volume`));
      return true;
    }
    if (observed.dirJob === undefined) {
      this.needs.push({ kind: 'dirJob', name: desiredDirJob(owner, storage, this.config).metadata.name! });
      return false;
    }
    if (observed.dirJob === null) {
      this.actions.push({ kind: 'create', object: desiredDirJob(owner, storage, this.config) });
      this.conditions.push(notOk('DirectoryCreated', 'Creating', `making ${where}`));
      this.transient = true;
      return false;
    }
    const job = dirJobState(observed.dirJob);
    if (job.state === 'succeeded') {
      this.conditions.push(ok('DirectoryCreated', 'Created', `${where} is the Dataset's volume`));
      return true;
    }
    if (job.state === 'failed') {
      this.permanent = true;
      this.conditions.push(
        notOk(
          'DirectoryCreated',
          'MkdirFailed',
          `Job ${observed.dirJob.metadata.name} could not make ${where}: ${job.message}; check the server exports ${storage.share} read-write to the nodes, then delete the Job to try again`,
        ),
      );
      return false;
    }
    this.transient = true;
    this.conditions.push(notOk('DirectoryCreated', 'Creating', `Job ${observed.dirJob.metadata.name} is making ${where}`));
    return false;
  }

  private readyMessage(catalog: CatalogStatus | undefined): string {
    const base = `PVC ${this.ds.metadata.name} is bound`;
    return catalog ? `${base}; ${catalog.objectCount} objects, ${catalog.totalBytes} bytes listed` : base;
  }

  private requeue(catalog: CatalogStatus | undefined): ReconcileResult['requeue'] {
    if (this.transient) return 'backoff';
    if (this.permanent || !catalog) return undefined;
    const age = Date.parse(this.observed.now) - Date.parse(catalog.refreshedAt);
    return { afterMs: Math.max(0, this.config.catalogIntervalMs - age) };
  }

  private catalogResolvedCondition(where: ReturnType<typeof storageOf>): void {
    const table = this.ds.spec.remote!.table;
    if ('storage' in where && where.storage.kind === 'object-store') {
      const loc = where.storage.location;
      this.conditions.push(ok('CatalogResolved', 'Resolved', `table ${table} is at s3://${loc.bucket}/${loc.prefix}`));
    } else if ('error' in where) {
      this.conditions.push(notOk('CatalogResolved', where.reason, where.error));
    }
  }

  private credentials(creds: Credentials): void {
    const { ds, observed } = this;
    const field = ds.spec.remote ? 'spec.remote' : 'spec.local';
    const ownedName = credentialsSecretName(ds.metadata.name);
    if (!creds.ok) {
      this.conditions.push(notOk('CredentialsResolved', creds.reason, creds.message));
      if (creds.permanent) this.permanent = true;
      else this.transient = true;
    } else if (creds.source === 'secret' && creds.secretName === ownedName) {
      // The user's own Secret already has the name pods use: nothing to copy.
      this.conditions.push(ok('CredentialsResolved', 'FromSecret', `keys from Secret ${creds.secretName}`));
    } else {
      const source = creds.source === 'secret' ? `secret/${creds.secretName}` : creds.source === 'staging' ? 'archive-store' : 'spec';
      const desired = desiredSecret(this.owner, creds.keys, source);
      const written = this.ensure(observed.ownedSecret, desired);
      const from =
        creds.source === 'secret'
          ? `Secret ${creds.secretName}`
          : creds.source === 'staging'
            ? 'the archive staging store'
            : creds.source === 'spec'
              ? field
              : `${field} (moved earlier)`;
      const reason = creds.source === 'secret' ? 'FromSecret' : creds.source === 'staging' ? 'FromStagingStore' : 'MovedFromSpec';
      this.conditions.push(ok('CredentialsResolved', reason, `keys from ${from}, in Secret ${ownedName}`));
      if (creds.rawKeysInSpec && written) this.actions.push({ kind: 'stripSpecKeys', field: ds.spec.remote ? 'remote' : 'local' });
    }
    this.rawKeysCondition(creds);
  }

  /** Raw keys in the spec: where they went and what to do. */
  private rawKeysCondition(creds: Credentials): void {
    const { ds } = this;
    const field = ds.spec.remote ? 'spec.remote' : 'spec.local';
    const ownedName = credentialsSecretName(ds.metadata.name);
    if (creds.rawKeysInSpec || (creds.ok && creds.source === 'moved')) {
      const ns = ds.metadata.namespace;
      const message =
        creds.ok && creds.source === 'secret'
          ? `${field}.accessKeyID/secretAccessKey are ignored because secret-name is set; the operator removes them from the spec`
          : `${field}.accessKeyID/secretAccessKey were readable by anyone who can read Datasets in ${ns}; the operator moved them into Secret ${ownedName} and removes them from the spec: rotate the keys, put them in a Secret and set secret-name`;
      this.conditions.push(ok('RawKeysInSpec', 'MovedToSecret', message));
    }
  }

  /**
   * Whether the tenant's keys have shown they may list the Dataset's bucket/prefix at the agents'
   * upstream: this round's listing there, else the proof recorded for the same spec and location.
   */
  private upstreamAccessShown(resolved: NonNullable<DatasetStatus['resolved']>): boolean {
    const listing = this.observed.listing;
    if (listing) return listing.ok || (!listing.refused && this.provenBefore(resolved));
    return this.provenBefore(resolved);
  }

  private provenBefore(resolved: NonNullable<DatasetStatus['resolved']>): boolean {
    const { previous, ds } = this;
    const was = previous?.resolved;
    const before = previous?.conditions?.find((c) => c.type === 'CredentialsResolved');
    return (
      before?.status === 'True' &&
      before.reason === AGENT_ISSUED &&
      previous?.observedGeneration === ds.metadata.generation &&
      was?.bucket === resolved.bucket &&
      (was.prefix ?? '') === (resolved.prefix ?? '') &&
      was.endpoint === resolved.endpoint
    );
  }

  /**
   * A Dataset read through the agents: its Secret holds credentials derived from the agent key, not
   * the tenant's keys (the agents read upstream with their own). The agents would read any bucket
   * they can reach for whoever holds derived credentials, so these are issued only after the
   * tenant's own keys listed the bucket/prefix at the upstream directly (`proven`). They are kept
   * while that proof stands: a listing that fails for a transient reason (store down, timeout)
   * refutes nothing, and readers keep working; a refusal at the upstream, or keys that no longer
   * resolve, withdraw them (the Secret is deleted, so no new pod or mount gets them). True when issued.
   */
  private agentCredentials(creds: Credentials, direct: ObjectStoreLocation, proven: boolean): boolean {
    const { ds, observed, config } = this;
    const field = ds.spec.remote ? 'spec.remote' : 'spec.local';
    const ownedName = credentialsSecretName(ds.metadata.name);
    const fail = (reason: string, message: string, permanent: boolean, withdraw: boolean): false => {
      this.conditions.push(notOk('CredentialsResolved', reason, message));
      if (permanent) this.permanent = true;
      else this.transient = true;
      if (withdraw) this.withdrawOwnedSecret();
      return false;
    };
    if (!config.agent.upstream) {
      return fail(
        'NoAgentUpstream',
        `${ds.metadata.name} is read through the agents (${config.agent.url}) but the operator has no --agent-upstream: the administrator passes the agents' --upstream to the operator as --agent-upstream`,
        true,
        false,
      );
    }
    if (!creds.ok) return fail(creds.reason, creds.message, creds.permanent, true);
    if (creds.source === 'spec' || creds.source === 'moved') {
      return fail(
        'SecretNameRequired',
        `a Dataset read through the agents keeps its keys in a Secret of its own: put ${field}.accessKeyID/secretAccessKey in a Secret, set secret-name to it and remove them from the spec`,
        true,
        true,
      );
    }
    this.rawKeysCondition(creds);
    const from = creds.source === 'secret' ? `Secret ${creds.secretName}` : 'the archive staging store';
    const where = `s3://${direct.bucket}/${direct.prefix} at ${direct.endpoint}`;
    const listing = observed.listing;
    if (listing && !listing.ok && listing.refused) {
      return fail(
        'UpstreamAccessDenied',
        `the keys from ${from} may not list ${where} (${listing.message}): agent credentials are issued only for what the tenant's own keys can read; grant them s3:ListBucket and s3:GetObject there, or fix the Dataset`,
        false,
        true,
      );
    }
    if (!proven) {
      const why = listing && !listing.ok ? `: ${listing.message}` : '';
      return fail('WaitingForUpstreamListing', `agent credentials are issued once the keys from ${from} have listed ${where}${why}`, false, false);
    }
    if (observed.agentKey === undefined) {
      this.needs.push({ kind: 'agentKey' });
      return false;
    }
    if (!Buffer.isBuffer(observed.agentKey)) return fail('NoAgentKey', observed.agentKey.error, false, false);
    const derived = agentCredentials(observed.agentKey, this.owner.namespace, this.owner.name);
    const written = this.ensure(observed.ownedSecret, desiredSecret(this.owner, derived, AGENT_SOURCE));
    if (creds.rawKeysInSpec && written) this.actions.push({ kind: 'stripSpecKeys', field: ds.spec.remote ? 'remote' : 'local' });
    this.conditions.push(ok('CredentialsResolved', AGENT_ISSUED, `agent credentials in Secret ${ownedName}; the keys from ${from} listed ${where}`));
    return true;
  }

  /** Deletes the owned credentials Secret (agent credentials withdrawn). */
  private withdrawOwnedSecret(): void {
    const secret = this.observed.ownedSecret;
    if (secret && ownedBy(secret, this.owner.uid) && !isDeleting(secret)) this.actions.push({ kind: 'delete', target: idOf(secret) });
  }

  /**
   * Creates or updates one namespaced object; true when it already holds what is desired.
   * An object of that name the Dataset does not own is left alone, with a condition.
   */
  private ensure(current: KubeObject | null | undefined, desired: KubeObject): boolean {
    if (current === undefined) return false;
    if (current === null) {
      this.actions.push({ kind: 'create', object: desired });
      return false;
    }
    if (!ownedBy(current, this.owner.uid)) {
      this.conflict(desired);
      return false;
    }
    if (isDeleting(current)) return false;
    const updated = mergeInto(current, desired);
    if (updated === undefined) return true;
    this.actions.push({ kind: 'update', object: updated });
    return false;
  }

  private conflict(desired: KubeObject): void {
    const { kind } = desired;
    const name = desired.metadata.name;
    this.permanent = true;
    const { namespace, name: dataset } = this.owner;
    // A PersistentVolume is cluster-scoped: say so, and whose it is, rather than name a namespace it is not in.
    const message =
      kind === 'PersistentVolume'
        ? `PersistentVolume ${name} (cluster-scoped) exists and is not owned by Dataset ${namespace}/${dataset}${this.observed.pv?.metadata.annotations?.[DATASET_ANNOTATION] ? ` but by ${this.observed.pv.metadata.annotations[DATASET_ANNOTATION]}` : ''}: the cluster administrator must delete it so the operator can create its own`
        : `${kind} ${name} exists in namespace ${namespace} and is not owned by Dataset ${dataset}: delete or rename it so the operator can create its own`;
    this.conditions.push(notOk('Ready', 'NameTaken', message));
  }

  private catalog(resolved: NonNullable<DatasetStatus['resolved']>, creds: Credentials | undefined): CatalogStatus | undefined {
    const { observed, previous } = this;
    const listing = observed.listing;
    const was = previous?.resolved;
    const moved = was && (was.bucket !== resolved.bucket || (was.prefix ?? '') !== (resolved.prefix ?? '') || was.endpoint !== resolved.endpoint);
    const kept = moved ? undefined : previous?.catalog;
    if (listing?.ok) {
      const s = listing.summary;
      const catalog = { ...s, refreshedAt: observed.now };
      this.conditions.push(
        ok('CatalogListed', 'Listed', `${s.objectCount} objects, ${s.totalBytes} bytes: ${s.blockCount} blocks of ${s.blockSize} bytes (version ${s.version})`),
      );
      return catalog;
    }
    if (listing && !listing.ok) {
      this.transient = true;
      this.conditions.push(notOk('CatalogListed', 'ListFailed', kept ? `${listing.message} (keeping the catalog of ${kept.refreshedAt})` : listing.message));
      return kept;
    }
    const before = previous?.conditions?.find((c) => c.type === 'CatalogListed');
    if (before && kept) this.conditions.push({ type: 'CatalogListed', status: before.status, reason: before.reason, message: before.message });
    else if (creds && !creds.ok)
      this.conditions.push(notOk('CatalogListed', 'WaitingForCredentials', 'the bucket is listed once the credentials are resolved'));
    else this.conditions.push({ type: 'CatalogListed', status: 'Unknown', reason: 'NotListed', message: 'the bucket has not been listed yet' });
    return kept;
  }

  /** PV (NFS, HOST) and PVC; true when the PVC is bound. */
  private volume(storage: Storage): boolean {
    const { observed, owner, config } = this;
    const pvc = desiredPvc(owner, storage, config);
    const pv = desiredPv(owner, storage, config);
    if (pv && observed.pv !== undefined) {
      if (observed.pv === null) {
        if (this.directory(storage, false)) this.actions.push({ kind: 'create', object: pv });
      } else if (!pvOwnedBy(observed.pv, owner.uid)) this.conflict(pv);
      else {
        this.directory(storage, true);
        if (!isDeleting(observed.pv) && !sameSpec(observed.pv, pv, ['storageClassName', 'csi', 'hostPath', 'accessModes'])) this.replaceOutdated(observed.pv);
      }
    }
    const current = observed.pvc;
    if (current === undefined) return false;
    if (current === null) {
      this.actions.push({ kind: 'create', object: pvc });
      this.conditions.push(notOk('VolumeBound', 'Creating', `creating PVC ${pvc.metadata.name}`));
      this.transient = true;
      return false;
    }
    if (!ownedBy(current, owner.uid)) {
      this.conflict(pvc);
      return false;
    }
    const name = current.metadata.name;
    // From here on the PVC informer (and the events informer, for a Pending PVC) says when to look again.
    if (isDeleting(current)) {
      this.conditions.push(notOk('VolumeBound', 'Deleting', `PVC ${name} is being deleted (pods still use it); the operator recreates it once it is gone`));
      return false;
    }
    if (!sameSpec(current, pvc, ['storageClassName', 'accessModes', 'volumeName']) || !sameAnnotations(current, pvc)) {
      this.replaceOutdated(current);
      return false;
    }
    const phase = (current.status as { phase?: string } | undefined)?.phase ?? 'Pending';
    if (phase === 'Bound') {
      const volume = (current.spec as { volumeName?: string }).volumeName;
      this.conditions.push(ok('VolumeBound', 'Bound', `PVC ${name} is bound${volume ? ` to ${volume}` : ''}`));
      return true;
    }
    if (phase === 'Lost') {
      this.conditions.push(notOk('VolumeBound', 'Lost', `PVC ${name} lost its volume: delete the PVC and the operator recreates it`));
    } else {
      if (observed.pvcEvents === undefined && current.metadata.uid) this.needs.push({ kind: 'pvcEvents', pvcUid: current.metadata.uid });
      this.conditions.push(notOk('VolumeBound', 'Pending', `PVC ${name} is Pending: ${pendingCause(observed.pvcEvents ?? [], pvc)}`));
    }
    return false;
  }

  /** A PVC or PV made for an earlier spec: replaced when no pod uses the Dataset, else reported. */
  private replaceOutdated(current: KubeObject): void {
    const { kind } = current;
    const name = current.metadata.name;
    const pods = this.observed.pods;
    if (pods.length === 0) {
      this.actions.push({ kind: 'delete', target: idOf(current) });
      this.conditions.push(notOk('VolumeBound', 'Replacing', `${kind} ${name} was made for an earlier spec; replacing it`));
      this.transient = true;
    } else {
      this.conditions.push(
        notOk(
          'VolumeBound',
          'VolumeOutdated',
          `${kind} ${name} was made for an earlier spec and ${pods.length} pod(s) use it (${pods.slice(0, 3).join(', ')}): delete them and the operator replaces it`,
        ),
      );
    }
  }
}

/** The cause of a Pending PVC: its latest Warning event (else latest event), or what to check. */
function pendingCause(events: readonly KubeObject[], pvc: KubeObject): string {
  const time = (e: KubeObject) => String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '');
  const sorted = [...events].sort((a, b) => time(b).localeCompare(time(a)));
  const e = sorted.find((x) => x.type === 'Warning') ?? sorted[0];
  if (e) return `${String(e.reason)}: ${String(e.message)}`;
  const sc = (pvc.spec as { storageClassName?: string }).storageClassName;
  return sc
    ? `no events yet; check that StorageClass ${sc} exists and its provisioner is running`
    : 'no events yet; check that its PersistentVolume exists and is Available';
}

/**
 * Compares the fields the desired spec sets (a dynamically provisioned PVC gets its volumeName from
 * the binder), as the API server stores them: it drops empty strings and false (omitempty).
 */
function sameSpec(current: KubeObject, desired: KubeObject, fields: string[]): boolean {
  const a = (current.spec ?? {}) as Record<string, unknown>;
  const b = (desired.spec ?? {}) as Record<string, unknown>;
  return fields.every((f) => !(f in b) || stableJson(withoutEmpty(a[f])) === stableJson(withoutEmpty(b[f])));
}

function withoutEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutEmpty);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = withoutEmpty(x);
      if (y !== undefined) out[k] = y;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return v === '' || v === false || v === null ? undefined : v;
}

function sameAnnotations(current: KubeObject, desired: KubeObject): boolean {
  const have = current.metadata.annotations ?? {};
  return Object.entries(desired.metadata.annotations ?? {}).every(([k, v]) => have[k] === v);
}

/** The current object with the desired labels, annotations, owner and content; undefined when nothing differs. */
function mergeInto(current: KubeObject, desired: KubeObject): KubeObject | undefined {
  const meta = current.metadata;
  const labels = { ...meta.labels, ...desired.metadata.labels };
  const annotations = { ...meta.annotations, ...desired.metadata.annotations };
  const content: Record<string, unknown> = {};
  for (const key of ['data', 'type'] as const) if (desired[key] !== undefined) content[key] = desired[key];
  const same =
    stableJson(labels) === stableJson(meta.labels ?? {}) &&
    stableJson(annotations) === stableJson(meta.annotations ?? {}) &&
    Object.entries(content).every(([k, v]) => stableJson(current[k] ?? null) === stableJson(v));
  if (same) return undefined;
  return { ...current, ...content, metadata: { ...meta, labels, annotations } };
}

function buildStatus(
  raw: KubeObject,
  previous: DatasetStatus | undefined,
  observed: Observed,
  conditions: ConditionInput[],
  phase: Phase,
  extra: { catalog?: CatalogStatus; resolved?: DatasetStatus['resolved']; archive?: DatasetStatus['archive'] },
  podNameLimit = 20,
): DatasetStatus {
  const generation = raw.metadata.generation;
  const status: DatasetStatus = {
    phase,
    conditions: mergeConditions(previous?.conditions as Condition[] | undefined, dedupe(conditions), observed.now, generation),
    usage: { pods: observed.pods.length, podNames: [...observed.pods].sort().slice(0, podNameLimit) },
  };
  if (generation !== undefined) status.observedGeneration = generation;
  if (extra.resolved) status.resolved = extra.resolved;
  if (extra.catalog) status.catalog = extra.catalog;
  if (extra.archive) status.archive = extra.archive;
  return status;
}

/** One condition per type: the first said wins (Ready comes first and carries the first failure). */
function dedupe(conditions: ConditionInput[]): ConditionInput[] {
  const seen = new Set<string>();
  return conditions.filter((c) => (seen.has(c.type) ? false : (seen.add(c.type), true)));
}
