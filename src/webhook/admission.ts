// AdmissionReview `admission.k8s.io/v1`: the request the API server sends and the answer it applies.
// Keys are camelCase, as captured from a real kube-apiserver (test/fixtures/admission/).
import { z } from 'zod';
import type { PatchOp } from './mutate.js';

const groupVersionKind = z.object({ group: z.string(), version: z.string(), kind: z.string() });

export const admissionReviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1', {
    error: 'apiVersion must be "admission.k8s.io/v1"; set admissionReviewVersions: ["v1"] in the MutatingWebhookConfiguration',
  }),
  kind: z.literal('AdmissionReview'),
  request: z.looseObject({
    uid: z.string().min(1),
    kind: groupVersionKind,
    name: z.string().optional(),
    namespace: z.string().optional(),
    operation: z.string(),
    object: z.unknown(),
    dryRun: z.boolean().nullish(),
  }),
});

export type AdmissionRequest = z.infer<typeof admissionReviewSchema>['request'];

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; reason: string; message: string };
}

export interface Verdict {
  patch?: PatchOp[];
  warnings?: string[];
  denial?: { code: number; reason: string; message: string };
}

/** The AdmissionReview answer for `uid`: key order as the API server's own types. */
export function admissionResponse(uid: string, verdict: Verdict) {
  const response: AdmissionResponse = { uid, allowed: verdict.denial === undefined };
  if (verdict.denial) response.status = verdict.denial;
  if (verdict.patch && verdict.patch.length > 0 && !verdict.denial) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(verdict.patch)).toString('base64');
  }
  if (verdict.warnings && verdict.warnings.length > 0) response.warnings = verdict.warnings;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** Parses the API server's `?timeout=` (a Go duration such as `10s`, `1m30s`, `500ms`) to ms. */
export function parseTimeout(value: string | undefined): number | undefined {
  if (!value || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}
