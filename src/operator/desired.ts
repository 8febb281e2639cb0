// What should exist for a Dataset: pure functions from the Dataset (and its resolved storage and
// credentials) to the Secret, ConfigMap, PVC and PV objects, labelled and owned so that they go
// with it. The reconciler compares these with what exists.
import { configMapName, credentialsSecretName, DATASET_ANNOTATION, OWNER_UID_LABEL, pvcName, pvName } from '../dataset/names.js';
import { API_VERSION, KIND, type LocalSpec } from '../dataset/schema.js';
import type { KubeObject, ObjectMeta, OwnerReference } from '../kube/object.js';
import type { OperatorConfig } from './config.js';
import { CREDENTIALS_SOURCE_ANNOTATION, type Keys } from './credentials.js';

/** Where an object-store Dataset's objects are. */
export interface ObjectStoreLocation {
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
}

export type Storage =
  | { kind: 'object-store'; location: ObjectStoreLocation; readonly: boolean }
  | { kind: 'nfs'; server: string; share: string; readonly: boolean }
  | { kind: 'host'; path: string; hostPathType: string; readonly: boolean }
  /** An ARCHIVE that names no bucket it is staged in: the operator cannot give it a volume. */
  | { kind: 'archive'; url: string; format: string; extract: string };

/** The Dataset's identity, as the owned objects record it. */
export interface Owner {
  namespace: string;
  name: string;
  uid: string;
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'locus-operator' };

/** Storage of a `spec.local`; object stores need their location resolved (for ARCHIVE: the staging bucket). */
export function localStorage(local: LocalSpec): Storage {
  const readonly = local.readonly === 'true';
  switch (local.type) {
    case 'NFS':
      return { kind: 'nfs', server: local.server ?? '', share: local.share ?? '', readonly };
    case 'HOST':
      return { kind: 'host', path: local.path ?? '', hostPathType: local.hostPathType === 'CreateNew' ? 'DirectoryOrCreate' : (local.hostPathType ?? ''), readonly };
    case 'ARCHIVE':
      if (local.bucket === undefined || local.endpoint === undefined) {
        return { kind: 'archive', url: local.url ?? '', format: local.format ?? '', extract: local.extract ?? 'false' };
      }
      return objectStore(local, readonly);
    default:
      return objectStore(local, readonly);
  }
}

function objectStore(local: LocalSpec, readonly: boolean): Storage {
  return { kind: 'object-store', location: { endpoint: local.endpoint ?? '', region: local.region ?? '', bucket: local.bucket ?? '', prefix: local.prefix ?? '' }, readonly };
}

export function ownerReference(owner: Owner): OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
}

function meta(owner: Owner, name: string, annotations: Record<string, string> = {}, namespaced = true): ObjectMeta {
  const m: ObjectMeta = {
    name,
    labels: { ...MANAGED_BY, [OWNER_UID_LABEL]: owner.uid },
    annotations: { [DATASET_ANNOTATION]: `${owner.namespace}/${owner.name}`, ...annotations },
  };
  // Cluster-scoped objects cannot be owned by a namespaced one: the finalizer removes those.
  if (namespaced) {
    m.namespace = owner.namespace;
    m.ownerReferences = [ownerReference(owner)];
  }
  return m;
}

/** ConfigMap `<name>`: where the data is, for pods that use the Dataset as a ConfigMap. Never keys. */
export function desiredConfigMap(owner: Owner, storage: Storage): KubeObject {
  let data: Record<string, string>;
  switch (storage.kind) {
    case 'object-store':
      data = { endpoint: storage.location.endpoint, bucket: storage.location.bucket, region: storage.location.region, prefix: storage.location.prefix };
      break;
    case 'nfs':
      data = { server: storage.server, share: storage.share };
      break;
    case 'host':
      data = { path: storage.path };
      break;
    case 'archive':
      data = { url: storage.url, format: storage.format, extract: storage.extract };
      break;
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(owner, configMapName(owner.name)), data };
}

/** Secret `<name>-credentials` with the object store's keys. */
export function desiredSecret(owner: Owner, keys: Keys, source: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(owner, credentialsSecretName(owner.name), { [CREDENTIALS_SOURCE_ANNOTATION]: source }),
    type: 'Opaque',
    data: {
      accessKeyID: Buffer.from(keys.accessKeyID, 'utf8').toString('base64'),
      secretAccessKey: Buffer.from(keys.secretAccessKey, 'utf8').toString('base64'),
    },
  };
}

const accessModes = (readonly: boolean): string[] => [readonly ? 'ReadOnlyMany' : 'ReadWriteMany'];

/** PVC `<name>`: dynamically provisioned by the S3 driver, or bound to the Dataset's own PV (NFS, HOST). */
export function desiredPvc(owner: Owner, storage: Storage, config: OperatorConfig): KubeObject | undefined {
  if (storage.kind === 'archive') return undefined;
  const resources = { requests: { storage: config.volumeSize } };
  if (storage.kind === 'object-store') {
    const loc = storage.location;
    // The S3 driver's StorageClass reads these through ${pvc.annotations['…']} and ${pvc.name}.
    const annotations = {
      'locus.dev/endpoint': loc.endpoint,
      'locus.dev/bucket': loc.bucket,
      'locus.dev/prefix': loc.prefix,
      'locus.dev/region': loc.region,
      'locus.dev/credentials-secret': credentialsSecretName(owner.name),
    };
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: meta(owner, pvcName(owner.name), annotations),
      spec: { accessModes: accessModes(storage.readonly), storageClassName: config.storageClassS3, resources },
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(owner, pvcName(owner.name)),
    spec: {
      accessModes: accessModes(storage.readonly),
      storageClassName: storage.kind === 'nfs' ? config.storageClassNfs : '',
      volumeName: pvName(owner.namespace, owner.name, owner.uid),
      resources,
    },
  };
}

/** PV for NFS (through the NFS CSI driver) and HOST (hostPath), reserved for the Dataset's PVC. */
export function desiredPv(owner: Owner, storage: Storage, config: OperatorConfig): KubeObject | undefined {
  if (storage.kind !== 'nfs' && storage.kind !== 'host') return undefined;
  const source = storage.kind === 'nfs'
    ? {
      storageClassName: config.storageClassNfs,
      csi: {
        driver: config.nfsDriver,
        volumeHandle: `${storage.server}${storage.share}#${owner.namespace}/${owner.name}`,
        volumeAttributes: { server: storage.server, share: storage.share },
        readOnly: storage.readonly,
      },
    }
    : { storageClassName: '', hostPath: storage.hostPathType ? { path: storage.path, type: storage.hostPathType } : { path: storage.path } };
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: meta(owner, pvName(owner.namespace, owner.name, owner.uid), {}, false),
    spec: {
      capacity: { storage: config.volumeSize },
      accessModes: accessModes(storage.readonly),
      // Retain: deleting a Dataset never deletes the data on the share or the node.
      persistentVolumeReclaimPolicy: 'Retain',
      claimRef: { namespace: owner.namespace, name: pvcName(owner.name) },
      ...source,
    },
  };
}
