/**
 * The built-in CA use cases over real SQLite, the local root of trust and the operation runner: administrators only,
 * audited; the CA key stored only wrapped; server and client certificates; revocation, CRL and the principal
 * mapping; an intermediate under an operator's root; and real handshakes refusing expired and revoked client
 * certificates in `required` mode.
 */
import { execFile } from 'node:child_process';
import { X509Certificate as NodeX509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobContext } from '../../src/core/job-context.js';
import { serverTlsOptions } from '../../src/http/tls.js';
import { createCertificateAuthority, type CertificateAuthority } from '../../src/pki/certificate-authority.js';
import { createRootCa } from '../../src/pki/create-root-ca.js';
import { renewalTime } from '../../src/pki/server-certificate-renewal.js';
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequest,
  X509Certificate,
  X509CertificateGenerator,
  X509Crl,
} from '../../src/pki/x509.js';
import { importEcdsaPrivateKeyPem } from '../../src/pki/key-pair.js';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import type { RootOfTrust } from '../../src/ports/root-of-trust.js';
import { SCOPE, context, coreFixture } from '../helpers/core-fixture.js';
import { handshakeOutcome } from '../tls/tls-helpers.js';

const run = promisify(execFile);
const DAY = 86_400_000;
const admin = () => context(['administrator']);

describe('built-in certificate authority', () => {
  let fx: Awaited<ReturnType<typeof coreFixture>>;
  let ca: CertificateAuthority;
  let dir: string;
  let root: RootOfTrust;

  beforeAll(async () => {
    fx = await coreFixture();
    dir = await mkdtemp(join(tmpdir(), 'dd-ca-'));
    // The fixture's clock starts on 2026-01-01; bring it to real time so handshakes agree with it.
    fx.clock.advanceDays((Date.now() - fx.clock.now().getTime()) / DAY);
    // The CA's own root of trust (any RootOfTrust: the CA only wraps and unwraps its key with it).
    root = await openLocalRootOfTrust(join(dir, 'root.key'));
    ca = createCertificateAuthority({ storage: fx.storage, root, run: fx.service.run, clock: fx.clock });
    await fx.service.run(admin(), 'CreatePrincipal', { readOnly: false, action: 'datadefender:CreatePrincipal' }, async (op) => {
      await op.authorize(null);
      await fx.storage.createPrincipal({ id: 'p-alice', name: 'alice', arn: 'arn:aws:iam::111122223333:user/alice', kind: 'user', roles: ['data-engineer'], policies: [], tags: {}, disabled: false, createdAt: fx.clock.now(), updatedAt: fx.clock.now() } as never);
    });
  });

  afterAll(async () => {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses non-administrators, audited as denied', async () => {
    await expect(ca.init(context(['data-engineer']), { kind: 'root', commonName: 'X' })).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    await expect(ca.issue(context(['data-engineer']), { profile: 'server', hosts: ['a.example'] })).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    // The renewal job's system role may renew and bootstrap, never issue for others.
    await expect(ca.issue(jobContext(SCOPE), { profile: 'server', hosts: ['a.example'] })).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    const events = await fx.storage.readAudit({ limit: 1000 } as never);
    expect(JSON.stringify(events)).toContain('InitCertificateAuthority');
  });

  it('creates a root CA whose key is stored only wrapped by the root of trust', async () => {
    const view = await ca.init(admin(), { kind: 'root', commonName: 'Test Root' });
    expect(view).toMatchObject({ kind: 'root', state: 'active', commonName: 'Test Root' });
    const [record] = await fx.storage.listCertificateAuthorities();
    const cert = new NodeX509Certificate(record!.certPem!);
    expect(cert.ca).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    // No PKCS#8 structure or EC private key in clear in storage.
    expect(() => createPrivateKey({ key: Buffer.from(record!.wrappedKey), format: 'der', type: 'pkcs8' })).toThrow();
    // The wrapped key is bound to its CA id: under another id it does not unwrap.
    const copy = createCertificateAuthority({ storage: { ...fx.storage, listCertificateAuthorities: async () => [{ ...record!, id: 'copied' }] } as never, root, run: fx.service.run, clock: fx.clock });
    await expect(copy.crl()).rejects.toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
  });

  it('issues a server certificate: P-256, serverAuth, exact SANs, 30 days, chaining to the CA', async () => {
    const issued = await ca.issue(admin(), { profile: 'server', hosts: ['kms.example.com', '10.0.0.7'] });
    const cert = new NodeX509Certificate(issued.certificatePem);
    expect(cert.subjectAltName).toBe('DNS:kms.example.com, IP Address:10.0.0.7');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.verify(new NodeX509Certificate(issued.chainPem).publicKey)).toBe(true);
    expect(Math.round((Date.parse(cert.validTo) - fx.clock.now().getTime()) / DAY)).toBe(30);
    expect(createPrivateKey(issued.privateKeyPem!).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('issues from a CSR without ever seeing the private key', async () => {
    const { stdout: csr } = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'csr-key.pem'), '-subj', '/CN=ignored']);
    const issued = await ca.issue(admin(), { profile: 'client', principal: 'alice', csrPem: csr });
    expect(issued.privateKeyPem).toBeUndefined();
    expect(new NodeX509Certificate(issued.certificatePem).checkPrivateKey(createPrivateKey(await (await import('node:fs/promises')).readFile(join(dir, 'csr-key.pem'), 'utf8')))).toBe(true);
    await expect(ca.issue(admin(), { profile: 'client', principal: 'alice', csrPem: 'garbage' })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('binds a client certificate to its principal, and revocation removes the mapping and lists it in the CRL', async () => {
    const issued = await ca.issue(admin(), { profile: 'client', principal: 'alice' });
    const mapping = await fx.storage.getClientCertificate(issued.certificate.fingerprint);
    expect(mapping?.principalId).toBe('p-alice');
    expect(new NodeX509Certificate(issued.certificatePem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    await ca.revoke(admin(), issued.certificate.serial, 'keyCompromise');
    expect(await fx.storage.getClientCertificate(issued.certificate.fingerprint)).toBeUndefined();
    await expect(ca.revoke(admin(), issued.certificate.serial)).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    await expect(ca.revoke(admin(), 'ffff')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const crl = new X509Crl(new Uint8Array((await ca.crl()).der));
    expect(crl.entries.map((e) => e.serialNumber.toLowerCase())).toContain(issued.certificate.serial);
    const events = JSON.stringify(await fx.storage.readAudit({ limit: 1000 } as never));
    expect(events).toContain(issued.certificate.fingerprint);
    expect(events).toContain('RevokeCertificate');
    await expect(ca.issue(admin(), { profile: 'client', principal: 'nobody' })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('keeps an inventory with expiry for status (PCI DSS 4.2.1.1)', async () => {
    const status = await ca.status(admin(), () => undefined);
    expect(status.authorities[0]).toMatchObject({ kind: 'root', state: 'active' });
    expect(status.certificates.length).toBeGreaterThanOrEqual(3);
    expect(status.certificates.every((c) => typeof c.daysLeft === 'number' && c.notAfter)).toBe(true);
    expect(status.certificates.some((c) => c.status === 'revoked')).toBe(true);
  });

  it('refuses expired and revoked client certificates at the handshake in required mode', async () => {
    const good = await ca.issue(admin(), { profile: 'client', principal: 'alice' });
    const revoked = await ca.issue(admin(), { profile: 'client', principal: 'alice' });
    await ca.revoke(admin(), revoked.certificate.serial);
    fx.clock.advanceDays(-60);
    const expired = await ca.issue(admin(), { profile: 'client', principal: 'alice', validityDays: 30 });
    fx.clock.advanceDays(60);
    const serverCert = await ca.issueServerCertificate(jobContext(SCOPE), ['localhost'], 3600);
    const trust = await ca.clientTrust();
    const server: Server = createServer(serverTlsOptions({ certPem: serverCert.certPem, keyPem: serverCert.keyPem, caPem: trust.caPem, crlPems: trust.crlPems, clientAuth: 'required' }), (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const tls = (c: { certificatePem: string; privateKeyPem?: string }) => ({ ca: trust.caPem, cert: c.certificatePem, key: c.privateKeyPem! });
      expect((await handshakeOutcome(port, tls(good), 'TLSv1.2')).ok).toBe(true);
      expect(await handshakeOutcome(port, tls(expired), 'TLSv1.2')).toMatchObject({ ok: false, code: expect.stringMatching(/CERTIFICATE_EXPIRED|ECONNRESET/) });
      expect(await handshakeOutcome(port, tls(revoked), 'TLSv1.2')).toMatchObject({ ok: false, code: expect.stringMatching(/CERTIFICATE_REVOKED|ECONNRESET/) });
      expect(await handshakeOutcome(port, { ca: trust.caPem }, 'TLSv1.2')).toMatchObject({ ok: false });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('runs an intermediate CA under an operator root from a CSR', async () => {
    const now = fx.clock.now();
    const operatorRoot = await createRootCa({ commonName: 'Operator Root', notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 3650 * DAY), pathLength: 1 });
    const pending = await ca.init(admin(), { kind: 'intermediate', commonName: 'DataDefender Issuing CA' });
    expect(pending.state).toBe('pending');
    await expect(ca.init(admin(), { kind: 'intermediate', commonName: 'again' })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    const csr = new Pkcs10CertificateRequest(pending.csrPem!);
    expect(await csr.verify()).toBe(true);
    const rootCert = new X509Certificate(operatorRoot.certPem);
    const signed = await X509CertificateGenerator.create({
      serialNumber: '0a0b0c',
      subject: csr.subjectName,
      issuer: rootCert.subjectName,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 365 * DAY),
      publicKey: csr.publicKey,
      signingKey: await importEcdsaPrivateKeyPem(operatorRoot.keyPem),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new BasicConstraintsExtension(true, 0, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)],
    });
    const other = await createRootCa({ commonName: 'Other Root', notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + DAY) });
    await expect(ca.installIntermediate(admin(), signed.toString('pem'), other.certPem)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(ca.installIntermediate(admin(), other.certPem, operatorRoot.certPem)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    const active = await ca.installIntermediate(admin(), signed.toString('pem'), operatorRoot.certPem);
    expect(active.state).toBe('active');
    const leaf = await ca.issue(admin(), { profile: 'server', hosts: ['svc.internal'] });
    await writeFile(join(dir, 'leaf.pem'), leaf.certificatePem);
    await writeFile(join(dir, 'chain.pem'), leaf.chainPem);
    await writeFile(join(dir, 'root.pem'), operatorRoot.certPem);
    const { stdout } = await run('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'chain.pem'), join(dir, 'leaf.pem')]);
    expect(stdout).toContain('OK');
    const cas = await fx.storage.listCertificateAuthorities();
    expect(cas.filter((c) => c.state === 'active').map((c) => c.kind)).toEqual(['intermediate']);
    const trust = await ca.clientTrust();
    expect(trust.withCrls).toBe(false);
    expect(trust.caPem).toContain(operatorRoot.certPem.trim().split('\n')[1]);
  });

  it('renews at two thirds of the lifetime', () => {
    const issuedAt = new Date('2026-01-01T00:00:00Z');
    expect(renewalTime({ issuedAt, notAfter: new Date('2026-01-31T00:00:00Z') }).toISOString()).toBe('2026-01-21T00:00:00.000Z');
  });
});

