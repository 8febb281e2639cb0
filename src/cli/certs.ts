// `locus certs`: a CA and a serving certificate for the webhook, and the CA written into the
// MutatingWebhookConfiguration's caBundle. Re-running keeps the CA in --out, so only the serving
// certificate rotates and the caBundle the API server holds stays valid.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setCaBundle } from '../certs/ca-bundle.js';
import { notAfter } from '../certs/expiry.js';
import { FILES, readCa, writeAtomic, writeCertFiles } from '../certs/files.js';
import { issueCa, issueServingCert } from '../certs/issue.js';
import { numberFlag, parseFlags, UsageError } from './flags.js';

const USAGE = `usage: locus certs --out <dir> --dns <name>... [--ip <addr>...] [flags]

Writes <dir>/ca.crt, ca.key, tls.crt and tls.key. A CA already in <dir> is reused (pass --new-ca to replace it).

  --out <dir>               where to write the files
  --dns <name>              DNS name of the webhook Service, repeatable (e.g. locus-webhook.locus-system.svc)
  --ip <addr>               IP address the API server calls, repeatable (e.g. 127.0.0.1)
  --days <n>                serving certificate validity (default 365)
  --ca-days <n>             CA validity when a new CA is made (default 3650)
  --new-ca                  make a new CA even if <dir> has one (the caBundle must then be updated)
  --webhook-config <file>   MutatingWebhookConfiguration YAML whose caBundle is set to the CA
                            (e.g. deploy/webhook/mutatingwebhookconfiguration.yaml)`;

const DAY_MS = 86_400_000;

export async function run(argv: string[]): Promise<number> {
  const { values: f } = parseFlags(argv, {
    out: { type: 'string' },
    dns: { type: 'string', multiple: true, default: [] },
    ip: { type: 'string', multiple: true, default: [] },
    days: { type: 'string' },
    'ca-days': { type: 'string' },
    'new-ca': { type: 'boolean', default: false },
    'webhook-config': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (f.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!f.out) throw new UsageError('--out <dir> is required', USAGE);
  if (f.dns.length === 0 && f.ip.length === 0) throw new UsageError('give at least one --dns name or --ip address the API server calls the webhook by', USAGE);
  const days = numberFlag(f.days, 'days', USAGE, 365);
  const caDays = numberFlag(f['ca-days'], 'ca-days', USAGE, 3650);
  if (days <= 0 || caDays <= 0) throw new UsageError('--days and --ca-days must be more than 0', USAGE);

  const kept = f['new-ca'] ? undefined : await readCa(f.out);
  if (kept && notAfter(kept.cert).getTime() < Date.now() + days * DAY_MS) {
    throw new UsageError(
      `the CA in ${f.out} expires ${notAfter(kept.cert).toISOString()}, before a ${days}-day certificate would; pass --new-ca (and update the caBundle) or fewer --days`,
      USAGE,
    );
  }
  const ca = kept ?? await issueCa({ commonName: 'locus-webhook-ca', days: caDays });
  const serving = await issueServingCert(ca, { dns: f.dns, ips: f.ip, days });
  await writeCertFiles(f.out, ca, serving);
  const say = (line: string) => process.stdout.write(line + '\n');
  say(`${kept ? 'kept the CA' : 'created a CA'} in ${join(f.out, FILES.caCert)} (expires ${notAfter(ca.cert).toISOString()})`);
  say(`wrote ${join(f.out, FILES.cert)} and ${FILES.key} for ${[...f.dns, ...f.ip].join(', ')} (expires ${notAfter(serving.cert).toISOString()})`);

  if (f['webhook-config']) {
    const { text, webhooks } = setCaBundle(await readFile(f['webhook-config'], 'utf8'), ca.cert);
    await writeAtomic(f['webhook-config'], text, 0o644);
    say(`set caBundle of ${webhooks} webhook(s) in ${f['webhook-config']}`);
  }
  return 0;
}
