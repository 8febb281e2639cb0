import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { parse } from 'yaml';
import { run } from '../../src/cli/certs.js';
import { UsageError } from '../../src/runtime/flags.js';

describe('locus certs', () => {
  const quiet = async (argv: string[]) => {
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      return await run(argv);
    } finally {
      process.stdout.write = write;
    }
  };

  it('writes a CA and serving pair, sets the caBundle, and keeps the CA when rotating', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'locus-certs-'));
    const config = join(dir, 'mwc.yaml');
    writeFileSync(config, readFileSync('test/fixtures/admission/mutating-webhook-configuration.yaml'));
    const out = join(dir, 'tls');
    expect(
      await quiet(['--out', out, '--dns', 'locus-webhook.locus-system.svc', '--ip', '127.0.0.1', '--valid-for', '10d', '--webhook-config', config]),
    ).to.equal(0);

    const ca = readFileSync(join(out, 'ca.crt'), 'utf8');
    const cert = new X509Certificate(readFileSync(join(out, 'tls.crt')));
    expect(cert.checkIssued(new X509Certificate(ca))).to.equal(true);
    expect(cert.subjectAltName).to.equal('DNS:locus-webhook.locus-system.svc, IP Address:127.0.0.1');
    expect(statSync(join(out, 'tls.key')).mode & 0o777).to.equal(0o600);
    expect(statSync(join(out, 'ca.key')).mode & 0o777).to.equal(0o600);
    expect(parse(readFileSync(config, 'utf8')).webhooks[0].clientConfig.caBundle).to.equal(Buffer.from(ca).toString('base64'));

    expect(await quiet(['--out', out, '--ip', '127.0.0.1'])).to.equal(0);
    expect(readFileSync(join(out, 'ca.crt'), 'utf8')).to.equal(ca);
    const rotated = new X509Certificate(readFileSync(join(out, 'tls.crt')));
    expect(rotated.serialNumber).not.to.equal(cert.serialNumber);
    expect(rotated.checkIssued(new X509Certificate(ca))).to.equal(true);

    expect(await quiet(['--out', out, '--ip', '127.0.0.1', '--new-ca'])).to.equal(0);
    expect(readFileSync(join(out, 'ca.crt'), 'utf8')).not.to.equal(ca);
  });

  it('refuses to outlive a kept CA, and names missing flags', async () => {
    const out = mkdtempSync(join(tmpdir(), 'locus-certs-'));
    await quiet(['--out', out, '--ip', '127.0.0.1', '--ca-valid-for', '5d', '--valid-for', '1d']);
    for (const [argv, text] of [
      [['--out', out, '--ip', '127.0.0.1', '--valid-for', '30d'], /expires .* before a certificate valid for 30d would; pass --new-ca/],
      [['--ip', '127.0.0.1'], /--out <dir> is required/],
      [['--out', out], /at least one --dns name or --ip address/],
      [['--out', out, '--ip', '127.0.0.1', '--valid-for', '10'], /--valid-for must be a duration such as 15m/],
    ] as const) {
      let error: unknown;
      await quiet([...argv]).catch((err: unknown) => {
        error = err;
      });
      expect(error).to.be.instanceOf(UsageError);
      expect((error as Error).message).to.match(text);
    }
  });
});
