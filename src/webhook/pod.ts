// The parts of a Pod the webhook reads or patches, validated loosely: every other field passes
// through untouched, because the patch is computed against the object exactly as received.
import { z } from 'zod';

const volumeMount = z.looseObject({ name: z.string(), mountPath: z.string() });
const envVar = z.looseObject({ name: z.string() });

const container = z.looseObject({
  name: z.string(),
  volumeMounts: z.array(volumeMount).nullish(),
  env: z.array(envVar).nullish(),
});

export const podSchema = z.looseObject({
  metadata: z
    .looseObject({
      name: z.string().optional(),
      generateName: z.string().nullish(),
      namespace: z.string().optional(),
      labels: z.record(z.string(), z.string()).nullish(),
      annotations: z.record(z.string(), z.string()).nullish(),
      ownerReferences: z
        .array(
          z.looseObject({
            apiVersion: z.string(),
            kind: z.string(),
            name: z.string(),
            uid: z.string(),
            controller: z.boolean().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
  spec: z
    .looseObject({
      volumes: z
        .array(
          z.looseObject({
            name: z.string(),
            persistentVolumeClaim: z.looseObject({ claimName: z.string(), readOnly: z.boolean().nullish() }).nullish(),
          }),
        )
        .nullish(),
      containers: z.array(container).nullish(),
      initContainers: z.array(container).nullish(),
      schedulerName: z.string().nullish(),
    })
    .nullish(),
});

export type Pod = z.infer<typeof podSchema>;
export type PodContainer = z.infer<typeof container>;
