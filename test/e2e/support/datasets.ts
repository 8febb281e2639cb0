// Dataset objects for scenarios that need a catalog without an object store: the test writes
// status.catalog itself, in the shape the operator writes it (src/api/dataset.ts CatalogStatus).
import { create, mergePatch, remove, type Obj } from './api.js';
import { KIND, PLURAL, type CatalogStatus } from '../../../src/api/dataset.js';
import { API_VERSION } from '../../../src/api/group.js';

export const datasetPath = (namespace: string, name = '') => `/apis/${API_VERSION}/namespaces/${namespace}/${PLURAL}${name ? `/${name}` : ''}`;

export function s3Dataset(namespace: string, name: string): Obj {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace },
    spec: { local: { type: 'S3', endpoint: 'http://127.0.0.1:9', bucket: `${name}-bucket`, region: 'us-east-1', readonly: 'true' } },
  };
}

/** Creates a Dataset whose catalog has `blockCount` blocks of `blockSize` bytes, version `version`. */
export async function createListedDataset(namespace: string, name: string, blockCount: number, blockSize: number, version: string): Promise<void> {
  await create(datasetPath(namespace), s3Dataset(namespace, name));
  const catalog: CatalogStatus = {
    objectCount: blockCount,
    totalBytes: blockCount * blockSize,
    blockSize,
    blockCount,
    version,
    refreshedAt: new Date().toISOString(),
  };
  await mergePatch(`${datasetPath(namespace, name)}/status`, { status: { phase: 'Ready', catalog } });
}

export const deleteDataset = (namespace: string, name: string) => remove(datasetPath(namespace, name));
