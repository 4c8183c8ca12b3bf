/**
 * Dev-mode TLS material: a CA and a server certificate that OpenSSL accepts, the right SANs and file modes,
 * reuse across restarts, and replacement when hosts change, certificates near expiry, or files go missing.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEV_CA_COMMON_NAME, ensureDevCertificates } from '../../src/pki/dev-ca.js';

const run = promisify(execFile);
const DAY = 24 * 60 * 60 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

async function openssl(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('openssl', args, { timeout: 10_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const mode = async (file: string) => (await stat(file)).mode & 0o777;

describe('ensureDevCertificates', () => {
  let base: string;
  let dir: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'dd-dev-ca-'));
    dir = join(base, 'data', 'tls');
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('creates a CA and a server certificate that openssl verifies for TLS server use', async () => {
    const tls = await ensureDevCertificates(dir, { hosts: ['127.0.0.1'] });
    expect(tls.caCertFile).toBe(join(dir, 'ca.pem'));
    expect(tls.certFile).toBe(join(dir, 'server.pem'));
    expect(tls.keyFile).toBe(join(dir, 'server-key.pem'));
    expect(await readFile(tls.caCertFile, 'utf8')).toBe(tls.caCertPem);
    expect(await readFile(tls.certFile, 'utf8')).toBe(tls.certPem);
    expect(await readFile(tls.keyFile, 'utf8')).toBe(tls.keyPem);

    const plain = await openssl('verify', '-CAfile', tls.caCertFile, tls.certFile);
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).toContain(`${tls.certFile}: OK`);
    // Strict RFC 5280 checks, the TLS server purpose (EKU, key usage) and the host names a client would check.
    for (const extra of [['-x509_strict', '-purpose', 'sslserver'], ['-verify_hostname', 'localhost'], ['-verify_ip', '::1']]) {
      const strict = await openssl('verify', ...extra, '-CAfile', tls.caCertFile, tls.certFile);
      expect(strict.code, `${extra.join(' ')}: ${strict.output}`).toBe(0);
    }
    // The server certificate must not be usable as a CA, nor the CA certificate verify as a TLS server.
    const asCa = await openssl('verify', '-CAfile', tls.certFile, tls.certFile);
    expect(asCa.code).not.toBe(0);
  });

  it('builds the CA and server certificates to the profile', async () => {
    const now = new Date();
    const tls = await ensureDevCertificates(dir, { hosts: ['127.0.0.1'], now });
    const ca = new X509Certificate(tls.caCertPem);
    const server = new X509Certificate(tls.certPem);

    expect(ca.subject).toBe(`CN=${DEV_CA_COMMON_NAME}`);
    expect(ca.issuer).toBe(ca.subject);
    expect(ca.ca).toBe(true);
    expect(ca.publicKey.asymmetricKeyType).toBe('ec');
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const caYears = (Date.parse(ca.validTo) - now.getTime()) / (365.25 * DAY);
    expect(caYears).toBeGreaterThan(9.99);
    expect(caYears).toBeLessThan(10.01);

    expect(server.subject).toBe('CN=127.0.0.1');
    expect(server.issuer).toBe(ca.subject);
    expect(server.ca).toBe(false);
    expect(server.keyUsage).toEqual([SERVER_AUTH]); // Node's keyUsage is the extended key usage list
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkPrivateKey(createPrivateKey(tls.keyPem))).toBe(true);
    expect(server.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const days = (Date.parse(server.validTo) - now.getTime()) / DAY;
    expect(days).toBeGreaterThan(396.99);
    expect(days).toBeLessThanOrEqual(397);
    expect(Date.parse(server.validFrom)).toBeLessThanOrEqual(now.getTime());

    for (const cert of [ca, server]) {
      expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/); // 16 bytes, positive, minimally encoded
    }
    expect(server.serialNumber).not.toBe(ca.serialNumber);
    const text = (await openssl('x509', '-in', tls.certFile, '-noout', '-text')).output;
    expect(text).toContain('ecdsa-with-SHA256');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\s/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text).toContain('X509v3 Subject Key Identifier');
    const caText = (await openssl('x509', '-in', tls.caCertFile, '-noout', '-text')).output;
    expect(caText).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(caText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign\s/);
  });

  it('puts each host in an IP or DNS SAN, plus localhost, 127.0.0.1 and ::1', async () => {
    const tls = await ensureDevCertificates(dir, { hosts: ['Api.Example.TEST.', '10.1.2.3', '[fe80::1%eth0]', '0.0.0.0', '::'] });
    const server = new X509Certificate(tls.certPem);
    expect(server.subjectAltName?.split(', ')).toEqual([
      'DNS:api.example.test',
      'IP Address:10.1.2.3',
      'IP Address:FE80:0:0:0:0:0:0:1',
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
    ]);
    expect(server.subject).toBe('CN=api.example.test');
    expect(server.checkHost('api.example.test')).toBe('api.example.test');
    expect(server.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(server.checkHost('other.example.test')).toBeUndefined();
    expect(server.checkIP('10.1.2.4')).toBeUndefined();
  });

  it('writes private keys 0600, certificates 0644, the directory 0700, whatever the umask', async () => {
    const previous = process.umask(0o077);
    try {
      const tls = await ensureDevCertificates(dir, { hosts: ['localhost'] });
      expect(await mode(dir)).toBe(0o700);
      expect(await mode(join(dir, 'ca-key.pem'))).toBe(0o600);
      expect(await mode(tls.keyFile)).toBe(0o600);
      expect(await mode(tls.caCertFile)).toBe(0o644);
      expect(await mode(tls.certFile)).toBe(0o644);
    } finally {
      process.umask(previous);
    }
    expect(await readFile(join(dir, 'ca-key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect((await readFile(join(dir, 'server-key.pem'), 'utf8')).startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
  });

  it('reuses existing files on restart (same certificates and keys)', async () => {
    const first = await ensureDevCertificates(dir, { hosts: ['127.0.0.1'] });
    const mtime = (await stat(first.certFile)).mtimeMs;
    const second = await ensureDevCertificates(dir, { hosts: ['127.0.0.1'], now: new Date(Date.now() + 300 * DAY) });
    expect(second).toEqual(first);
    expect(new X509Certificate(second.certPem).fingerprint256).toBe(new X509Certificate(first.certPem).fingerprint256);
    expect((await stat(first.certFile)).mtimeMs).toBe(mtime);
    // The same hosts spelled differently, or a subset of them, are already covered.
    const third = await ensureDevCertificates(dir, { hosts: ['LOCALHOST', '[::1]', '0:0:0:0:0:0:0:1'] });
    expect(third.certPem).toBe(first.certPem);
  });

  it('tightens loosened modes of reused files', async () => {
    const tls = await ensureDevCertificates(dir, { hosts: [] });
    await chmod(tls.keyFile, 0o644);
    await chmod(dir, 0o755);
    await ensureDevCertificates(dir, { hosts: [] });
    expect(await mode(tls.keyFile)).toBe(0o600);
    expect(await mode(dir)).toBe(0o700);
  });

  it('reissues the server certificate, under the same CA, when the hosts change', async () => {
    const first = await ensureDevCertificates(dir, { hosts: ['127.0.0.1'] });
    const second = await ensureDevCertificates(dir, { hosts: ['127.0.0.1', 'kms.example.test'] });
    expect(second.caCertPem).toBe(first.caCertPem);
    expect(second.certPem).not.toBe(first.certPem);
    expect(second.keyPem).not.toBe(first.keyPem);
    expect(new X509Certificate(second.certPem).subjectAltName).toContain('DNS:kms.example.test');
    const verified = await openssl('verify', '-CAfile', second.caCertFile, second.certFile);
    expect(verified.code, verified.output).toBe(0);
  });

  it('reissues the server certificate within 30 days of expiry, or when not yet valid', async () => {
    const now = Date.now();
    const first = await ensureDevCertificates(dir, { hosts: [], now: new Date(now) });
    const kept = await ensureDevCertificates(dir, { hosts: [], now: new Date(now + 366 * DAY) });
    expect(kept.certPem).toBe(first.certPem);
    const renewed = await ensureDevCertificates(dir, { hosts: [], now: new Date(now + 368 * DAY) });
    expect(renewed.certPem).not.toBe(first.certPem);
    expect(renewed.caCertPem).toBe(first.caCertPem);
    // A clock set back before notBefore: the certificate would be rejected, so it is replaced.
    const back = await ensureDevCertificates(dir, { hosts: [], now: new Date(now + 100 * DAY) });
    expect(back.certPem).not.toBe(renewed.certPem);
  });

  it('replaces a CA within 30 days of expiry, and the server certificate with it', async () => {
    const now = Date.now();
    const first = await ensureDevCertificates(dir, { hosts: [], now: new Date(now) });
    const later = new Date(now + (10 * 365 - 20) * DAY);
    const second = await ensureDevCertificates(dir, { hosts: [], now: later });
    expect(second.caCertPem).not.toBe(first.caCertPem);
    expect(second.certPem).not.toBe(first.certPem);
    const server = new X509Certificate(second.certPem);
    expect(server.checkIssued(new X509Certificate(second.caCertPem))).toBe(true);
  });

  it('never issues a server certificate that outlives its CA', async () => {
    const now = Date.now();
    const first = await ensureDevCertificates(dir, { hosts: [], now: new Date(now) });
    const late = new Date(now + (10 * 365 - 200) * DAY); // CA still has ~198 days
    const second = await ensureDevCertificates(dir, { hosts: ['new.example.test'], now: late });
    expect(second.caCertPem).toBe(first.caCertPem);
    const ca = new X509Certificate(second.caCertPem);
    expect(Date.parse(new X509Certificate(second.certPem).validTo)).toBeLessThanOrEqual(Date.parse(ca.validTo));
  });

  it('reissues a missing, unreadable or mismatched server certificate', async () => {
    const first = await ensureDevCertificates(dir, { hosts: [] });
    await unlink(first.certFile);
    const missing = await ensureDevCertificates(dir, { hosts: [] });
    expect(missing.certPem).not.toBe(first.certPem);

    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFile(missing.keyFile, other);
    const mismatched = await ensureDevCertificates(dir, { hosts: [] });
    expect(mismatched.certPem).not.toBe(missing.certPem);
    expect(new X509Certificate(mismatched.certPem).checkPrivateKey(createPrivateKey(mismatched.keyPem))).toBe(true);

    await writeFile(mismatched.certFile, 'garbage');
    const garbled = await ensureDevCertificates(dir, { hosts: [] });
    expect(new X509Certificate(garbled.certPem).checkIssued(new X509Certificate(garbled.caCertPem))).toBe(true);
  });

  it('reissues a server certificate signed by another CA', async () => {
    const first = await ensureDevCertificates(dir, { hosts: [] });
    const otherDir = join(base, 'other');
    const foreign = await ensureDevCertificates(otherDir, { hosts: [] });
    await writeFile(first.certFile, foreign.certPem);
    await writeFile(first.keyFile, foreign.keyPem);
    const again = await ensureDevCertificates(dir, { hosts: [] });
    expect(again.caCertPem).toBe(first.caCertPem);
    expect(again.certPem).not.toBe(foreign.certPem);
    expect(new X509Certificate(again.certPem).checkIssued(new X509Certificate(first.caCertPem))).toBe(true);
  });

  it('creates a new CA when one file of the CA pair is missing', async () => {
    const first = await ensureDevCertificates(dir, { hosts: [] });
    await unlink(join(dir, 'ca-key.pem'));
    const second = await ensureDevCertificates(dir, { hosts: [] });
    expect(second.caCertPem).not.toBe(first.caCertPem);
    expect(second.certPem).not.toBe(first.certPem);
    const verified = await openssl('verify', '-CAfile', second.caCertFile, second.certFile);
    expect(verified.code, verified.output).toBe(0);
  });

  it('refuses a CA pair that exists but is unusable, and leaves it in place', async () => {
    const first = await ensureDevCertificates(dir, { hosts: [] });
    const caKey = join(dir, 'ca-key.pem');
    // A valid key that does not belong to the CA certificate.
    await writeFile(caKey, await readFile(first.keyFile));
    await expect(ensureDevCertificates(dir, { hosts: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await writeFile(caKey, 'not a key');
    await expect(ensureDevCertificates(dir, { hosts: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    // A leaf certificate with its own key is a matching pair, but not a CA.
    await writeFile(first.caCertFile, first.certPem);
    await writeFile(caKey, first.keyPem);
    await expect(ensureDevCertificates(dir, { hosts: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(await readFile(first.caCertFile, 'utf8')).toBe(first.certPem);
  });

  it('rejects a host that is neither an IP address nor a DNS name, before touching the disk', async () => {
    for (const host of ['bad host', '*.example.test', 'a..b', '-x.example', 'x'.repeat(64), '']) {
      await expect(ensureDevCertificates(dir, { hosts: [host] }), host).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    }
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
