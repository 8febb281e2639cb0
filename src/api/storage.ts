// What storage a Dataset is and what its ConfigMap tells pods: the mapping the operator builds the
// Dataset's objects from and the webhook points pods at, defined once so the two cannot drift.
import type { LocalSpec } from './dataset.js';

/** Where an object-store Dataset's objects are. */
export interface ObjectStoreLocation {
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
}

export type Storage =
  | { kind: 'object-store'; location: ObjectStoreLocation; readonly: boolean }
  /** `ownDirectory`: Datashim's createDirPVC, a directory of the Dataset's own on the share. */
  | { kind: 'nfs'; server: string; share: string; readonly: boolean; ownDirectory: boolean }
  | { kind: 'host'; path: string; hostPathType: string; readonly: boolean };

/**
 * Storage of a `spec.local`. An ARCHIVE is the object store it is staged in (the operator stages it
 * first, then treats it as that store); `readonly: "true"` and Datashim's `permissions: ReadOnly` both
 * make it read-only.
 */
export function localStorage(local: LocalSpec): Storage {
  const readonly = local.readonly === 'true' || local.permissions === 'ReadOnly';
  switch (local.type) {
    case 'NFS':
      return { kind: 'nfs', server: local.server ?? '', share: local.share ?? '', readonly, ownDirectory: local.createDirPVC === 'true' };
    case 'HOST':
      return {
        kind: 'host',
        path: local.path ?? '',
        hostPathType: local.hostPathType === 'CreateNew' ? 'DirectoryOrCreate' : (local.hostPathType ?? ''),
        readonly,
      };
    default:
      return { kind: 'object-store', location: objectStoreLocation(local), readonly };
  }
}

/** Endpoint, region, bucket and prefix; Datashim's `bucket: <bucket>/<folder>` is bucket and prefix `<folder>/`. */
export function objectStoreLocation(local: Pick<LocalSpec, 'endpoint' | 'region' | 'bucket' | 'prefix'>): ObjectStoreLocation {
  const [bucket, ...folder] = (local.bucket ?? '').split('/');
  const path = folder.join('/').replace(/^\/+|\/+$/g, '');
  return { endpoint: local.endpoint ?? '', region: local.region ?? '', bucket, prefix: local.prefix ?? (path ? `${path}/` : '') };
}

/** The data of the Dataset's ConfigMap: where the data is, never keys. Its keys are the env pods get. */
export function configMapData(storage: Storage): Record<string, string> {
  switch (storage.kind) {
    case 'object-store':
      return { endpoint: storage.location.endpoint, bucket: storage.location.bucket, region: storage.location.region, prefix: storage.location.prefix };
    case 'nfs':
      return { server: storage.server, share: storage.share };
    case 'host':
      return { path: storage.path };
  }
}
