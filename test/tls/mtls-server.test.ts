/**
 * Mutual TLS against the real server (dist/, separate processes): client certificates from the built-in CA issued
 * and revoked with the CLI, then the server restarted with `tlsClientAuth=required`. Refused at the handshake: no
 * certificate, a certificate from another CA, a revoked one (CRL); accepted: a valid one, which authenticates as its
 * principal with its fingerprint in the audit event. (Expired certificates: test/pki/certificate-authority.test.ts.)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa } from '../../src/pki/create-root-ca.js';
import { loadCertificateIssuer } from '../../src/pki/certificate-issuer.js';
import { EXTENDED_KEY_USAGE, issueCertificate } from '../../src/pki/issue-certificate.js';
import { exportPrivateKeyPem, generateEcdsaKeyPair } from '../../src/pki/key-pair.js';
import { runCli, startDevServer, type DevServer } from '../helpers/dev-server.js';
import { handshakeOutcome, httpsCall } from './tls-helpers.js';

const DAY = 86_400_000;

describe('mutual TLS on the real server', () => {
  let dir: string;
  let server: DevServer | undefined;
  let ca: string;
  let token: string;
  const files: Record<string, { cert: string; key: string; serial?: string; fingerprint?: string }> = {};

  const cli = (args: string[]) => runCli(['--credentials', join(dir, 'dev-credentials.json'), ...args]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-mtls-'));
    server = await startDevServer(dir, { env: { DATADEFENDER_TLS_CLIENT_AUTH: 'optional' } });
    token = server.credentials.token;
    for (const name of ['good', 'revoked']) {
      const issued = await cli(['--json', 'pki', 'issue', '--client', '--principal', 'admin', '--out', join(dir, name)]);
      expect(issued.code, issued.stderr).toBe(0);
      const body = JSON.parse(issued.stdout);
      files[name] = { cert: await readFile(join(dir, `${name}.pem`), 'utf8'), key: await readFile(join(dir, `${name}-key.pem`), 'utf8'), serial: body.certificate.serial, fingerprint: body.certificate.fingerprint };
    }
    const revoked = await cli(['pki', 'revoke', files.revoked!.serial!, '--reason', 'keyCompromise']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('Revoked');
    // A certificate for the same principal name from a CA the server does not trust.
    const now = new Date();
    const other = await createRootCa({ commonName: 'DataDefender Dev CA', notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 30 * DAY) });
    const keys = await generateEcdsaKeyPair();
    const otherCert = await issueCertificate({
      issuer: await loadCertificateIssuer(other.certPem, other.keyPem),
      subjectPublicKey: keys.publicKey,
      commonName: 'admin',
      extendedKeyUsages: [EXTENDED_KEY_USAGE.clientAuth],
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + DAY),
    });
    files.other = { cert: otherCert, key: await exportPrivateKeyPem(keys.privateKey) };
    await server.stop();
    server = await startDevServer(dir, { env: { DATADEFENDER_TLS_CLIENT_AUTH: 'required' } });
    ca = await readFile(server.credentials.caCertFile, 'utf8');
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists and shows both client certificates in the inventory, one revoked', async () => {
    const list = await httpsCall(server!.credentials.endpoint, { ca, ...files.good! }, 'GET', '/v1/pki/certificates', { token });
    expect(list.status).toBe(200);
    const bySerial = Object.fromEntries(list.body.certificates.map((c: { serial: string; status: string }) => [c.serial, c.status]));
    expect(bySerial[files.good!.serial!]).toBe('valid');
    expect(bySerial[files.revoked!.serial!]).toBe('revoked');
  });

  it('authenticates a valid certificate as its principal and audits its fingerprint', async () => {
    const whoami = await httpsCall(server!.credentials.endpoint, { ca, ...files.good! }, 'GET', '/v1/whoami');
    expect(whoami.status).toBe(200);
    expect(whoami.body.principal.arn).toBe(server!.credentials.principalArn);
    expect(whoami.body.principal.credential).toBe(`certificate:${files.good!.fingerprint}`);
    const events = await httpsCall(server!.credentials.endpoint, { ca, ...files.good! }, 'GET', '/v1/audit/events?eventName=GetCallerIdentity&limit=50', { token });
    expect(events.status).toBe(200);
    expect(JSON.stringify(events.body)).toContain(`certificate:${files.good!.fingerprint}`);
  });

  it.each(['TLSv1.3', 'TLSv1.2'] as const)('refuses at the handshake (%s): no certificate, another CA, a revoked certificate', async (version) => {
    const port = server!.port;
    expect((await handshakeOutcome(port, { ca, ...files.good! }, version)).ok).toBe(true);
    const none = await handshakeOutcome(port, { ca }, version);
    expect(none.ok).toBe(false);
    expect(none.code).toMatch(/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|ECONNRESET|closed/);
    const other = await handshakeOutcome(port, { ca, ...files.other! }, version);
    expect(other.ok).toBe(false);
    expect(other.code).toMatch(/UNKNOWN_CA|ECONNRESET|closed/);
    const revoked = await handshakeOutcome(port, { ca, ...files.revoked! }, version);
    expect(revoked.ok).toBe(false);
    expect(revoked.code).toMatch(/CERTIFICATE_REVOKED|ECONNRESET|closed/);
  });

  it('the CLI authenticates with --client-cert/--client-key (no token) and reads the inventory', async () => {
    const viaCert = (args: string[]) =>
      runCli(['--endpoint', server!.credentials.endpoint, '--ca-bundle', server!.credentials.caCertFile, '--client-cert', join(dir, 'good.pem'), '--client-key', join(dir, 'good-key.pem'), ...args], { DATADEFENDER_TOKEN: '' });
    const whoami = await viaCert(['--json', 'whoami']);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout).principal.credential).toBe(`certificate:${files.good!.fingerprint}`);
    const status = await viaCert(['pki', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/Certificate authorities:\n  root\s+active/);
    expect(status.stdout).toMatch(/Server certificate: [0-9a-f]+ \(built-in\), expires .* renews at /);
    expect(status.stdout).toContain(files.revoked!.serial!);
    const list = await viaCert(['pki', 'list']);
    expect(list.stdout).toMatch(new RegExp(`${files.revoked!.serial}\\s+client\\s+revoked`));
    const crl = await viaCert(['pki', 'crl', '--out', join(dir, 'crl.pem')]);
    expect(crl.code, crl.stderr).toBe(0);
    expect(await readFile(join(dir, 'crl.pem'), 'utf8')).toContain('-----BEGIN X509 CRL-----');
    // Without a certificate the CLI cannot even complete the handshake.
    const refused = await runCli(['--endpoint', server!.credentials.endpoint, '--ca-bundle', server!.credentials.caCertFile, '--token', token, 'whoami']);
    expect(refused.code).not.toBe(0);
  });

  it('serves the CRL publicly, listing the revoked serial', async () => {
    const crl = await httpsCall(server!.credentials.endpoint, { ca, ...files.good! }, 'GET', '/v1/pki/crl?format=pem');
    expect(crl.status).toBe(200);
    expect(crl.headers['content-type']).toContain('application/x-pem-file');
    const { X509Crl } = await import('../../src/pki/x509.js');
    const parsed = new X509Crl(String(crl.body));
    expect(parsed.entries.map((e) => e.serialNumber.toLowerCase())).toContain(files.revoked!.serial);
    expect(await parsed.verify({ publicKey: await new (await import('../../src/pki/x509.js')).X509Certificate(ca).publicKey.export() })).toBe(true);
  });
});
