/**
 * The reusable X.509 building blocks: issuers, end-entity certificates, serial numbers, the Reflect shim.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCertificateIssuer, type CertificateIssuer } from '../../src/pki/certificate-issuer.js';
import { createRootCa, type RootCa } from '../../src/pki/create-root-ca.js';
import { EXTENDED_KEY_USAGE, issueCertificate } from '../../src/pki/issue-certificate.js';
import { issueServerCertificate } from '../../src/pki/issue-server-certificate.js';
import { exportPrivateKeyPem, generateEcdsaKeyPair, importEcdsaPrivateKeyPem } from '../../src/pki/key-pair.js';
import { randomSerialNumber } from '../../src/pki/serial-number.js';
import '../../src/pki/x509.js';

const run = promisify(execFile);
const DAY = 24 * 60 * 60 * 1000;

describe('X.509 building blocks', () => {
  let dir: string;
  let root: RootCa;
  let issuer: CertificateIssuer;
  const now = new Date();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-issue-'));
    root = await createRootCa({ commonName: 'Test CA', notBefore: now, notAfter: new Date(now.getTime() + 30 * DAY), pathLength: 0 });
    issuer = await loadCertificateIssuer(root.certPem, root.keyPem);
    await writeFile(join(dir, 'ca.pem'), root.certPem);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function leaf(extendedKeyUsages = [EXTENDED_KEY_USAGE.clientAuth] as const, days = 1) {
    const keys = await generateEcdsaKeyPair();
    return issueCertificate({
      issuer,
      subjectPublicKey: keys.publicKey,
      commonName: 'app-1',
      extendedKeyUsages: [...extendedKeyUsages],
      notBefore: now,
      notAfter: new Date(now.getTime() + days * DAY),
    });
  }

  it('issues a client certificate that openssl accepts for client authentication only', async () => {
    const file = join(dir, 'client.pem');
    await writeFile(file, await leaf());
    const client = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', join(dir, 'ca.pem'), file]);
    expect(client.stdout).toContain(': OK');
    await expect(run('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), file])).rejects.toThrow();
    const cert = new X509Certificate(await leaf());
    expect(cert.subject).toBe('CN=app-1');
    expect(cert.subjectAltName).toBeUndefined();
  });

  it('never lets a certificate outlive its issuer', async () => {
    const cert = new X509Certificate(await leaf(undefined, 365));
    expect(cert.validTo).toBe(new X509Certificate(root.certPem).validTo);
  });

  it('rejects a bad common name, no extended key usage, or an empty validity period', async () => {
    const keys = await generateEcdsaKeyPair();
    const base = { issuer, subjectPublicKey: keys.publicKey, extendedKeyUsages: [EXTENDED_KEY_USAGE.serverAuth], notBefore: now, notAfter: new Date(now.getTime() + DAY) };
    await expect(issueCertificate({ ...base, commonName: '' })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(issueCertificate({ ...base, commonName: 'x'.repeat(65) })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(issueCertificate({ ...base, commonName: 'a', extendedKeyUsages: [] })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(
      issueCertificate({ ...base, commonName: 'a', notBefore: new Date(now.getTime() + 40 * DAY), notAfter: new Date(now.getTime() + 50 * DAY) }),
    ).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(issueServerCertificate(issuer, [], now)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('refuses an issuer that is not a CA or whose key does not match', async () => {
    const keys = await generateEcdsaKeyPair();
    const otherKeyPem = await exportPrivateKeyPem(keys.privateKey);
    await expect(loadCertificateIssuer(root.certPem, otherKeyPem)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    const server = await issueServerCertificate(issuer, [{ type: 'dns', value: 'localhost' }], now);
    await expect(loadCertificateIssuer(server.certPem, server.keyPem)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(loadCertificateIssuer('garbage', root.keyPem)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });

  it('imports only P-256 ECDSA PKCS#8 keys', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await expect(importEcdsaPrivateKeyPem(p384)).rejects.toThrow();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await expect(importEcdsaPrivateKeyPem(rsa)).rejects.toThrow();
    const key = await importEcdsaPrivateKeyPem(root.keyPem);
    expect(key.extractable).toBe(false);
    expect(key.usages).toEqual(['sign']);
  });

  it('makes random, positive, 16-byte serial numbers', () => {
    const serials = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const serial = randomSerialNumber();
      expect(serial).toMatch(/^[4-7][0-9a-f]{31}$/);
      serials.add(serial);
    }
    expect(serials.size).toBe(2000);
  });

  it('provides the Reflect metadata functions tsyringe needs, with prototype lookup', () => {
    const reflect = Reflect as unknown as {
      defineMetadata(k: unknown, v: unknown, t: object): void;
      getMetadata(k: unknown, t: object): unknown;
      getOwnMetadata(k: unknown, t: object): unknown;
    };
    class Base {}
    class Derived extends Base {}
    reflect.defineMetadata('k', 42, Base);
    expect(reflect.getMetadata('k', Derived)).toBe(42);
    expect(reflect.getOwnMetadata('k', Derived)).toBeUndefined();
    expect(reflect.getMetadata('missing', Derived)).toBeUndefined();
  });
});
