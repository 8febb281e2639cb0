// The administrator's policy on what a Dataset may reach: which types each namespace may use, which
// node paths and NFS exports, which endpoints. A tenant who may create a Dataset must not get a
// hostPath or another tenant's NFS export behind a PVC (Pod Security checks pod specs, not PVs), nor
// make the operator connect to the node's metadata service. Loaded from --policy-file (a ConfigMap).
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { DATASET_TYPES, type Dataset } from '../api/dataset.js';

/** What a Dataset's spec names, as the policy sees it: spec.remote is type CatalogEntry. */
export const POLICY_TYPES = [...DATASET_TYPES, 'CatalogEntry'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

const NamespaceRules = z
  .object({
    types: z.array(z.enum(POLICY_TYPES)).optional(),
    hostPaths: z.array(z.string().regex(/^\//, 'must be an absolute path')).optional(),
    nfs: z.array(z.object({ server: z.string().min(1), exports: z.array(z.string().regex(/^\//, 'must be an absolute path')).min(1) }).strict()).optional(),
  })
  .strict();

const PolicyFile = z
  .object({
    /** Per namespace; "*" applies to namespaces not listed. */
    namespaces: z.record(z.string(), NamespaceRules).optional(),
    endpoints: z
      .object({
        /** Host names (exact, or ".suffix"), addresses and CIDRs; empty: any endpoint not denied. */
        allow: z.array(z.string().min(1)).optional(),
        deny: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type PolicyFile = z.infer<typeof PolicyFile>;

export interface NamespacePolicy {
  types: readonly PolicyType[];
  hostPaths: readonly string[];
  nfs: ReadonlyArray<{ server: string; exports: readonly string[] }>;
}

export interface DatasetPolicy {
  namespaces: Readonly<Record<string, NamespacePolicy>>;
  allow: readonly string[];
  deny: readonly string[];
}

/** Without a policy file: object stores and catalog entries everywhere; HOST and NFS nowhere. */
export const DEFAULT_TYPES: readonly PolicyType[] = ['COS', 'S3', 'ARCHIVE', 'CatalogEntry'];
export const DEFAULT_POLICY: DatasetPolicy = {
  namespaces: { '*': { types: DEFAULT_TYPES, hostPaths: [], nfs: [] } },
  allow: [],
  deny: [],
};

/**
 * Cloud metadata and link-local addresses, denied whatever the policy says: they hand out the
 * node's credentials (AWS, GCP, Azure, Alibaba, OpenStack all answer on 169.254.169.254 or these).
 */
const ALWAYS_DENIED = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32'];
const ALWAYS_DENIED_NAMES = ['metadata', 'metadata.google.internal', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.internal'];

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** Reads a policy file (YAML or JSON); every mistake names the field. */
export function parsePolicy(text: string, source: string): DatasetPolicy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PolicyError(`${source}: not YAML/JSON: ${(err as Error).message}`);
  }
  const parsed = PolicyFile.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new PolicyError(`${source}: ${problems}`);
  }
  const file = parsed.data;
  const namespaces: Record<string, NamespacePolicy> = { ...DEFAULT_POLICY.namespaces };
  for (const [ns, rules] of Object.entries(file.namespaces ?? {})) {
    for (const p of [...(rules.hostPaths ?? []), ...(rules.nfs ?? []).flatMap((n) => n.exports)]) {
      if (!isNormal(p)) throw new PolicyError(`${source}: namespaces.${ns}: path "${p}" is not normalised (no ".", ".." or "//" segments, no trailing "/")`);
    }
    namespaces[ns] = { types: rules.types ?? DEFAULT_TYPES, hostPaths: rules.hostPaths ?? [], nfs: rules.nfs ?? [] };
  }
  const endpoints = file.endpoints ?? {};
  for (const entry of [...(endpoints.allow ?? []), ...(endpoints.deny ?? [])]) {
    if (entry.includes('/') && !parseCidr(entry)) throw new PolicyError(`${source}: endpoints: "${entry}" is not an address, CIDR or host name`);
  }
  return { namespaces, allow: endpoints.allow ?? [], deny: endpoints.deny ?? [] };
}

/** A refusal: the rule that refused, and a message naming it and what to ask the administrator for. */
export interface PolicyDenial {
  rule: string;
  message: string;
}

export function namespacePolicy(policy: DatasetPolicy, namespace: string): NamespacePolicy {
  return policy.namespaces[namespace] ?? policy.namespaces['*'] ?? DEFAULT_POLICY.namespaces['*'];
}

/** The first rule the Dataset breaks, or undefined when the policy allows it. */
export function policyDenial(ds: Dataset, policy: DatasetPolicy): PolicyDenial | undefined {
  const namespace = ds.metadata.namespace ?? '';
  const rules = namespacePolicy(policy, namespace);
  const scope = policy.namespaces[namespace] ? `namespaces.${namespace}` : 'namespaces.*';
  const type: PolicyType = ds.spec.remote ? 'CatalogEntry' : (ds.spec.local?.type ?? (ds.spec.type === 'ARCHIVE' ? 'ARCHIVE' : 'S3'));
  if (!rules.types.includes(type)) {
    return deny(
      `${scope}.types`,
      `type ${type} is not allowed in namespace ${namespace} (allowed: ${rules.types.join(', ') || 'none'}); ask the cluster administrator to add it to the operator's policy`,
    );
  }
  const local = ds.spec.local;
  if (type === 'HOST' && local?.path !== undefined) {
    const path = local.path;
    if (!isNormal(path))
      return deny(
        `${scope}.hostPaths`,
        `spec.local.path "${path}" is not a normalised absolute path (no ".", ".." or "//" segments): write it as ${posix.normalize(path)}`,
      );
    if (!rules.hostPaths.some((p) => under(path, p))) {
      return deny(
        `${scope}.hostPaths`,
        `spec.local.path ${path} is not under a node path allowed in namespace ${namespace} (${rules.hostPaths.join(', ') || 'none'})`,
      );
    }
  }
  if (type === 'NFS' && local?.server !== undefined && local.share !== undefined) {
    const { server, share } = local;
    if (!isNormal(share)) return deny(`${scope}.nfs`, `spec.local.share "${share}" is not a normalised absolute path: write it as ${posix.normalize(share)}`);
    const allowed = rules.nfs.some((n) => n.server.toLowerCase() === server.toLowerCase() && n.exports.some((e) => under(share, e)));
    if (!allowed) {
      const list = rules.nfs.map((n) => `${n.server}:{${n.exports.join(',')}}`).join(', ') || 'none';
      return deny(`${scope}.nfs`, `NFS export ${server}:${share} is not allowed in namespace ${namespace} (allowed: ${list})`);
    }
    const hostDenied = hostDenial(server, policy);
    if (hostDenied) return deny(hostDenied.rule, `spec.local.server ${server}: ${hostDenied.message}`);
  }
  for (const [field, url] of endpointsOf(ds)) {
    const host = hostOf(url);
    if (host === undefined) continue; // the schema refuses malformed URLs
    const d = hostDenial(host, policy);
    if (d) return deny(d.rule, `${field} ${url}: ${d.message}`);
  }
  return undefined;
}

const deny = (rule: string, message: string): PolicyDenial => ({ rule, message: `policy rule ${rule}: ${message}` });

/** Every address the operator would connect to for this Dataset. */
function endpointsOf(ds: Dataset): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const { local, remote } = ds.spec;
  if (local?.endpoint) out.push(['spec.local.endpoint', local.endpoint]);
  if (local?.url) out.push(['spec.local.url', local.url]);
  if (ds.spec.url) out.push(['spec.url', ds.spec.url]);
  if (remote?.endpoint) out.push(['spec.remote.endpoint', remote.endpoint]);
  if (remote?.catalogURI) out.push(['spec.remote.catalogURI', remote.catalogURI]);
  return out;
}

/**
 * The host of a URL as a connection would use it: the WHATWG parser turns `http://2852039166/`
 * and `http://0xa9.254.169.254/` into 169.254.169.254, so the checks see what is dialled.
 */
export function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url.replace(/^thrift:\/\//, 'http://'));
    return u.hostname
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '')
      .toLowerCase();
  } catch {
    return undefined;
  }
}

/** Why the operator must not connect to `host` (a name or an address), or undefined. */
export function hostDenial(host: string, policy: DatasetPolicy): { rule: string; message: string } | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  const address = unmapped(h);
  if (ALWAYS_DENIED_NAMES.includes(h) || (address && ALWAYS_DENIED.some((c) => inCidr(address, c)))) {
    return { rule: 'endpoints.metadata', message: `${host} is a link-local or cloud metadata address, which Locus never connects to` };
  }
  if (policy.deny.some((e) => matches(h, address, e))) return { rule: 'endpoints.deny', message: `${host} matches the administrator's endpoint deny list` };
  if (policy.allow.length > 0 && !policy.allow.some((e) => matches(h, address, e))) {
    return { rule: 'endpoints.allow', message: `${host} is not in the administrator's endpoint allow list (${policy.allow.join(', ')})` };
  }
  return undefined;
}

/** Checks an address a name resolved to (the name passed the policy; its address must too). */
export function addressDenial(address: string, policy: DatasetPolicy): { rule: string; message: string } | undefined {
  const a = unmapped(address);
  if (!a) return undefined;
  if (ALWAYS_DENIED.some((c) => inCidr(a, c))) return { rule: 'endpoints.metadata', message: `resolves to ${address}, a link-local or cloud metadata address` };
  if (policy.deny.some((e) => matches(a, a, e)))
    return { rule: 'endpoints.deny', message: `resolves to ${address}, on the administrator's endpoint deny list` };
  return undefined;
}

function matches(host: string, address: string | undefined, entry: string): boolean {
  const e = entry.toLowerCase();
  if (e.includes('/')) return address !== undefined && inCidr(address, e);
  if (isIP(e)) return address !== undefined && unmapped(e) === address;
  if (e.startsWith('.')) return host.endsWith(e);
  return host === e;
}

/** An address in canonical form (IPv4-mapped IPv6 as IPv4); undefined for names. */
function unmapped(host: string): string | undefined {
  const kind = isIP(host);
  if (kind === 0) return undefined;
  if (kind === 6) {
    const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
    if (m) return m[1];
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(host);
    if (hex) {
      const n = (parseInt(hex[1], 16) << 16) | parseInt(hex[2], 16);
      return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    }
  }
  return host;
}

function parseCidr(cidr: string): { bits: bigint; len: number; width: number } | undefined {
  const [addr, lenText] = cidr.split('/');
  const kind = isIP(addr);
  const len = Number(lenText);
  const width = kind === 4 ? 32 : 128;
  if (kind === 0 || !Number.isInteger(len) || len < 0 || len > width) return undefined;
  return { bits: toBits(addr), len, width };
}

function inCidr(address: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  if (!c || (isIP(address) === 4) !== (c.width === 32)) return false;
  const shift = BigInt(c.width - c.len);
  return toBits(address) >> shift === c.bits >> shift;
}

function toBits(address: string): bigint {
  if (isIP(address) === 4) return address.split('.').reduce((n, x) => (n << 8n) | BigInt(Number(x)), 0n);
  const [head, tail] = address.split('::');
  const parts = (s: string | undefined) => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

/** Absolute, and already what normalising gives: `/data/../etc`, `/data/./x`, `//x` and `/x/` are not. */
function isNormal(path: string): boolean {
  return path.startsWith('/') && posix.normalize(path) === path && (path === '/' || !path.endsWith('/'));
}

/** `path` is `base` or below it, on a segment boundary (`/data2` is not under `/data`). */
function under(path: string, base: string): boolean {
  return base === '/' || path === base || path.startsWith(`${base}/`);
}
