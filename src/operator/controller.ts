// The operator's I/O loop: informers feed a work queue of Dataset keys; each key is reconciled by
// reading what exists, looking up what `reconcile` says it needs (Secrets, PVC events, the catalog
// entry, the listing) until it can decide, and writing what it decided. Every write is conditional on
// what was read, so a conflict means "look again".
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { TableLocator } from '../catalog/hive.js';
import { summarise, type CatalogObject } from '../catalog/listing.js';
import { CatalogError, type S3Credentials, type S3Location } from '../catalog/s3.js';
import { datasetKey } from '../core/types.js';
import { configMapName, credentialsSecretName, FINALIZER, OWNER_UID_LABEL, pvcName, pvName } from '../api/names.js';
import { KIND } from '../api/dataset.js';
import type { KubeClient } from '../kube/client.js';
import { AlreadyExistsError, ConflictError } from '../kube/errors.js';
import { Informer } from '../kube/informer.js';
import type { KubeObject } from '../kube/object.js';
import {
  CONFIG_MAPS,
  DATASETS,
  JOBS,
  NAMESPACES,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  PODS,
  SECRETS,
  EVENTS,
  type ResourceType,
} from '../kube/resources.js';
import type { BackoffOptions } from '../kube/backoff.js';
import type { OperatorMetrics } from '../metrics/operator.js';
import { readAgentKey, watchAgentKey } from './agent-key.js';
import { ArchiveStager } from './archive-jobs.js';
import type { OperatorConfig } from './config.js';
import { secretValue } from './credentials.js';
import { ensureBucket } from './provision.js';
import { WorkQueue } from './queue.js';
import { READ_THROUGH_LABEL } from './read-through.js';
import { reconcile, type Action, type Need, type Observed, type ReconcileResult } from './reconcile.js';
import { stableJson } from './stable-json.js';
import { stripKeysPatch } from './strip-keys.js';
import { UsageIndex, type PodObject } from './usage.js';

export interface ControllerOptions {
  kc: KubeConfig;
  client: KubeClient;
  config: OperatorConfig;
  /** Watch one namespace only; default all. */
  namespace?: string;
  locator: TableLocator;
  /** Lists a bucket prefix (the S3 lister in production). */
  listObjects: (loc: S3Location, creds: S3Credentials) => Promise<CatalogObject[]>;
  metrics: OperatorMetrics;
  logger: Logger;
  workers?: number;
  backoff?: BackoffOptions;
  now?: () => Date;
  /** How often the agent key file is checked for a change (default 10 s). */
  agentKeyPollMs?: number;
}

const BY_KIND: Record<string, ResourceType> = {
  Secret: SECRETS,
  ConfigMap: CONFIG_MAPS,
  PersistentVolumeClaim: PERSISTENT_VOLUME_CLAIMS,
  PersistentVolume: PERSISTENT_VOLUMES,
  Job: JOBS,
};

const COMPONENT = 'locus-operator';
/** S3's answers that these keys may not list there: they refute a tenant's access, unlike a store that is down. */
const REFUSALS = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'AllAccessDisabled', 'NoSuchBucket']);
/** Lookups can depend on earlier ones (the listing on the catalog entry and the Secret): a bound on the chain. */
const MAX_LOOKUP_ROUNDS = 4;

export class DatasetController {
  readonly queue: WorkQueue;
  readonly usage: UsageIndex;
  private readonly informers: {
    datasets: Informer;
    pvcs: Informer;
    configMaps: Informer;
    pods: Informer<PodObject & KubeObject>;
    pvcEvents: Informer;
    namespaces: Informer;
  };
  private readonly now: () => Date;
  private workers: Promise<void>[] = [];
  private synced = false;
  /** ARCHIVE stagings run in this process; each change of one looks at its Dataset again. */
  private readonly stager: ArchiveStager;
  private unwatchAgentKey?: () => void;

  constructor(private readonly opts: ControllerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.queue = new WorkQueue({ backoff: opts.backoff });
    const { kc, client, namespace } = opts;
    const informer = <T extends KubeObject>(resource: ResourceType, labelSelector?: string, fieldSelector?: string) =>
      new Informer<T>(kc, client, {
        resource,
        namespace: resource.namespaced ? namespace : undefined,
        labelSelector,
        fieldSelector,
        onRestart: (err) => {
          opts.metrics.informerRestarts.inc({ resource: resource.plural });
          opts.logger.warn({ resource: resource.plural, err: (err as Error)?.message }, 'watch restarted');
        },
      });
    this.informers = {
      datasets: informer(DATASETS),
      pvcs: informer(PERSISTENT_VOLUME_CLAIMS, OWNER_UID_LABEL),
      configMaps: informer(CONFIG_MAPS, OWNER_UID_LABEL),
      pods: informer<PodObject & KubeObject>(PODS),
      // Why a PVC is Pending: its events (a PVC is named after its Dataset).
      pvcEvents: informer(EVENTS, undefined, 'involvedObject.kind=PersistentVolumeClaim'),
      // The read-through default a namespace's label sets for its Datasets (transparent caching).
      namespaces: informer(NAMESPACES, undefined, namespace ? `metadata.name=${namespace}` : undefined),
    };
    this.usage = new UsageIndex((ns, name) => this.informers.datasets.get({ namespace: ns, name }) !== undefined);
    this.stager = new ArchiveStager({
      limits: opts.config.archiveLimits,
      concurrency: opts.config.archiveConcurrency,
      onChange: (key) => this.queue.add(key),
      now: this.now,
    });
    this.wire();
  }

  /** Starts the informers, waits until they have listed, then starts the workers. */
  async start(): Promise<void> {
    const all = Object.values(this.informers);
    all.forEach((i) => i.start());
    await Promise.all(all.map((i) => i.waitForSync()));
    this.synced = true;
    this.workers = Array.from({ length: this.opts.workers ?? 2 }, () => this.work());
    const { keyFile } = this.opts.config.agent;
    // A new key (rotation, or the Secret mounted late) rewrites every agent-read Dataset's Secret now.
    if (keyFile) {
      this.unwatchAgentKey = watchAgentKey(keyFile, this.opts.agentKeyPollMs ?? 10_000, () => {
        this.opts.logger.info({ file: keyFile }, 'agent key changed, reconciling every Dataset');
        for (const ds of this.informers.datasets.list()) this.queue.add(datasetKey(ds.metadata.namespace ?? '', ds.metadata.name ?? ''));
      });
    }
  }

  ready(): boolean {
    return this.synced;
  }

  /** Pods per existing Dataset (labels may name Datasets that do not exist; those are the webhook's to refuse). */
  podsPerDataset(): Map<string, number> {
    const counts = this.usage.counts();
    for (const key of counts.keys()) {
      const [namespace, name] = key.split('/');
      if (!this.informers.datasets.get({ namespace, name })) counts.delete(key);
    }
    return counts;
  }

  async stop(): Promise<void> {
    this.unwatchAgentKey?.();
    this.stager.stop();
    this.queue.shutDown();
    await Promise.all(Object.values(this.informers).map((i) => i.stop()));
    await Promise.all(this.workers);
  }

  private wire(): void {
    const { datasets, pvcs, configMaps, pods, pvcEvents, namespaces } = this.informers;
    const enqueue = (o: KubeObject) => this.queue.add(datasetKey(o.metadata.namespace ?? '', o.metadata.name ?? ''));
    datasets.on('add', (ds) => {
      enqueue(ds);
      // Pods created before their Dataset reference it by PVC only once it exists.
      for (const pod of pods.list(ds.metadata.namespace)) this.podChanged(pod);
    });
    datasets.on('update', (ds, old) => {
      // Status writes (ours) change neither generation nor metadata we act on.
      if (old && old.metadata.generation === ds.metadata.generation && sameMeta(old, ds)) return;
      enqueue(ds);
    });
    datasets.on('delete', (ds) => {
      this.stager.cancel(datasetKey(ds.metadata.namespace ?? '', ds.metadata.name ?? ''));
      for (const pod of pods.list(ds.metadata.namespace)) this.podChanged(pod);
    });
    const owned = (o: KubeObject) => {
      const ref = o.metadata.ownerReferences?.find((r) => r.kind === KIND);
      if (ref) this.queue.add(datasetKey(o.metadata.namespace ?? '', ref.name));
    };
    for (const inf of [pvcs, configMaps]) {
      inf.on('add', owned).on('update', owned).on('delete', owned);
    }
    const aboutPvc = (e: KubeObject) => {
      const about = e.involvedObject as { namespace?: string; name?: string } | undefined;
      if (about?.name && datasets.get({ namespace: about.namespace, name: about.name })) this.queue.add(datasetKey(about.namespace ?? '', about.name));
    };
    pvcEvents.on('add', aboutPvc).on('update', aboutPvc);
    // A namespace's read-through label changed: each of its Datasets decides again.
    namespaces.on('update', (ns, old) => {
      if (old?.metadata.labels?.[READ_THROUGH_LABEL] === ns.metadata.labels?.[READ_THROUGH_LABEL]) return;
      for (const ds of datasets.list(ns.metadata.name)) enqueue(ds);
    });
    pods.on('add', (p) => this.podChanged(p)).on('update', (p) => this.podChanged(p));
    pods.on('delete', (p) => {
      for (const key of this.usage.deletePod(p)) this.queue.add(key);
    });
  }

  private podChanged(pod: PodObject): void {
    for (const key of this.usage.setPod(pod)) this.queue.add(key);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const end = this.opts.metrics.reconcileDuration.startTimer();
      try {
        const outcome = await this.reconcileKey(key);
        this.opts.metrics.reconciles.inc({ result: outcome });
      } catch (err) {
        const conflict = err instanceof ConflictError || err instanceof AlreadyExistsError;
        this.opts.metrics.reconciles.inc({ result: conflict ? 'conflict' : 'error' });
        const delay = this.queue.addRateLimited(key);
        const log = conflict ? this.opts.logger.debug.bind(this.opts.logger) : this.opts.logger.warn.bind(this.opts.logger);
        log({ dataset: key, err: (err as Error).message, retryInMs: delay }, conflict ? 'write conflict, looking again' : 'reconcile failed');
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }

  /** One reconcile of one key; returns the metrics outcome. */
  async reconcileKey(key: string): Promise<'ok' | 'requeue'> {
    const [namespace, name] = key.split('/');
    const { client } = this.opts;
    const raw = await client.get<KubeObject>(DATASETS, { namespace, name });
    if (!raw) {
      this.queue.forget(key);
      return 'ok';
    }
    const observed = await this.observe(raw);
    let result = reconcile(raw, observed, this.opts.config);
    // Each lookup fills a field reconcile then sees as looked up, so it asks for fewer each time.
    for (let round = 1; result.needs.length > 0; round++) {
      if (round > MAX_LOOKUP_ROUNDS) throw new Error(`reconcile still needs ${result.needs.map((n) => n.kind).join(', ')} after ${MAX_LOOKUP_ROUNDS} rounds`);
      for (const need of result.needs) await this.lookUp(raw, need, observed);
      result = reconcile(raw, observed, this.opts.config);
    }
    const acted = await this.execute(raw, result);
    return this.schedule(key, result, acted);
  }

  /** What every round reads: the objects the operator owns for the Dataset, and the pods that use it. */
  private async observe(raw: KubeObject): Promise<Observed> {
    const { client } = this.opts;
    const namespace = raw.metadata.namespace ?? '';
    const name = raw.metadata.name ?? '';
    const get = async (res: ResourceType, n: string) => (await client.get<KubeObject>(res, { namespace, name: n })) ?? null;
    return {
      now: this.now()
        .toISOString()
        .replace(/\.\d+Z$/, 'Z'),
      pods: this.usage.pods(datasetKey(namespace, name)),
      ownedSecret: await get(SECRETS, credentialsSecretName(name)),
      configMap: await get(CONFIG_MAPS, configMapName(name)),
      pvc: await get(PERSISTENT_VOLUME_CLAIMS, pvcName(name)),
      pv: await get(PERSISTENT_VOLUMES, pvName(namespace, name, raw.metadata.uid ?? '')),
    };
  }

  /** Performs one lookup reconcile asked for, into `observed`; a failed catalog lookup is recorded, not thrown. */
  private async lookUp(raw: KubeObject, need: Need, observed: Observed): Promise<void> {
    const { client, metrics } = this.opts;
    const namespace = raw.metadata.namespace ?? '';
    switch (need.kind) {
      case 'userSecret':
        observed.userSecret = (await client.get<KubeObject>(SECRETS, { namespace, name: need.name })) ?? null;
        return;
      case 'pvcEvents':
        observed.pvcEvents = this.informers.pvcEvents.list(namespace).filter((e) => (e.involvedObject as { uid?: string } | undefined)?.uid === need.pvcUid);
        return;
      case 'remote':
        try {
          observed.remote = { ok: true, ...(await this.opts.locator.locate(need.uri, need.table)) };
          metrics.catalogRefreshes.inc({ kind: 'hive', result: 'ok' });
        } catch (err) {
          observed.remote = { ok: false, message: (err as Error).message };
          // The status gets one message for every failure (see catalog/hive.ts); the log gets the cause.
          this.opts.logger.info({ dataset: `${namespace}/${raw.metadata.name}`, err: (err as Error).cause ?? err }, 'catalog lookup failed');
          metrics.catalogRefreshes.inc({ kind: 'hive', result: 'failed' });
        }
        return;
      case 'listing':
        try {
          const { endpoint, region, bucket, prefix } = need.location;
          const objects = await this.opts.listObjects({ endpoint, region, bucket, prefix }, need.keys);
          observed.listing = { ok: true, summary: summarise(objects, need.blockSize, prefix ?? '') };
          metrics.catalogRefreshes.inc({ kind: 's3', result: 'ok' });
        } catch (err) {
          observed.listing = { ok: false, message: (err as Error).message, refused: err instanceof CatalogError && REFUSALS.has(err.code) };
          this.opts.logger.info({ dataset: `${namespace}/${raw.metadata.name}`, err: (err as Error).cause ?? err }, 'catalog listing failed');
          metrics.catalogRefreshes.inc({ kind: 's3', result: 'failed' });
        }
        return;
      case 'archiveKeys':
        observed.archiveKeys = await this.stagingKeys();
        return;
      case 'archive':
        observed.archive = this.stager.observe(datasetKey(namespace, raw.metadata.name ?? ''), need.plan, need.keys);
        return;
      case 'provision':
        observed.provisioned = await ensureBucket(need.location, need.keys);
        return;
      case 'dirJob':
        observed.dirJob = (await client.get<KubeObject>(JOBS, { namespace, name: need.name })) ?? null;
        return;
      case 'agentKey':
        observed.agentKey = await readAgentKey(this.opts.config.agent.keyFile);
        return;
      case 'namespaceLabels':
        observed.namespaceLabels = this.informers.namespaces.get({ name: namespace })?.metadata.labels ?? {};
        return;
    }
  }

  /** The keys of the archive staging store (--archive-secret), read by name like every Secret the operator reads. */
  private async stagingKeys(): Promise<Observed['archiveKeys']> {
    const ref = this.opts.config.archiveStore?.secret;
    if (!ref) return { error: 'the operator has no --archive-secret' };
    const secret = await this.opts.client.get<KubeObject>(SECRETS, ref);
    const keys = secret && { accessKeyID: secretValue(secret, 'accessKeyID'), secretAccessKey: secretValue(secret, 'secretAccessKey') };
    if (!keys?.accessKeyID || !keys.secretAccessKey) {
      return {
        error: `Secret ${ref.namespace}/${ref.name} (--archive-secret) ${secret ? 'lacks accessKeyID or secretAccessKey' : 'does not exist'}: the administrator must create it with both keys of the staging store`,
      };
    }
    return { accessKeyID: keys.accessKeyID, secretAccessKey: keys.secretAccessKey };
  }

  /** Performs the actions in order (stopping at the first failure), then records the status. True when it wrote anything. */
  private async execute(raw: KubeObject, result: ReconcileResult): Promise<boolean> {
    const { client, logger } = this.opts;
    const ref = { namespace: raw.metadata.namespace, name: raw.metadata.name };
    let current = raw;
    for (const action of result.actions) {
      logger.debug({ dataset: `${ref.namespace}/${ref.name}`, action: describe(action) }, 'reconcile action');
      current = await this.perform(current, action);
    }
    let wrote = result.actions.length > 0;
    if (result.status && current.metadata.deletionTimestamp === undefined && stableJson(current.status) !== stableJson(result.status)) {
      await client.replaceStatus(DATASETS, { ...current, status: result.status });
      wrote = true;
    }
    return wrote;
  }

  private async perform(current: KubeObject, action: Action): Promise<KubeObject> {
    const { client } = this.opts;
    const ref = { namespace: current.metadata.namespace, name: current.metadata.name };
    const finalizers = current.metadata.finalizers ?? [];
    switch (action.kind) {
      case 'addFinalizer':
        return client.mergePatch(DATASETS, ref, { metadata: { resourceVersion: current.metadata.resourceVersion, finalizers: [...finalizers, FINALIZER] } });
      case 'removeFinalizer':
        return client.mergePatch(DATASETS, ref, {
          metadata: { resourceVersion: current.metadata.resourceVersion, finalizers: finalizers.filter((f) => f !== FINALIZER) },
        });
      case 'create':
        await client.create(BY_KIND[action.object.kind ?? ''], action.object);
        return current;
      case 'update':
        await client.replace(BY_KIND[action.object.kind ?? ''], action.object);
        return current;
      case 'delete':
        await client.delete(BY_KIND[action.target.kind], action.target, { preconditions: action.target.uid ? { uid: action.target.uid } : undefined });
        return current;
      case 'stripSpecKeys': {
        const patched = await client.mergePatch(DATASETS, ref, stripKeysPatch(current, action.field));
        await client.createEvent({
          regarding: patched,
          type: 'Warning',
          reason: 'RawKeysMoved',
          message: `spec.${action.field}.accessKeyID/secretAccessKey moved into Secret ${credentialsSecretName(ref.name ?? '')}; rotate them and use secret-name`,
          component: COMPONENT,
        });
        return patched;
      }
    }
  }

  /** The result decides when to look again; any write means "look again soon" to see its effect. */
  private schedule(key: string, result: ReconcileResult, wrote: boolean): 'ok' | 'requeue' {
    if (result.requeue === 'backoff' || wrote) {
      this.queue.addRateLimited(key);
      return 'requeue';
    }
    this.queue.forget(key);
    if (result.requeue) this.queue.addAfter(key, result.requeue.afterMs);
    return 'ok';
  }
}

function describe(a: Action): string {
  switch (a.kind) {
    case 'create':
    case 'update':
      return `${a.kind} ${a.object.kind} ${a.object.metadata.name}`;
    case 'delete':
      return `delete ${a.target.kind} ${a.target.name}`;
    default:
      return a.kind;
  }
}

function sameMeta(a: KubeObject, b: KubeObject): boolean {
  return stableJson(a.metadata.finalizers) === stableJson(b.metadata.finalizers) && a.metadata.deletionTimestamp === b.metadata.deletionTimestamp;
}
