/**
 * HSM-resident signing keys across rotate-root on the pkcs11 root (SoftHSM2, SQLite and PostgreSQL): the CA's and
 * the audit key's wrapped references are re-wrapped like every other blob, and afterwards the CA still signs in the
 * HSM and the audit keyring still loads and signs with the same key. Never skipped.
 */
import { X509Certificate as NodeX509Certificate, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuditKeyring } from '../../src/audit/audit-keys.js';
import { systemClock } from '../../src/ports/clock.js';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.js';
import { initializeConfiguredRoot } from '../../src/roots.js';
import { startSoftHsm, type SoftHsm } from '../helpers/softhsm.js';
import { ENGINES, admin, configOf, openRoot, place, serve } from './ring-fixture.js';
import type { Storage } from '../../src/ports/storage.js';
import { parseRingBlob } from '../../src/core/root-ring-format.js';

/** Root generations under which the CA keys and the audit keys are wrapped. */
async function signingGenerations(storage: Storage): Promise<number[]> {
  const out = new Set<number>();
  for (const r of await storage.listWrappedSecrets('pki-ca-keys', undefined, 100)) out.add(parseRingBlob(r.wrapped)!.generation);
  for (const r of await storage.listWrappedAuditKeys(undefined, 100)) out.add(parseRingBlob(r.wrapped)!.generation);
  return [...out].sort();
}

let hsm: SoftHsm;
let tokens = 0;
beforeAll(async () => {
  hsm = await startSoftHsm();
});
afterAll(async () => {
  await hsm?.close();
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe.each(ENGINES)('HSM signing keys across rotate-root (%s)', (engine) => {
  it('re-wraps the CA and audit key references; both keep signing in the HSM', async () => {
    const p = await place(engine);
    cleanups.push(() => p.dispose());
    const label = `sign-rot-${++tokens}`;
    const token = await hsm.createToken(label, `pin-${tokens}`);
    const env = {
      ...process.env,
      DATADEFENDER_PKCS11_MODULE: hsm.module,
      DATADEFENDER_PKCS11_TOKEN_LABEL: label,
      DATADEFENDER_PKCS11_KEY_LABEL: 'dd-root',
      DATADEFENDER_PKCS11_PIN_ENV: 'DD_TEST_PKCS11_PIN',
      DD_TEST_PKCS11_PIN: token.pin,
    };
    const config = configOf(p.dir, env, 'pkcs11');
    const init = await initializeConfiguredRoot(config, { createKey: true, shares: 1, threshold: 1 }, env);
    await init.opened.close();
    const configured = await openRoot(config, [], env);
    const storage = await p.storage();
    const s = serve({ config, storage, configured, env });
    cleanups.push(async () => {
      await s.close();
      await configured.close();
    });
    const signingKeys = configured.signingKeys!;
    expect(signingKeys.kind).toBe('pkcs11');

    const ca = createCertificateAuthority({ storage, root: s.ring, signingKeys, run: s.service.run, clock: systemClock });
    const caView = await ca.init(admin(), { kind: 'root', commonName: 'Rotating HSM Root' });
    const keyring = createAuditKeyring({ store: storage, root: s.ring, signingKeys, clock: systemClock });
    await keyring.ensure();
    const [auditKey] = keyring.publicKeys();
    expect(await signingGenerations(storage)).toEqual([1]);
    expect(auditKey).toMatchObject({ id: 'audit-signing-1', algorithm: 'ECDSA_SHA_256' });

    await s.migrations.rotate(admin());
    await s.migrations.settled();
    expect((await s.migrations.progress(admin())).migration).toMatchObject({ state: 'done' });
    expect(await signingGenerations(storage)).toEqual([2]);

    // Fresh objects (nothing cached): the references unwrap under generation 2 and the HSM keys sign.
    const after = createCertificateAuthority({ storage, root: s.ring, signingKeys, run: s.service.run, clock: systemClock });
    const issued = await after.issue(admin(), { profile: 'server', hosts: ['rotated.example'] });
    expect(new NodeX509Certificate(issued.certificatePem).verify(new NodeX509Certificate(caView.certificatePem!).publicKey)).toBe(true);
    const keyringAfter = createAuditKeyring({ store: storage, root: s.ring, signingKeys, clock: systemClock });
    await keyringAfter.ensure();
    expect(keyringAfter.publicKeys()).toEqual([auditKey]);
    const payload = Buffer.from('checkpoint after rotation');
    const signature = await keyringAfter.signer()!.sign(payload);
    const publicKey = createPublicKey({ key: Buffer.from(auditKey!.publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(nodeVerify('sha256', payload, publicKey, signature)).toBe(true);
  });
});
