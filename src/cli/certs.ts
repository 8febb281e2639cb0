// `locus certs`: a CA and a serving certificate for the webhook, and the CA written into the
// MutatingWebhookConfiguration's caBundle. Re-running keeps the CA in --out, so only the serving
// certificate rotates and the caBundle the API server holds stays valid.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setCaBundle } from '../certs/ca-bundle.js';
import { notAfter } from '../certs/expiry.js';
import { FILES, readCa, writeAtomic, writeCertFiles } from '../certs/files.js';
import { issueCa, issueServingCert } from '../certs/issue.js';
import { defineCommand } from '../runtime/flags.js';
import { formatDuration } from '../runtime/units.js';

const DAY_MS = 86_400_000;

const command = defineCommand({
  name: 'certs',
  synopsis: '--out <dir> [--dns <name>...] [--ip <ip>...] [flags]',
  description: `Writes <dir>/ca.crt, ca.key, tls.crt and tls.key for the names and addresses the API server calls
the webhook by (at least one --dns or --ip). A CA already in <dir> is reused (pass --new-ca to replace it).`,
  flags: {
    out: { kind: 'string', arg: '<dir>', help: 'where to write the files (required)' },
    dns: { kind: 'strings', arg: '<name>', help: 'DNS name of the webhook Service, repeatable (e.g. locus-webhook.locus-system.svc)' },
    ip: { kind: 'strings', arg: '<ip>', help: 'IP address the API server calls, repeatable (e.g. 127.0.0.1)' },
    'valid-for': { kind: 'duration', help: 'serving certificate validity', default: 365 * DAY_MS },
    'ca-valid-for': { kind: 'duration', help: 'CA validity when a new CA is made', default: 3650 * DAY_MS },
    'new-ca': { kind: 'boolean', help: 'make a new CA even if <dir> has one (the caBundle must then be updated)' },
    'webhook-config': {
      kind: 'string',
      arg: '<file>',
      help: 'MutatingWebhookConfiguration YAML whose caBundle is set to the CA\n(e.g. deploy/webhook/mutatingwebhookconfiguration.yaml)',
    },
  },
});

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parseOrHelp(argv);
  if (!parsed) return 0;
  const f = parsed.values;
  if (!f.out) return command.fail('--out <dir> is required');
  if (f.dns.length === 0 && f.ip.length === 0) command.fail('give at least one --dns name or --ip address the API server calls the webhook by');
  const validMs = f['valid-for'];
  const days = validMs / DAY_MS;
  const caDays = f['ca-valid-for'] / DAY_MS;

  const kept = f['new-ca'] ? undefined : await readCa(f.out);
  if (kept && notAfter(kept.cert).getTime() < Date.now() + validMs) {
    command.fail(
      `the CA in ${f.out} expires ${notAfter(kept.cert).toISOString()}, before a certificate valid for ${formatDuration(validMs)} would; pass --new-ca (and update the caBundle) or a shorter --valid-for`,
    );
  }
  const ca = kept ?? (await issueCa({ commonName: 'locus-webhook-ca', days: caDays }));
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
