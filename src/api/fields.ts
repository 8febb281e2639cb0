// What the Dataset and NodeCache schemas share: the object-name field and the way a failed parse is
// told to a user.
import { z } from 'zod';
import { OBJECT_NAME, OBJECT_NAME_HINT } from './names.js';

/** A Kubernetes object name (RFC 1123 subdomain). */
export const objectName = z.string().regex(OBJECT_NAME, OBJECT_NAME_HINT);

/** `path.to.field: message; …`, the form every Locus validation error takes. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(object)'}: ${i.message}`).join('; ');
}
