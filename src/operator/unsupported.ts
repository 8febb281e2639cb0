// Datashim fields Locus accepts but does not carry out, and why: a Dataset that uses them says so in
// its status rather than having them silently dropped.
import type { Dataset } from '../api/dataset.js';
import { ok, type ConditionInput } from './conditions.js';

/** Why a Dataset type cannot work at all; undefined for the types Locus serves. */
export function unsupportedType(ds: Dataset): string | undefined {
  if (ds.spec.local?.type !== 'H3') return undefined;
  return (
    "spec.local.type H3 needs Datashim's H3 CSI driver, which Locus does not use: " +
    'put the data in an object store (type S3 or COS) or on an NFS share (type NFS)'
  );
}

/** The `Unsupported` condition listing the fields that are ignored; undefined when there are none. */
export function ignoredFields(ds: Dataset): ConditionInput | undefined {
  const why: string[] = [];
  const local = ds.spec.local;
  if (local?.removeOnDelete === 'true' || ds.metadata.labels?.['remove-on-delete'] === 'true') {
    why.push(
      `${local?.removeOnDelete === 'true' ? 'spec.local.removeOnDelete' : 'label remove-on-delete'}: Locus never deletes the bucket or its data when a Dataset goes; delete the bucket yourself`,
    );
  }
  if (ds.spec.remote?.mountAllowed === 'false') {
    why.push('spec.remote.mountAllowed "false": Locus gives every catalog entry a volume; pods that do not mount it never use it');
  }
  return why.length > 0 ? ok('Unsupported', 'FieldsIgnored', why.join('; ')) : undefined;
}
