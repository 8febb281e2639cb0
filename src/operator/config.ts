// What the operator is told at start-up: storage classes to bind through, catalogue timing, limits.

export interface OperatorConfig {
  /** StorageClass of the S3 CSI driver, for COS, S3, staged ARCHIVE and catalog-entry Datasets. */
  storageClassS3: string;
  /** StorageClass of the NFS CSI driver; the operator creates a PV naming the Dataset's server and share. */
  storageClassNfs: string;
  /** CSI driver name put in NFS PersistentVolumes. */
  nfsDriver: string;
  /** Hive metastore used when spec.remote names no catalogURI. */
  hiveMetastore?: string;
  /** How often an object-store Dataset is listed again (it is also listed on every spec change). */
  catalogIntervalMs: number;
  /** Most pod names kept in status.usage.podNames (the count is always exact). */
  podNameLimit: number;
  /** Capacity requested by the PVCs (S3 and NFS drivers ignore it; Kubernetes requires one). */
  volumeSize: string;
}

export const DEFAULT_CONFIG: OperatorConfig = {
  storageClassS3: 'csi-s3',
  storageClassNfs: 'nfs',
  nfsDriver: 'nfs.csi.k8s.io',
  catalogIntervalMs: 10 * 60_000,
  podNameLimit: 20,
  volumeSize: '1Gi',
};
