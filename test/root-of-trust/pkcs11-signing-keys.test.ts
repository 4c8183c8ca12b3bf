// The pkcs11 root of trust's signing keys (SigningKeyStore) against SoftHSM2: ECDSA P-256 key pairs generated in the
// token with the promised attributes, signatures that node:crypto and openssl verify, refusals, and the same
// fail-closed / recover-without-restart behaviour as wrap and unwrap. SoftHSM2 is required (never skipped).
import { execFile } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkcs11RootKey, openPkcs11RootOfTrust, type Pkcs11RootOfTrust } from '../../src/adapters/root-of-trust/pkcs11/index.js';
import { DependencyError } from '../../src/errors/index.js';
import { startSoftHsm, withRawSession, type SoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';

const run = promisify(execFile);
const KEY = 'datadefender-root';
let hsm: SoftHsm;
let token: SoftHsmToken;
let outage: SoftHsmToken;
let root: Pkcs11RootOfTrust;
let dir: string;

const options = (t: SoftHsmToken) => ({ modulePath: hsm.module, tokenLabel: t.label, pin: t.pin, keyLabel: KEY, reconnect: { minDelayMs: 20, maxDelayMs: 100 } });

beforeAll(async () => {
  hsm = await startSoftHsm();
  token = await hsm.createToken('dd-signing', '1357');
  outage = await hsm.createToken('dd-sign-outage', '2468');
  await createPkcs11RootKey(options(token));
  await createPkcs11RootKey(options(outage));
  root = await openPkcs11RootOfTrust(options(token));
  dir = await mkdtemp(join(tmpdir(), 'dd-signing-'));
});

afterAll(async () => {
  await root?.close();
  await rm(dir, { recursive: true, force: true });
  await hsm?.close();
});

/** The attributes of the objects labelled `label`, read through a separate raw session. */
async function objectsLabelled(label: string) {
  return withRawSession(hsm, token, (api, session) => {
    api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
    const handles = api.C_FindObjects(session, 10);
    api.C_FindObjectsFinal(session);
    return handles.map((h) => {
      const [cls] = api.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_CLASS }]);
      const klass = Number((cls!.value as Buffer).readBigUInt64LE(0));
      if (klass !== pkcs11js.CKO_PRIVATE_KEY) return { klass };
      const types = [pkcs11js.CKA_TOKEN, pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_SIGN, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_DERIVE, pkcs11js.CKA_UNWRAP];
      const values = api.C_GetAttributeValue(session, h, types.map((type) => ({ type }))).map((a) => (a.value as Buffer)[0]);
      return { klass, token: values[0], sensitive: values[1], extractable: values[2], sign: values[3], decrypt: values[4], derive: values[5], unwrap: values[6] };
    });
  });
}

describe('pkcs11 signing keys (SoftHSM2)', () => {
  it('generates a P-256 key pair inside the token: the private half is a sensitive, non-extractable, sign-only token object', async () => {
    const spki = await root.signingKeys.generate('dd-test-key');
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const objects = await objectsLabelled('dd-test-key');
    expect(objects.map((o) => o.klass).sort()).toEqual([pkcs11js.CKO_PUBLIC_KEY, pkcs11js.CKO_PRIVATE_KEY].sort());
    expect(objects.find((o) => o.klass === pkcs11js.CKO_PRIVATE_KEY)).toEqual({
      klass: pkcs11js.CKO_PRIVATE_KEY, token: 1, sensitive: 1, extractable: 0, sign: 1, decrypt: 0, derive: 0, unwrap: 0,
    });
    expect(Buffer.from(await root.signingKeys.publicKey('dd-test-key')).equals(Buffer.from(spki))).toBe(true);
  });

  it('signs SHA-256 digests as r || s: node:crypto (P1363 and DER) and openssl verify them', async () => {
    const spki = Buffer.from(await root.signingKeys.publicKey('dd-test-key'));
    const message = Buffer.from('datadefender checkpoint 42');
    const signature = Buffer.from(await root.signingKeys.sign('dd-test-key', message));
    expect(signature.length).toBe(64);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    expect(nodeVerify('sha256', Buffer.from('another message'), { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false);
    // openssl wants DER: let WebCrypto-style r||s go through node's DER form by re-encoding.
    const r = signature.subarray(0, 32);
    const s = signature.subarray(32);
    const int = (b: Buffer) => {
      let v = b;
      while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1);
      if (v[0]! >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
      return Buffer.concat([Buffer.from([0x02, v.length]), v]);
    };
    const body = Buffer.concat([int(r), int(s)]);
    await writeFile(join(dir, 'sig.der'), Buffer.concat([Buffer.from([0x30, body.length]), body]));
    await writeFile(join(dir, 'msg'), message);
    await writeFile(join(dir, 'pub.pem'), key.export({ type: 'spki', format: 'pem' }));
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.der'), join(dir, 'msg')]);
    expect(stdout.trim()).toBe('Verified OK');
  });

  it('refuses a taken label, and answers a missing key with InvalidStateError without dropping its sessions', async () => {
    await expect(root.signingKeys.generate('dd-test-key')).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    await expect(root.signingKeys.generate(KEY)).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' }); // the AES root key's label
    await expect(root.signingKeys.sign('absent', Buffer.from('x'))).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
      message: 'The HSM token holds no EC private key labelled "absent".',
    });
    await expect(root.signingKeys.publicKey('')).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    expect(await root.health()).toBe('ok');
  });

  it('destroys both halves of a key pair', async () => {
    await root.signingKeys.generate('dd-doomed');
    expect(await root.signingKeys.destroy('dd-doomed')).toBe(true);
    expect(await objectsLabelled('dd-doomed')).toEqual([]);
    expect(await root.signingKeys.destroy('dd-doomed')).toBe(false);
  });

  it('fails closed with DependencyError while the token is gone and signs again once it is back, without reopening', async () => {
    const other = await openPkcs11RootOfTrust(options(outage));
    try {
      const spki = Buffer.from(await other.signingKeys.generate('dd-outage-key'));
      await outage.takeOffline();
      const failed = await other.signingKeys.sign('dd-outage-key', Buffer.from('m')).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(DependencyError);
      expect((failed as Error).message).toMatch(/^The HSM is unavailable: /);
      const burst = await Promise.allSettled(Array.from({ length: 8 }, () => other.signingKeys.sign('dd-outage-key', Buffer.from('m'))));
      for (const r of burst) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'ERR_DEPENDENCY' } });
      await outage.bringOnline();
      const end = Date.now() + 5_000;
      while ((await other.health()) !== 'ok') {
        if (Date.now() > end) throw new Error('the HSM did not come back');
        await new Promise((r) => setTimeout(r, 25));
      }
      const signature = await other.signingKeys.sign('dd-outage-key', Buffer.from('m'));
      const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
      expect(nodeVerify('sha256', Buffer.from('m'), { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    } finally {
      await other.close();
    }
    await expect(other.signingKeys.sign('dd-outage-key', Buffer.from('m'))).rejects.toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The HSM root of trust is closed.' });
  });
});
