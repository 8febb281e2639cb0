// Datashim's NFS `createDirPVC: "true"`: the Dataset gets a directory of its own on the share, made
// when the Dataset is, and its volume mounts that directory instead of the whole share. Datashim's
// own NFS driver makes it at mount time; with the standard NFS CSI driver the operator makes it
// first, with a one-off Job that mounts the share (the driver then only mounts what exists).
import type { KubeObject } from '../kube/object.js';

/** `<name>-<6 characters of the uid>`: unique per Dataset, as Datashim's `<name>-<6 of a uuid>` is per volume. */
export const nfsDirName = (name: string, uid: string): string => `${name}-${uid.replace(/-/g, '').slice(0, 6)}`;

/** The Job's name; object names may be 253 long, Job names end up in pod labels (63). */
export const nfsDirJobName = (name: string): string => `${name.slice(0, 52)}-mkdir`;

/** Where the Dataset's volume mounts: the directory on the share. */
export const nfsDirPath = (share: string, dir: string): string => `${share.replace(/\/+$/, '')}/${dir}`;

export interface DirJobInput {
  server: string;
  share: string;
  dir: string;
  image: string;
}

/** The Job, with the name, namespace, labels and owner the operator gives it in `metadata`. */
export function dirJob(metadata: KubeObject['metadata'], input: DirJobInput): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata,
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 300,
      template: {
        metadata: { labels: { 'app.kubernetes.io/managed-by': 'locus-operator' } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'mkdir',
              image: input.image,
              command: ['mkdir', '-p', `/share/${input.dir}`],
              volumeMounts: [{ name: 'share', mountPath: '/share' }],
              resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
            },
          ],
          volumes: [{ name: 'share', nfs: { server: input.server, path: input.share } }],
        },
      },
    },
  };
}

export type DirJobState = { state: 'running' } | { state: 'succeeded' } | { state: 'failed'; message: string };

/** How the Job stands, from its conditions and counts. */
export function dirJobState(job: KubeObject): DirJobState {
  const status = (job.status ?? {}) as { succeeded?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
  if ((status.succeeded ?? 0) > 0) return { state: 'succeeded' };
  const failed = status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { state: 'failed', message: `${failed.reason ?? 'Failed'}: ${failed.message ?? 'the Job failed'}` };
  return { state: 'running' };
}
