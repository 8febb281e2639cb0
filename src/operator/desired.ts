// What should exist for a Dataset: pure functions from the Dataset (and its resolved storage and
// credentials) to the Secret, ConfigMap, PVC and PV objects, labelled and owned so that they go
// with it. The reconciler compares these with what exists.
import { KIND } from '../api/dataset.js';
import { API_VERSION } from '../api/group.js';
import { configMapName, credentialsSecretName, DATASET_ANNOTATION, OWNER_UID_LABEL, pvcName, pvName } from '../api/names.js';
import { configMapData, type Storage } from '../api/storage.js';
import type { KubeObject, ObjectMeta, OwnerReference } from '../kube/object.js';
import type { OperatorConfig } from './config.js';
import { CREDENTIALS_SOURCE_ANNOTATION, type Keys } from './credentials.js';
import { dirJob, nfsDirJobName, nfsDirName, nfsDirPath } from './nfs-dir.js';

/** The Dataset's identity, as the owned objects record it. */
export interface Owner {
  namespace: string;
  name: string;
  uid: string;
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'locus-operator' };

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
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(owner, configMapName(owner.name)), data: configMapData(storage) };
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
export function desiredPvc(owner: Owner, storage: Storage, config: OperatorConfig): KubeObject {
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
  // createDirPVC: the volume is the Dataset's own directory on the share (made before the PV, see nfs-dir.ts).
  const share =
    storage.kind === 'nfs' && storage.ownDirectory ? nfsDirPath(storage.share, nfsDirName(owner.name, owner.uid)) : storage.kind === 'nfs' ? storage.share : '';
  const source =
    storage.kind === 'nfs'
      ? {
          storageClassName: config.storageClassNfs,
          csi: {
            driver: config.nfsDriver,
            volumeHandle: `${storage.server}${share}#${owner.namespace}/${owner.name}`,
            volumeAttributes: { server: storage.server, share },
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

/** Job `<name>-mkdir` that makes an NFS Dataset's own directory on its share (createDirPVC), owned by the Dataset. */
export function desiredDirJob(owner: Owner, storage: Extract<Storage, { kind: 'nfs' }>, config: OperatorConfig): KubeObject {
  return dirJob(meta(owner, nfsDirJobName(owner.name)), {
    server: storage.server,
    share: storage.share,
    dir: nfsDirName(owner.name, owner.uid),
    image: config.nfsHelperImage,
  });
}
