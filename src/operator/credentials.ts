// Where an object-store Dataset's keys come from: the Secret it names (in its own namespace only),
// or raw keys in its spec (Datashim allowed them), which the operator moves into the owned Secret.
import { credentialsSecretName, SECRET_KEYS } from '../api/names.js';
import type { LocalSpec, RemoteSpec } from '../api/dataset.js';
import type { KubeObject } from '../kube/object.js';

export interface Keys {
  accessKeyID: string;
  secretAccessKey: string;
}

/** Annotation on the owned Secret recording where its keys came from: `secret/<name>` or `spec`. */
export const CREDENTIALS_SOURCE_ANNOTATION = 'locus.dev/credentials-source';

export type Credentials =
  | {
      ok: true;
      keys: Keys;
      /**
       * `secret`: the Secret named by secret-name; `spec`: raw keys in the spec; `moved`: raw keys moved
       * earlier into the owned Secret; `staging`: the operator's archive staging store.
       */
      source: 'secret' | 'spec' | 'moved' | 'staging';
      secretName?: string;
      /** Raw keys present in the spec (to move out of it), also when a secret-name takes precedence. */
      rawKeysInSpec: boolean;
    }
  | { ok: false; reason: string; message: string; rawKeysInSpec: boolean; /** Fixable only by editing the Dataset: no point retrying. */ permanent: boolean };

/** Decodes a Secret's `data` (base64) or `stringData` value. */
export function secretValue(secret: KubeObject, key: string): string | undefined {
  const data = secret.data as Record<string, string> | undefined;
  if (data?.[key] !== undefined) return Buffer.from(data[key], 'base64').toString('utf8');
  return (secret.stringData as Record<string, string> | undefined)?.[key];
}

export interface CredentialInputs {
  namespace: string;
  name: string;
  /** `spec.local` or `spec.remote`, whichever the Dataset has. */
  spec: LocalSpec | RemoteSpec;
  field: 'spec.local' | 'spec.remote';
  /** The Secret named by secret-name: null when it does not exist, undefined when not looked up. */
  userSecret?: KubeObject | null;
  /** The Secret the operator owns (`<name>-credentials`), if it exists. */
  ownedSecret?: KubeObject | null;
}

export function resolveCredentials(inp: CredentialInputs): Credentials {
  const { namespace, spec, field } = inp;
  const secretName = spec['secret-name'];
  const hasId = spec.accessKeyID !== undefined && spec.accessKeyID !== '';
  const hasSecret = spec.secretAccessKey !== undefined && spec.secretAccessKey !== '';
  const rawKeysInSpec = hasId || hasSecret;
  const fail = (reason: string, message: string, permanent: boolean): Credentials => ({ ok: false, reason, message, rawKeysInSpec, permanent });

  const secretNamespace = spec['secret-namespace'];
  if (secretNamespace && secretNamespace !== namespace) {
    return fail(
      'SecretNamespaceNotAllowed',
      `${field}.secret-namespace is "${secretNamespace}" but Secrets are read only from the Dataset's namespace "${namespace}": copy the Secret into ${namespace} and remove secret-namespace`,
      true,
    );
  }

  if (secretName) {
    if (inp.userSecret === null || inp.userSecret === undefined) {
      return fail(
        'SecretNotFound',
        `Secret ${secretName} not found in namespace ${namespace}: create it with keys ${SECRET_KEYS.join(' and ')}, or fix ${field}.secret-name`,
        false,
      );
    }
    const keys = readKeys(inp.userSecret);
    const missing = SECRET_KEYS.filter((k) => !keys[k]);
    if (missing.length > 0) {
      return fail(
        'SecretKeyMissing',
        `Secret ${secretName} in namespace ${namespace} has no ${missing.join(' or ')}: add ${missing.length > 1 ? 'them' : 'it'} to the Secret`,
        false,
      );
    }
    return { ok: true, keys: keys as Keys, source: 'secret', secretName, rawKeysInSpec };
  }

  if (hasId !== hasSecret) {
    const [set, unset] = hasId ? ['accessKeyID', 'secretAccessKey'] : ['secretAccessKey', 'accessKeyID'];
    return fail('IncompleteKeys', `${field}.${set} is set but ${field}.${unset} is not: set secret-name to a Secret with both keys instead`, true);
  }
  if (hasId) return { ok: true, keys: { accessKeyID: spec.accessKeyID!, secretAccessKey: spec.secretAccessKey! }, source: 'spec', rawKeysInSpec };

  const owned = inp.ownedSecret;
  if (owned && owned.metadata.annotations?.[CREDENTIALS_SOURCE_ANNOTATION] === 'spec') {
    const keys = readKeys(owned);
    if (keys.accessKeyID && keys.secretAccessKey) return { ok: true, keys: keys as Keys, source: 'moved', rawKeysInSpec };
  }
  return fail(
    'NoCredentials',
    `no credentials: set ${field}.secret-name to a Secret in namespace ${namespace} with keys ${SECRET_KEYS.join(' and ')} (the operator keeps a copy in Secret ${credentialsSecretName(inp.name)})`,
    true,
  );
}

function readKeys(secret: KubeObject): Partial<Keys> {
  return { accessKeyID: secretValue(secret, 'accessKeyID'), secretAccessKey: secretValue(secret, 'secretAccessKey') };
}
