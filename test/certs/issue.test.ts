import { createPrivateKey, X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { issueCa, issueServingCert } from '../../src/certs/issue.js';

describe('certs issue', () => {
  it('makes a CA that signs a serving certificate for the given names and addresses', async () => {
    const ca = await issueCa({ commonName: 'test-ca', days: 30 });
    const serving = await issueServingCert(ca, { dns: ['locus-webhook.locus-system.svc', 'localhost'], ips: ['127.0.0.1'], days: 7 });
    const caCert = new X509Certificate(ca.cert);
    const cert = new X509Certificate(serving.cert);
    expect(caCert.ca).to.equal(true);
    expect(cert.ca).to.equal(false);
    expect(cert.checkIssued(caCert)).to.equal(true);
    expect(cert.verify(caCert.publicKey)).to.equal(true);
    expect(cert.subject).to.equal('CN=locus-webhook.locus-system.svc');
    expect(cert.subjectAltName).to.equal('DNS:locus-webhook.locus-system.svc, DNS:localhost, IP Address:127.0.0.1');
    expect(cert.checkIP('127.0.0.1')).to.equal('127.0.0.1');
    expect(cert.checkHost('locus-webhook.locus-system.svc')).to.equal('locus-webhook.locus-system.svc');
    expect(cert.checkPrivateKey(createPrivateKey(serving.key))).to.equal(true);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(days).to.be.closeTo(7, 0.01);
    expect(Date.parse(cert.validFrom)).to.be.below(Date.now());
  });

  it('refuses a serving certificate without a name or address', async () => {
    const ca = await issueCa({ commonName: 'test-ca', days: 1 });
    let error: Error | undefined;
    await issueServingCert(ca, { dns: [], ips: [], days: 1 }).catch((err: Error) => {
      error = err;
    });
    expect(error?.message).to.match(/at least one --dns name or --ip address/);
  });
});
