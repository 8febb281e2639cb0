// The S3 REST API's XML bodies the agent sends: errors and ListObjectsV2 results.
import type { ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const el = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;

export function errorXml(code: string, message: string, resource: string, requestId: string): string {
  return `${DECLARATION}<Error>${el('Code', code)}${el('Message', message)}${el('Resource', resource)}${el('RequestId', requestId)}</Error>`;
}

export function listObjectsV2Xml(out: ListObjectsV2CommandOutput): string {
  const contents = (out.Contents ?? [])
    .map(
      (o) =>
        `<Contents>${el('Key', o.Key)}${el('LastModified', o.LastModified?.toISOString())}${el('ETag', o.ETag)}` +
        `${el('Size', o.Size)}${el('StorageClass', o.StorageClass ?? 'STANDARD')}` +
        `${o.Owner ? `<Owner>${el('ID', o.Owner.ID)}${el('DisplayName', o.Owner.DisplayName)}</Owner>` : ''}</Contents>`,
    )
    .join('');
  const prefixes = (out.CommonPrefixes ?? []).map((p) => `<CommonPrefixes>${el('Prefix', p.Prefix)}</CommonPrefixes>`).join('');
  return (
    `${DECLARATION}<ListBucketResult xmlns="${NS}">${el('Name', out.Name)}${el('Prefix', out.Prefix ?? '')}` +
    `${el('Delimiter', out.Delimiter)}${el('EncodingType', out.EncodingType)}${el('StartAfter', out.StartAfter)}` +
    `${el('ContinuationToken', out.ContinuationToken)}${el('NextContinuationToken', out.NextContinuationToken)}` +
    `${el('KeyCount', out.KeyCount ?? (out.Contents?.length ?? 0) + (out.CommonPrefixes?.length ?? 0))}` +
    `${el('MaxKeys', out.MaxKeys)}${el('IsTruncated', out.IsTruncated ?? false)}${contents}${prefixes}</ListBucketResult>`
  );
}
