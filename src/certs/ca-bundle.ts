// Puts the CA into every webhook of the MutatingWebhookConfiguration(s) in a YAML file, keeping
// the file's comments and layout.
import { parseAllDocuments } from 'yaml';

export function setCaBundle(yamlText: string, caPem: string): { text: string; webhooks: number } {
  const caBundle = Buffer.from(caPem).toString('base64');
  const docs = parseAllDocuments(yamlText);
  let webhooks = 0;
  for (const doc of docs) {
    if ('errors' in doc && doc.errors.length > 0) throw new Error(`cannot parse the webhook configuration: ${doc.errors[0].message}`);
    if (doc.get('kind') !== 'MutatingWebhookConfiguration') continue;
    const count = (doc.getIn(['webhooks']) as { items?: unknown[] } | undefined)?.items?.length ?? 0;
    for (let i = 0; i < count; i++) doc.setIn(['webhooks', i, 'clientConfig', 'caBundle'], caBundle);
    webhooks += count;
  }
  if (webhooks === 0) throw new Error('no MutatingWebhookConfiguration with webhooks in the file; pass deploy/webhook/mutatingwebhookconfiguration.yaml');
  return { text: docs.map((d) => d.toString()).join(''), webhooks };
}
