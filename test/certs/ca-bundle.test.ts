import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { setCaBundle } from '../../src/certs/ca-bundle.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const b64 = Buffer.from(PEM).toString('base64');

describe('certs setCaBundle', () => {
  it('sets caBundle in the captured webhook configuration, keeping everything else', () => {
    const text = readFileSync('test/fixtures/admission/mutating-webhook-configuration.yaml', 'utf8');
    const { text: out, webhooks } = setCaBundle(text, PEM);
    expect(webhooks).to.equal(1);
    const before = parse(text);
    const after = parse(out);
    expect(after.webhooks[0].clientConfig.caBundle).to.equal(b64);
    before.webhooks[0].clientConfig.caBundle = b64;
    expect(after).to.deep.equal(before);
  });

  it('sets every webhook of every MutatingWebhookConfiguration and keeps other documents and comments', () => {
    const text = [
      '# the webhook',
      'apiVersion: admissionregistration.k8s.io/v1',
      'kind: MutatingWebhookConfiguration',
      'metadata: {name: a}',
      'webhooks:',
      '  - name: one.example # first',
      '    clientConfig: {service: {name: s, namespace: n}}',
      '  - name: two.example',
      '    clientConfig: {caBundle: old}',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: s}',
      '',
    ].join('\n');
    const { text: out, webhooks } = setCaBundle(text, PEM);
    expect(webhooks).to.equal(2);
    const docs = parseAllDocuments(out).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).to.deep.equal(['MutatingWebhookConfiguration', 'Service']);
    expect(docs[0].webhooks.map((w: { clientConfig: { caBundle: string } }) => w.clientConfig.caBundle)).to.deep.equal([b64, b64]);
    expect(docs[0].webhooks[0].clientConfig.service).to.deep.equal({ name: 's', namespace: 'n' });
    expect(out).to.contain('# the webhook').and.to.contain('# first');
  });

  it("fills the repo's deploy/webhook configuration, keeping its comments", () => {
    const text = readFileSync('deploy/webhook/mutatingwebhookconfiguration.yaml', 'utf8');
    const { text: out } = setCaBundle(text, PEM);
    expect(parse(out).webhooks[0].clientConfig).to.deep.include({ caBundle: b64 });
    expect(out.split('\n').filter((l) => l.trimStart().startsWith('#'))).to.deep.equal(text.split('\n').filter((l) => l.trimStart().startsWith('#')));
    expect(setCaBundle(out, PEM).text, 'idempotent').to.equal(out);
  });

  it('names the file to pass when there is no webhook configuration', () => {
    expect(() => setCaBundle('apiVersion: v1\nkind: Service\nmetadata: {name: s}\n', PEM)).to.throw(/pass deploy\/webhook\/mutatingwebhookconfiguration.yaml/);
  });
});
