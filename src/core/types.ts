// Plain data shared by every part of Locus. Nothing here does I/O.
import type { Slice } from './slice.js';

/** A Dataset's identity: `<namespace>/<name>`. */
export type DatasetKey = string;

export const datasetKey = (namespace: string, name: string): DatasetKey => `${namespace}/${name}`;

export type UseAs = 'mount' | 'configmap';

/** One Dataset a pod reads, from its labels or its PVC volumes. */
export interface DatasetRef {
  namespace: string;
  name: string;
  useAs: UseAs[];
  /** Where the reference came from: the label index `i` of `dataset.<i>.id`, or `pvc` for a volume. */
  source: { kind: 'label'; index: number } | { kind: 'pvc'; volume: string };
  /** The part of the Dataset the pod reads, resolved against its catalog; absent means all of it. */
  slice?: Slice;
}

/** Something wrong in what a user wrote, with the place and the fix. */
export interface Problem {
  /** The label, annotation or field at fault, e.g. `dataset.0.useas`. */
  field: string;
  message: string;
}

/** What the index knows of a Dataset: from the operator's catalog in its status. */
export interface DatasetCatalog {
  key: DatasetKey;
  /** Total bytes; undefined when the size is not known yet (such datasets score neutral). */
  totalBytes?: number;
  /** Block size in bytes and block count of the catalog; absent when only totals are known. */
  blockSize?: number;
  blockCount?: number;
  /** Version of the key-ordered object listing that block indices refer to. */
  catalogVersion?: string;
  /** Top-level key prefixes and their blocks, in key order (a bounded list: see `prefixesTruncated`). */
  prefixes?: PrefixBlocks[];
  /** The Dataset has more top-level prefixes than the catalog records. */
  prefixesTruncated?: boolean;
}

/** A top-level key prefix (a partition, e.g. `date=2024-01-01/`) and the blocks [first, end) its objects fill. */
export interface PrefixBlocks {
  prefix: string;
  first: number;
  end: number;
}

/** A node's place in the topology, from its `topology.kubernetes.io/{zone,region}` labels. */
export interface NodeTopology {
  name: string;
  zone?: string;
  region?: string;
}

/** What one node caches of one Dataset, as its `NodeCache` status carries it (block set decoded). */
export interface DatasetInventory {
  dataset: DatasetKey;
  bytes: number;
  blockSize?: number;
  catalogVersion?: string;
  /** Sorted, distinct block indices; absent when only a byte count is reported. */
  blocks?: Uint32Array;
}

/** A full snapshot of one node's cache, as one write of its `NodeCache` status. */
export interface InventorySnapshot {
  node: string;
  /** New on every agent restart or cache wipe. */
  epoch: string;
  /** Increases with every write within an epoch. */
  seq: number;
  capacityBytes?: number;
  usedBytes?: number;
  datasets: DatasetInventory[];
}

export type ApplyOutcome =
  | { kind: 'applied'; reason: 'first' | 'newer-seq' | 'new-epoch' }
  | { kind: 'seen'; reason: string }
  | { kind: 'stale'; reason: string }
  | { kind: 'rejected'; reason: string };
