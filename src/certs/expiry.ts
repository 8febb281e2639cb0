// When a certificate stops being valid, read from its PEM.
import { X509Certificate } from 'node:crypto';

export function notAfter(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}
