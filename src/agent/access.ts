// Who may read what through the agent. With agent keys configured every request must be signed
// (SigV4) with the credentials derived for one Dataset (src/api/agent-credentials.ts), and reads only
// that Dataset's bucket and prefix: the agent reads the object store with its own credentials, so
// without this any pod that reaches the port would read every bucket those credentials open.
import { agentCredentials } from '../api/agent-credentials.js';
import type { DatasetSource } from './catalogs.js';
import { S3Error } from './s3-error.js';
import { isSigned, verifySigV4, type RawRequest } from './sigv4.js';

export interface AgentAuthConfig {
  /** Agent keys, the current one first; credentials derived from any of them are accepted. */
  keys: readonly Buffer[];
}

interface Issued {
  source: DatasetSource;
  secret: string;
}

export class AgentAccess {
  private issued = new Map<string, Issued>();

  /** `auth` undefined: the agent serves without authentication (a standalone cache on a trusted host). */
  constructor(
    private readonly auth: AgentAuthConfig | undefined,
    private readonly now: () => number,
  ) {}

  get required(): boolean {
    return this.auth !== undefined;
  }

  /** The Datasets credentials are accepted for: those the agent fronts, as they change. */
  setDatasets(sources: readonly DatasetSource[]): void {
    const issued = new Map<string, Issued>();
    for (const key of this.auth?.keys ?? []) {
      for (const source of sources) {
        const c = agentCredentials(key, source.namespace, source.name);
        issued.set(c.accessKeyID, { source, secret: c.secretAccessKey });
      }
    }
    this.issued = issued;
  }

  /** The Dataset a request reads as; undefined when the agent runs without authentication. */
  authorize(req: RawRequest): DatasetSource | undefined {
    if (!this.auth) return undefined;
    if (!isSigned(req)) {
      throw new S3Error(403, 'AccessDenied', "anonymous reads are refused: sign requests with the credentials in your Dataset's Secret <dataset>-credentials");
    }
    const { accessKeyId } = verifySigV4(
      req,
      (id) => {
        const e = this.issued.get(id);
        return e ? [e.secret] : [];
      },
      this.now(),
    );
    return this.issued.get(accessKeyId)!.source;
  }
}

/**
 * Refuses (403 AccessDenied, as S3 answers a key outside a policy's resources) a bucket other than
 * the Dataset's, an object key outside its prefix, or a listing prefix that reaches outside it.
 */
export function confine(grant: DatasetSource, bucket: string, what: { key?: string; listPrefix?: string }): void {
  const where = `s3://${grant.bucket}/${grant.prefix}`;
  const deny = (detail: string) => new S3Error(403, 'AccessDenied', `Dataset ${grant.namespace}/${grant.name} reads only ${where}: ${detail}`);
  if (bucket !== grant.bucket) throw deny(`bucket ${bucket} is not the Dataset's`);
  if (what.key !== undefined && !what.key.startsWith(grant.prefix)) throw deny(`key ${what.key} is outside it`);
  if (what.listPrefix !== undefined && !what.listPrefix.startsWith(grant.prefix)) {
    throw deny(`list with a prefix that starts with "${grant.prefix}" (got "${what.listPrefix}")`);
  }
}
