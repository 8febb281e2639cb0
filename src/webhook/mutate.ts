// The webhook's decision for one pod, as plain data: which Datasets it reads, the JSON Patch that
// wires them in (volumes, mounts, env, scheduler), warnings, or a denial. No I/O: the Datasets the
// pod names are looked up beforehand and passed in.
import { readThroughAgent } from '../api/agent-endpoint.js';
import { datasetRefsFromPod } from '../core/dataset-refs.js';
import type { Problem } from '../core/types.js';
import { SECRET_KEYS, configMapName, credentialsSecretName, mountPath as datasetMountPath, pvcName } from '../api/names.js';
import type { Pod, PodContainer } from './pod.js';

/** What the webhook needs to know of a Dataset that exists in the pod's namespace. */
export interface FoundDataset {
  name: string;
  /** Whether the operator keeps a `<name>-credentials` Secret for it (object-store types). */
  credentials: boolean;
  /** Mount read-only (`spec.local.readonly`). */
  readOnly: boolean;
  /** Whether the operator gives it a PVC (a type Locus does not support has none). */
  volume: boolean;
  /** Keys of its ConfigMap, which depend on the type (endpoint/bucket/… for object stores, server/share for NFS). */
  configKeys: readonly string[];
  /** Marked for deletion: its PVC, ConfigMap and Secret are about to go. */
  deleting: boolean;
  /**
   * The object store it names (resolved in status, else its spec's; '' none): whether pods read it
   * through the agents. Undefined until the operator resolved it (catalog entries, archives).
   */
  endpoint?: string;
  /**
   * Datashim's own switches, which its pods read as `<name>_readonly`, `_provision`, `_extract`,
   * `_remove-on-delete` (object stores); plain settings of the Dataset, never secret.
   */
  flags?: Readonly<Record<string, string>>;
}

export interface MutateOptions {
  /** Scheduler for pods that use Datasets and name the default one; undefined leaves it alone. */
  schedulerName?: string;
  /** Admit pods with malformed labels or missing Datasets, with a warning per problem. */
  allowMissing: boolean;
  /** The agents' advertised origin: which Datasets pods read through the agents (AWS_ENV_ANNOTATION). */
  agentUrl?: string;
  /**
   * The agents' hostPort (--agent-host-port): a `configmap` use of a Dataset read through the agents
   * gets the agent of the pod's own node, http://$(LOCUS_NODE_IP):<port>, as its endpoint, where the
   * agents' Service cannot keep reads on the node (no internalTrafficPolicy before Kubernetes 1.22).
   */
  agentHostPort?: number;
}

/** The variable holding the pod's node address (status.hostIP), which the agent endpoint names. */
export const NODE_IP_ENV = 'LOCUS_NODE_IP';

export interface PatchOp {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

export interface Mutation {
  patch: PatchOp[];
  warnings: string[];
  /** Set when the pod must be rejected: every problem, each naming its label and the fix. */
  denial?: string;
  /** The Datasets the pod uses, sorted (what the annotation lists). */
  datasets: string[];
  /** Per Dataset, what this patch did to the pod (for the audit Events); empty when nothing changed. */
  changes: Array<{ dataset: string; actions: string[] }>;
}

/** Lists the Datasets a pod uses, for people and audits (`kubectl get pod -o yaml`). */
export const DATASETS_ANNOTATION = 'locus.dev/datasets';
/**
 * `"true"` on a pod that reads exactly one Dataset through the agents, as `configmap`: it also gets
 * that Dataset's credentials as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the agents' address as
 * AWS_ENDPOINT_URL_S3, so S3 SDKs read through the agent unchanged. Asked for, not by default: the
 * keys replace whatever other AWS identity the pod has (a role, its own keys) for every service.
 */
export const AWS_ENV_ANNOTATION = 'locus.dev/aws-env';
const DEFAULT_SCHEDULER = 'default-scheduler';

/**
 * Names to look up before calling `mutatePod`: the Datasets the labels name, and the other PVC
 * claims (any of which may be a Dataset's PVC that the pod mounts itself).
 */
export function namesToLookUp(pod: Pod, namespace: string): { labelled: string[]; claims: string[] } {
  const labelled = datasetRefsFromPod(pod, { namespace }).refs.map((r) => r.name);
  const claims = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (claim && !labelled.includes(claim)) claims.add(claim);
  }
  return { labelled, claims: [...claims] };
}

/**
 * Decides what to do with `pod`, created in `namespace`, given the Datasets of that namespace among
 * `namesToLookUp(pod)` (`found`, by name). Applying the patch and calling this again yields no patch.
 */
export function mutatePod(pod: Pod, namespace: string, found: ReadonlyMap<string, FoundDataset>, opts: MutateOptions): Mutation {
  const { used, problems } = resolve(pod, namespace, found);
  const datasets = [...new Set(used.map((u) => u.ds.name))].sort();
  const warnings: string[] = [];
  if (problems.length > 0) {
    const text = problems.map((p) => `${p.field}: ${p.message}`);
    if (!opts.allowMissing) {
      return { patch: [], warnings: [], denial: text.join('; '), datasets, changes: [] };
    }
    warnings.push(...text.map((t) => `admitted without it: ${t}`));
  }

  const patch: PatchOp[] = [];
  const actions = new Map<string, string[]>(datasets.map((d) => [d, []]));
  const volumes = new ArrayAppender('/spec/volumes', pod.spec?.volumes);
  const containers = [
    ...(pod.spec?.initContainers ?? []).map((c, i) => ({ c, path: `/spec/initContainers/${i}` })),
    ...(pod.spec?.containers ?? []).map((c, i) => ({ c, path: `/spec/containers/${i}` })),
  ].map(({ c, path }) => ({
    c,
    mounts: new ArrayAppender(`${path}/volumeMounts`, c.volumeMounts),
    env: new ArrayAppender(`${path}/env`, c.env),
    /** Names the container has, or this patch gives it. */
    have: new Set((c.env ?? []).map((e) => e.name)),
  }));

  const sdkEnv = pod.metadata?.annotations?.[AWS_ENV_ANNOTATION] === 'true' ? sdkEnvDataset(used, opts.agentUrl, warnings) : undefined;
  for (const { ds, mount, env } of used) {
    const did = actions.get(ds.name)!;
    if (mount) {
      const claimName = pvcName(ds.name);
      const podVolumes = pod.spec?.volumes ?? [];
      // A volume named after the Dataset, or one on its PVC, means the pod mounts the Dataset itself:
      // as Datashim does, its volumes and mounts stay as written (read-only is added below).
      const existing = podVolumes.find((v) => v.name === ds.name) ?? podVolumes.find((v) => v.persistentVolumeClaim?.claimName === claimName);
      if (existing) {
        if (existing.persistentVolumeClaim?.claimName !== claimName) {
          warnings.push(
            `volume "${existing.name}" is not PVC "${claimName}" of the Dataset; the pod keeps it as written and Dataset "${ds.name}" is not mounted`,
          );
        }
      } else {
        volumes.push({ name: ds.name, persistentVolumeClaim: ds.readOnly ? { claimName, readOnly: true } : { claimName } });
        did.push(`added volume "${ds.name}" from PVC "${claimName}"${ds.readOnly ? ' read-only' : ''}`);
      }
      const mountPath = datasetMountPath(ds.name);
      const into = existing
        ? []
        : containers.filter(({ c }) => {
            const mounts = c.volumeMounts ?? [];
            if (mounts.some((m) => m.name === ds.name)) return false;
            const taken = mounts.find((m) => m.mountPath === mountPath);
            if (taken) warnings.push(`container ${c.name} mounts volume "${taken.name}" at ${mountPath}; Dataset "${ds.name}" is not mounted there`);
            return !taken;
          });
      for (const { mounts } of into) {
        // Read-only lives on the volume (as Datashim sets it), so it holds for every mount of it.
        mounts.push({ name: ds.name, mountPath });
      }
      if (into.length > 0) did.push(`mounted at ${mountPath} in ${containerList(into.map(({ c }) => c))}`);
    }
    if (env) {
      // The agent of the pod's own node, by its hostPort; else the address in the ConfigMap.
      const nodeAgent = opts.agentHostPort !== undefined && agentRead(ds, opts.agentUrl) ? `http://$(${NODE_IP_ENV}):${opts.agentHostPort}` : undefined;
      const vars = envFor(ds, nodeAgent);
      const sdkVars = ds === sdkEnv ? sdkEnvFor(ds, nodeAgent ?? opts.agentUrl!) : [];
      let added = 0;
      let sdkAdded = false;
      for (const { env: appender, have } of containers) {
        // All of the SDK's variables or none: a container's own key id beside this secret would not sign.
        const sdk = sdkVars.some((v) => have.has(v.name)) ? [] : sdkVars;
        sdkAdded ||= sdk.length > 0;
        for (const v of [...vars, ...sdk])
          if (!have.has(v.name)) {
            appender.push(v);
            have.add(v.name);
            added++;
          }
      }
      if (added > 0) {
        const sdk = sdkAdded ? ', AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_ENDPOINT_URL_S3 for the agents' : '';
        const node = nodeAgent ? `, endpoint ${nodeAgent} (the agent of the pod's node)` : '';
        did.push(
          `env ${ds.name}_*${sdk} from ConfigMap "${configMapName(ds.name)}"${ds.credentials ? ` and Secret "${credentialsSecretName(ds.name)}"` : ''}${node}`,
        );
      }
    }
  }
  for (const ds of new Set(used.map((u) => u.ds))) {
    if (!ds.readOnly) continue;
    const claimName = pvcName(ds.name);
    (pod.spec?.volumes ?? []).forEach((v, i) => {
      if (v.persistentVolumeClaim?.claimName !== claimName || v.persistentVolumeClaim.readOnly === true) return;
      // Datashim's place for it: every mount of a read-only PVC volume is then read-only.
      patch.push({ op: 'add', path: `/spec/volumes/${i}/persistentVolumeClaim/readOnly`, value: true });
      actions.get(ds.name)!.push(`volume "${v.name}" made read-only`);
    });
  }
  patch.push(...volumes.ops());
  for (const { mounts, env } of containers) patch.push(...mounts.ops(), ...env.ops());

  if (datasets.length > 0) {
    const value = datasets.join(',');
    const annotations = pod.metadata?.annotations;
    if (!annotations) {
      patch.push({ op: 'add', path: '/metadata/annotations', value: { [DATASETS_ANNOTATION]: value } });
    } else if (annotations[DATASETS_ANNOTATION] !== value) {
      patch.push({ op: 'add', path: `/metadata/annotations/${pointerEscape(DATASETS_ANNOTATION)}`, value });
    }
    const current = pod.spec?.schedulerName;
    if (opts.schedulerName && (!current || current === DEFAULT_SCHEDULER)) {
      patch.push({ op: current === undefined ? 'add' : 'replace', path: '/spec/schedulerName', value: opts.schedulerName });
      for (const did of actions.values()) did.push(`schedulerName set to ${opts.schedulerName}`);
    }
  }

  const changes = [...actions].filter(([, a]) => a.length > 0).map(([dataset, a]) => ({ dataset, actions: a }));
  return { patch, warnings, datasets, changes };
}

interface Use {
  ds: FoundDataset;
  mount: boolean;
  env: boolean;
}

/** The pod's references, checked against the Datasets found: what to wire in, and what is wrong. */
function resolve(pod: Pod, namespace: string, found: ReadonlyMap<string, FoundDataset>): { used: Use[]; problems: Problem[] } {
  const { refs, problems } = datasetRefsFromPod(pod, {
    namespace,
    isDataset: (ns, name) => ns === namespace && found.has(name),
  });
  const all: Problem[] = [...problems];
  const used: Use[] = [];
  for (const ref of refs) {
    const ds = found.get(ref.name);
    if (ref.source.kind === 'pvc') {
      // The pod mounts the Dataset's PVC itself: route it, but leave its volumes as written.
      if (ds) used.push({ ds, mount: false, env: false });
      continue;
    }
    const field = `dataset.${ref.source.index}.id`;
    if (!ds) {
      all.push({
        field,
        message: `label "${field}" names Dataset "${ref.name}", which does not exist in namespace "${namespace}"; create it there (kubectl get datasets -n ${namespace}) or correct the label`,
      });
      continue;
    }
    if (ds.deleting) {
      all.push({
        field,
        message: `label "${field}" names Dataset "${ds.name}", which is being deleted from namespace "${namespace}"; wait for it to go and create it again, or correct the label`,
      });
      continue;
    }
    const env = ref.useAs.includes('configmap');
    const mount = ref.useAs.includes('mount');
    if (mount && !ds.volume) {
      all.push({
        field: `dataset.${ref.source.index}.useas`,
        message: `Dataset "${ds.name}" has no volume to mount (its type is one Locus does not support, see its Ready condition); use "dataset.${ref.source.index}.useas: configmap", or change the Dataset's type`,
      });
      continue;
    }
    if (env && /^[0-9]/.test(ds.name)) {
      all.push({
        field: `dataset.${ref.source.index}.useas`,
        message: `Dataset "${ds.name}" starts with a digit, so "${ds.name}_endpoint" is no valid environment variable name; use "dataset.${ref.source.index}.useas: mount"`,
      });
      continue;
    }
    used.push({ ds, mount, env });
  }

  return { used, problems: all };
}

/**
 * The env a `configmap` use adds: ConfigMap keys by reference, credentials only by Secret reference.
 * `nodeAgent`: the endpoint is that address instead, after the node-address variable it expands.
 */
function envFor(ds: FoundDataset, nodeAgent?: string) {
  // Datashim calls the prefix `folder`: pods written for it read `<name>_folder`.
  const names = ds.configKeys.flatMap((key) =>
    key === 'prefix'
      ? [
          [key, key],
          ['folder', key],
        ]
      : [[key, key]],
  );
  const vars: Array<{ name: string; valueFrom?: object; value?: string }> = names.map(([env, key]) =>
    nodeAgent && key === 'endpoint'
      ? { name: `${ds.name}_${env}`, value: nodeAgent }
      : {
          name: `${ds.name}_${env}`,
          // Optional: a ConfigMap the operator has not written yet must not keep the container from starting.
          valueFrom: { configMapKeyRef: { name: configMapName(ds.name), key, optional: true } },
        },
  );
  // $(VAR) expands only variables defined before it in the container's env.
  if (nodeAgent) vars.unshift({ name: NODE_IP_ENV, valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
  for (const [flag, value] of Object.entries(ds.flags ?? {})) vars.push({ name: `${ds.name}_${flag}`, value });
  if (ds.credentials) {
    for (const key of SECRET_KEYS) {
      vars.push({ name: `${ds.name}_${key}`, valueFrom: { secretKeyRef: { name: credentialsSecretName(ds.name), key } } });
    }
  }
  return vars;
}

/**
 * The Dataset whose credentials an annotated pod gets as AWS_* variables: the one it reads through
 * the agents and uses as `configmap`. Otherwise none, with a warning saying why.
 */
function sdkEnvDataset(used: readonly Use[], agentUrl: string | undefined, warnings: string[]): FoundDataset | undefined {
  const viaAgents = [...new Set(used.map((u) => u.ds))].filter((ds) => agentRead(ds, agentUrl));
  const configmap = viaAgents.filter((ds) => used.some((u) => u.ds === ds && u.env));
  if (viaAgents.length === 1 && configmap.length === 1) return configmap[0];
  const why =
    viaAgents.length === 0
      ? 'it reads no Dataset through the agents (or one the operator has not resolved yet)'
      : viaAgents.length > 1
        ? `it reads ${viaAgents.length} Datasets through the agents (${viaAgents.map((d) => d.name).join(', ')}); use <name>_accessKeyID/_secretAccessKey per Dataset`
        : `it does not use Dataset "${viaAgents[0].name}" as configmap (dataset.N.useas: configmap)`;
  warnings.push(`${AWS_ENV_ANNOTATION}: no AWS_* variables added: ${why}`);
  return undefined;
}

/** Whether pods read the Dataset through the agents at `agentUrl` (its endpoint, or the operator's decision, is theirs). */
function agentRead(ds: FoundDataset, agentUrl: string | undefined): boolean {
  return agentUrl !== undefined && ds.credentials && ds.endpoint !== undefined && readThroughAgent(ds.endpoint, [agentUrl]);
}

/** The variables S3 SDKs read: the Dataset's agent credentials (by Secret reference) and the agents' address, for S3 only. */
function sdkEnvFor(ds: FoundDataset, agentUrl: string) {
  const secret = (key: (typeof SECRET_KEYS)[number]) => ({ secretKeyRef: { name: credentialsSecretName(ds.name), key } });
  return [
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: secret('accessKeyID') },
    { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: secret('secretAccessKey') },
    { name: 'AWS_ENDPOINT_URL_S3', value: agentUrl },
  ];
}

function containerList(cs: PodContainer[]): string {
  return cs.length === 1 ? `container ${cs[0].name}` : `containers ${cs.map((c) => c.name).join(', ')}`;
}

/** RFC 6901: `~` and `/` inside a JSON Pointer segment. */
const pointerEscape = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Appends items to an array that may not exist yet: one `add` of the whole array, or `add …/-` each. */
class ArrayAppender {
  private readonly items: unknown[] = [];
  constructor(
    private readonly path: string,
    private readonly existing: readonly unknown[] | null | undefined,
  ) {}

  push(item: unknown): void {
    this.items.push(item);
  }

  ops(): PatchOp[] {
    if (this.items.length === 0) return [];
    if (!this.existing) return [{ op: 'add', path: this.path, value: this.items }];
    return this.items.map((value) => ({ op: 'add', path: `${this.path}/-`, value }));
  }
}
