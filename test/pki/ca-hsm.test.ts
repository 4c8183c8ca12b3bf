/**
 * The built-in CA with its key in an HSM (the pkcs11 root's SigningKeyStore, SoftHSM2): the key pair is generated
 * in the token (sensitive, not extractable) and the CA row holds only a wrapped reference; certificates and CRLs
 * signed by the HSM verify with openssl; an intermediate's CSR is signed there too; a CA made earlier with a
 * wrapped software key keeps working beside it; an unavailable HSM fails issuing closed and the same objects
 * recover. SoftHSM2 is required (never skipped).
 */
import { execFile } from 'node:child_process';
import { X509Certificate as NodeX509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkcs11RootKey, openPkcs11RootOfTrust, type Pkcs11RootOfTrust } from '../../src/adapters/root-of-trust/pkcs11/index.js';
import { caKeyAad } from '../../src/core/secret-aads.js';
import { decodeSigningKeyReference } from '../../src/ports/signing-key-store.js';
import { createCertificateAuthority, type CertificateAuthority } from '../../src/pki/certificate-authority.js';
import { createRootCa } from '../../src/pki/create-root-ca.js';
import { importEcdsaPrivateKeyPem } from '../../src/pki/key-pair.js';
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, Pkcs10CertificateRequest, X509Certificate, X509CertificateGenerator } from '../../src/pki/x509.js';
import { context, coreFixture } from '../helpers/core-fixture.js';
import { startSoftHsm, withRawSession, type SoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';

const run = promisify(execFile);
const DAY = 86_400_000;
const admin = () => context(['administrator']);

/** `openssl verify` output (exit status 0) or the error output. */
async function opensslVerify(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('openssl', ['verify', ...args]);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('built-in CA with its key in the HSM (pkcs11, SoftHSM2)', () => {
  let fx: Awaited<ReturnType<typeof coreFixture>>;
  let hsm: SoftHsm;
  let token: SoftHsmToken;
  let root: Pkcs11RootOfTrust;
  let ca: CertificateAuthority;
  let dir: string;
  let softwareCaPem: string;

  beforeAll(async () => {
    hsm = await startSoftHsm();
    token = await hsm.createToken('dd-ca-hsm', '4321');
    const options = { modulePath: hsm.module, tokenLabel: token.label, pin: token.pin, keyLabel: 'datadefender-root', reconnect: { minDelayMs: 20, maxDelayMs: 100 } };
    await createPkcs11RootKey(options);
    root = await openPkcs11RootOfTrust(options);
    fx = await coreFixture();
    fx.clock.advanceDays((Date.now() - fx.clock.now().getTime()) / DAY);
    dir = await mkdtemp(join(tmpdir(), 'dd-ca-hsm-'));
    await fx.service.run(admin(), 'CreatePrincipal', { readOnly: false, action: 'datadefender:CreatePrincipal' }, async (op) => {
      await op.authorize(null);
      await fx.storage.createPrincipal({ id: 'p-bob', name: 'bob', arn: 'arn:aws:iam::111122223333:user/bob', kind: 'user', roles: ['data-engineer'], policies: [], tags: {}, disabled: false, createdAt: fx.clock.now(), updatedAt: fx.clock.now() } as never);
    });
  });

  afterAll(async () => {
    await fx?.close();
    await root?.close();
    await rm(dir, { recursive: true, force: true });
    await hsm?.close();
  });

  it('keeps using a CA made earlier with a wrapped software key when the HSM is there', async () => {
    const software = createCertificateAuthority({ storage: fx.storage, root, run: fx.service.run, clock: fx.clock });
    const view = await software.init(admin(), { kind: 'root', commonName: 'Software Root' });
    softwareCaPem = view.certificatePem!;
    ca = createCertificateAuthority({ storage: fx.storage, root, signingKeys: root.signingKeys, run: fx.service.run, clock: fx.clock });
    const issued = await ca.issue(admin(), { profile: 'server', hosts: ['old.example'] });
    expect(new NodeX509Certificate(issued.certificatePem).verify(new NodeX509Certificate(softwareCaPem).publicKey)).toBe(true);
  });

  it('generates a new root CA key pair inside the HSM; the CA row holds a wrapped reference, no key', async () => {
    const view = await ca.init(admin(), { kind: 'root', commonName: 'HSM Root' });
    const record = (await fx.storage.listCertificateAuthorities()).find((c) => c.id === (view as { id: string }).id)!;
    expect(record.state).toBe('active');
    // What is stored unwraps (under the CA's AAD) to a reference: store, label, public key — not a private key.
    const unwrapped = await root.unwrap(record.wrappedKey, caKeyAad(record.id));
    const reference = decodeSigningKeyReference(unwrapped.reveal())!;
    expect(reference).toMatchObject({ store: 'pkcs11', label: `datadefender-ca-${record.id}` });
    expect(() => createPrivateKey({ key: unwrapped.reveal(), format: 'der', type: 'pkcs8' })).toThrow();
    // The certificate certifies the HSM's key.
    const cert = new X509Certificate(record.certPem!);
    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(reference.publicKey))).toBe(true);
    // The private key object is in the token: sensitive, never extractable, sign only.
    const attributes = await withRawSession(hsm, token, (api, session) => {
      api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: reference.label }, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
      const handles = api.C_FindObjects(session, 2);
      api.C_FindObjectsFinal(session);
      expect(handles).toHaveLength(1);
      const types = [pkcs11js.CKA_TOKEN, pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_NEVER_EXTRACTABLE, pkcs11js.CKA_ALWAYS_SENSITIVE, pkcs11js.CKA_SIGN, pkcs11js.CKA_DECRYPT];
      return api.C_GetAttributeValue(session, handles[0]!, types.map((type) => ({ type }))).map((a) => (a.value as Buffer)[0]);
    });
    expect(attributes).toEqual([1, 1, 0, 1, 1, 1, 0]);
    const events = JSON.stringify(await fx.storage.readAudit({ limit: 1000 } as never));
    expect(events).toContain('"keyStorage":"pkcs11"');
  });

  it('signs server and client certificates and the CRL in the HSM: openssl verifies them and sees the revocation', async () => {
    const caPem = (await ca.caBundle());
    await writeFile(join(dir, 'ca.pem'), caPem);
    const server = await ca.issue(admin(), { profile: 'server', hosts: ['kms.internal', '10.1.2.3'] });
    const client = await ca.issue(admin(), { profile: 'client', principal: 'bob' });
    const revoked = await ca.issue(admin(), { profile: 'client', principal: 'bob' });
    expect(server.chainPem).not.toContain(softwareCaPem.trim().split('\n')[1]);
    await writeFile(join(dir, 'server.pem'), server.certificatePem);
    await writeFile(join(dir, 'client.pem'), client.certificatePem);
    await writeFile(join(dir, 'revoked.pem'), revoked.certificatePem);
    for (const name of ['server', 'client']) {
      const r = await opensslVerify(['-CAfile', join(dir, 'ca.pem'), join(dir, `${name}.pem`)]);
      expect(r).toEqual({ ok: true, output: `${join(dir, `${name}.pem`)}: OK\n` });
    }
    const purpose = await opensslVerify(['-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslserver', join(dir, 'server.pem')]);
    expect(purpose.ok).toBe(true);

    await ca.revoke(admin(), revoked.certificate.serial, 'keyCompromise');
    const crl = await ca.crl();
    await writeFile(join(dir, 'crl.pem'), crl.pem);
    const { stderr } = await run('openssl', ['crl', '-in', join(dir, 'crl.pem'), '-CAfile', join(dir, 'ca.pem'), '-noout']);
    expect(stderr.trim()).toBe('verify OK');
    const good = await opensslVerify(['-crl_check', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', join(dir, 'crl.pem'), join(dir, 'client.pem')]);
    expect(good.ok).toBe(true);
    const bad = await opensslVerify(['-crl_check', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', join(dir, 'crl.pem'), join(dir, 'revoked.pem')]);
    expect(bad).toMatchObject({ ok: false, output: expect.stringContaining('certificate revoked') });
  });

  it('fails issuing closed with the dependency error while the HSM is unavailable, and recovers without a restart', async () => {
    await token.takeOffline();
    try {
      await expect(ca.issue(admin(), { profile: 'server', hosts: ['during.example'] })).rejects.toMatchObject({ code: 'ERR_DEPENDENCY', message: expect.stringMatching(/^The HSM is unavailable: /) });
      await expect(ca.issue(admin(), { profile: 'server', hosts: ['during.example'] })).rejects.toMatchObject({ code: 'ERR_DEPENDENCY' });
    } finally {
      await token.bringOnline();
    }
    const end = Date.now() + 5_000;
    while ((await root.health()) !== 'ok') {
      if (Date.now() > end) throw new Error('the HSM did not come back');
      await new Promise((r) => setTimeout(r, 25));
    }
    const after = await ca.issue(admin(), { profile: 'server', hosts: ['after.example'] });
    await writeFile(join(dir, 'after.pem'), after.certificatePem);
    expect((await opensslVerify(['-CAfile', join(dir, 'ca.pem'), join(dir, 'after.pem')])).ok).toBe(true);
    // Nothing was issued while the HSM was gone.
    const listed = JSON.stringify(await ca.list(admin()));
    expect(listed).not.toContain('during.example');
    expect(listed).toContain('after.example');
  });

  it('makes an intermediate CA whose key and CSR come from the HSM, and issues under an operator root', async () => {
    const now = fx.clock.now();
    const operatorRoot = await createRootCa({ commonName: 'Operator Root', notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 3650 * DAY), pathLength: 1 });
    const pending = await ca.init(admin(), { kind: 'intermediate', commonName: 'HSM Issuing CA' });
    const csr = new Pkcs10CertificateRequest(pending.csrPem!);
    expect(await csr.verify()).toBe(true);
    const record = (await fx.storage.listCertificateAuthorities()).find((c) => c.state === 'pending')!;
    const reference = decodeSigningKeyReference((await root.unwrap(record.wrappedKey, caKeyAad(record.id))).reveal())!;
    expect(Buffer.from(csr.publicKey.rawData).equals(Buffer.from(reference.publicKey))).toBe(true);
    const signed = await X509CertificateGenerator.create({
      serialNumber: '0c0d0e',
      subject: csr.subjectName,
      issuer: new X509Certificate(operatorRoot.certPem).subjectName,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 365 * DAY),
      publicKey: csr.publicKey,
      signingKey: await importEcdsaPrivateKeyPem(operatorRoot.keyPem),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new BasicConstraintsExtension(true, 0, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)],
    });
    // The installation check signs a challenge in the HSM: a certificate for another key is refused.
    const stranger = await createRootCa({ commonName: 'Stranger', notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + DAY) });
    await expect(ca.installIntermediate(admin(), stranger.certPem, operatorRoot.certPem)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    expect((await ca.installIntermediate(admin(), signed.toString('pem'), operatorRoot.certPem)).state).toBe('active');
    const leaf = await ca.issue(admin(), { profile: 'server', hosts: ['svc.internal'] });
    await writeFile(join(dir, 'leaf.pem'), leaf.certificatePem);
    await writeFile(join(dir, 'chain.pem'), leaf.chainPem);
    await writeFile(join(dir, 'operator.pem'), operatorRoot.certPem);
    expect((await opensslVerify(['-CAfile', join(dir, 'operator.pem'), '-untrusted', join(dir, 'chain.pem'), join(dir, 'leaf.pem')])).ok).toBe(true);
  });

  it('refuses an HSM CA where no HSM is configured (a root migrated away from pkcs11) with the dependency error', async () => {
    const without = createCertificateAuthority({ storage: fx.storage, root, run: fx.service.run, clock: fx.clock });
    await expect(without.issue(admin(), { profile: 'server', hosts: ['x.example'] })).rejects.toMatchObject({
      code: 'ERR_DEPENDENCY',
      message: 'The CA key is in an HSM (pkcs11) that the configured root of trust does not reach.',
    });
  });

  it('refuses to sign when the token holds another key under the CA label than the referenced one', async () => {
    const active = (await fx.storage.listCertificateAuthorities()).find((c) => c.state === 'active')!;
    const label = `datadefender-ca-${active.id}`;
    expect(await root.signingKeys.destroy(label)).toBe(true);
    await root.signingKeys.generate(label);
    const fresh = createCertificateAuthority({ storage: fx.storage, root, signingKeys: root.signingKeys, run: fx.service.run, clock: fx.clock });
    await expect(fresh.issue(admin(), { profile: 'server', hosts: ['x.example'] })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });
});
