// What the operator is told at start-up: storage classes to bind through, catalog timing, limits.
import { DEFAULT_AGENT_URL } from '../api/agent-endpoint.js';
import { DEFAULT_POLICY, type DatasetPolicy } from './policy.js';

/** Bounds on one archive staging: a download is untrusted input. */
export interface ArchiveLimits {
  /** Most bytes downloaded. */
  maxDownloadBytes: number;
  /** Most bytes written when extracting (a small gzip can hold a huge tar). */
  maxExtractedBytes: number;
  /** Most files extracted. */
  maxEntries: number;
  /** Whole staging, download and upload. */
  timeoutMs: number;
  /** Redirects followed (each must stay http/https). */
  maxRedirects: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxDownloadBytes: 10 * 1024 ** 3,
  maxExtractedBytes: 50 * 1024 ** 3,
  maxEntries: 1_000_000,
  timeoutMs: 60 * 60_000,
  maxRedirects: 5,
};

/** Where ARCHIVE Datasets that name no bucket of their own are staged (Datashim's `minio-conf` store). */
export interface ArchiveStore {
  endpoint: string;
  region: string;
  bucket: string;
  /** Put before `<namespace>/<name>/`; empty or ending in `/`. */
  prefix: string;
  /** The Secret with accessKeyID and secretAccessKey for the store, read by name. */
  secret: { namespace: string; name: string };
}

/** Datasets read through the node cache agents: the operator issues their agent credentials. */
export interface AgentConfig {
  /** The agents' advertised origin (their --advertise-url): a Dataset whose endpoint has it is read through them. */
  url: string;
  /** The object store the agents read (their --upstream): a tenant's keys must list the Dataset there first. */
  upstream?: string;
  /** The agent key file (Secret locus-agent-auth, first line current); read on every reconcile that needs it. */
  keyFile?: string;
  /**
   * Datasets at the agents' upstream are read through the agents unless they or their namespace say
   * otherwise (--read-through-default).
   */
  readThroughDefault?: boolean;
}

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
  archiveStore?: ArchiveStore;
  archiveLimits: ArchiveLimits;
  /** Archive stagings at once. */
  archiveConcurrency: number;
  /** Image of the Job that makes an NFS Dataset's own directory (createDirPVC): it runs `mkdir -p`. */
  nfsHelperImage: string;
  /** The administrator's policy on Dataset types, node paths, NFS exports and endpoints (--policy-file). */
  policy: DatasetPolicy;
  agent: AgentConfig;
}

export const DEFAULT_CONFIG: OperatorConfig = {
  storageClassS3: 'csi-s3',
  storageClassNfs: 'nfs',
  nfsDriver: 'nfs.csi.k8s.io',
  catalogIntervalMs: 10 * 60_000,
  podNameLimit: 20,
  volumeSize: '1Gi',
  archiveLimits: DEFAULT_ARCHIVE_LIMITS,
  archiveConcurrency: 2,
  nfsHelperImage: 'busybox:1.36',
  policy: DEFAULT_POLICY,
  agent: { url: DEFAULT_AGENT_URL },
};
