/**
 * Audit checkpoints signed inside the HSM (the pkcs11 root's SigningKeyStore, SoftHSM2), on SQLite and PostgreSQL:
 * a deployment whose signing key was Ed25519 in software gets an ECDSA P-256 key generated in the token; old and
 * new checkpoints verify with the offline verifier; an HSM checkpoint verifies with openssl and node:crypto from the
 * exported public key; the stored row holds only a wrapped reference; an unavailable HSM makes checkpoints wait
 * (reported, never a request failure) until it is back; a forgotten keyring (seal) signs nothing.
 * SoftHSM2 and PostgreSQL are required (never skipped).
 */
import { execFile } from 'node:child_process';
import { createPublicKey, randomBytes, verify as nodeVerify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkcs11RootKey, openPkcs11RootOfTrust, type Pkcs11RootOfTrust } from '../../src/adapters/root-of-trust/pkcs11/index.js';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { auditKeyAad, publicKeyPem, type AuditPublicKey } from '../../src/audit/audit-keys.js';
import { startAuditRuntime } from '../../src/audit/audit-runtime.js';
import { checkpointSignatureValid } from '../../src/audit/checkpoints.js';
import { storedTrail } from '../../src/audit/store-trail.js';
import { verifyTrail } from '../../src/audit/verifier.js';
import { systemClock } from '../../src/ports/clock.js';
import { decodeSigningKeyReference } from '../../src/ports/signing-key-store.js';
import type { Storage } from '../../src/ports/storage.js';
import { startSoftHsm, withRawSession, type SoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';
import { makeEvent } from '../storage/storage-contract.js';

const run = promisify(execFile);
const PG_URL = process.env.DATADEFENDER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `dd_audit_hsm_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

let hsm: SoftHsm;
const tokens: Record<string, SoftHsmToken> = {};
const ENGINES = ['sqlite', 'postgres'] as const;

beforeAll(async () => {
  hsm = await startSoftHsm();
  for (const engine of ENGINES) tokens[engine] = await hsm.createToken(`dd-audit-${engine}`, '9753');
  tokens.race = await hsm.createToken('dd-audit-race', '9753');
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists "${SCHEMA}" cascade`);
  await client.end();
  await hsm?.close();
});

const keyMap = (keys: readonly AuditPublicKey[]) => new Map(keys.map((k) => [k.id, new Uint8Array(Buffer.from(k.publicKey, 'base64'))]));

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(ENGINES)('audit checkpoints signed in the HSM (%s)', (engine) => {
  let dir: string;
  let storage: Storage;
  let root: Pkcs11RootOfTrust;
  let token: SoftHsmToken;

  beforeAll(async () => {
    token = tokens[engine]!;
    dir = await mkdtemp(join(tmpdir(), 'dd-audit-hsm-'));
    const options = { modulePath: hsm.module, tokenLabel: token.label, pin: token.pin, keyLabel: 'datadefender-root', reconnect: { minDelayMs: 20, maxDelayMs: 100 } };
    await createPkcs11RootKey(options);
    root = await openPkcs11RootOfTrust(options);
    storage = engine === 'sqlite' ? await openSqliteStorage({ file: join(dir, 'dd.db') }) : await openPostgresStorage({ connectionString: PG_URL, schema: SCHEMA, poolSize: 4 });
  });

  afterAll(async () => {
    await storage?.close();
    await root?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const verifyStore = (keys: readonly AuditPublicKey[]) => verifyTrail(storedTrail(storage, { publicKeys: keys }), { publicKeys: keyMap(keys) });
  const runtime = (withHsm: boolean, onError: (err: unknown, what: string) => void = () => {}) =>
    startAuditRuntime({ store: storage, root, ...(withHsm ? { signingKeys: root.signingKeys } : {}), clock: systemClock, sealed: () => false, checkpointEvents: 1000, checkpointSeconds: 3600, onError });

  it('moves a deployment from an Ed25519 software key to an ECDSA P-256 key generated in the HSM; both kinds of checkpoint verify', async () => {
    const before = runtime(false);
    await before.ready();
    for (let i = 0; i < 5; i++) await before.log.record(makeEvent({ requestId: `soft-${i}` }));
    expect(await before.checkpointer.flush()).toBe(1);
    await before.close();

    const after = runtime(true);
    await after.ready();
    const keys = after.keyring.publicKeys();
    expect(keys.map((k) => [k.id, k.algorithm])).toEqual([
      ['audit-signing-1', 'ED25519'],
      ['audit-signing-2', 'ECDSA_SHA_256'],
    ]);
    expect(after.keyring.signer()?.keyId).toBe('audit-signing-2');
    for (let i = 0; i < 5; i++) await after.log.record(makeEvent({ requestId: `hsm-${i}` }));
    expect(await after.checkpointer.flush()).toBe(1);
    await after.close();

    const checkpoints = await storage.listCheckpoints();
    expect(checkpoints.map((c) => c.keyId).sort()).toEqual(['audit-signing-1', 'audit-signing-2']);
    const report = await verifyStore(keys);
    expect(report).toMatchObject({ ok: true, events: 10, checkpoints: 2, firstBreak: null });
    // A checkpoint signed by the HSM key does not verify under the old key, nor a tampered one under its own.
    const hsmCheckpoint = checkpoints.find((c) => c.keyId === 'audit-signing-2')!;
    const hsmKey = Buffer.from(keys[1]!.publicKey, 'base64');
    expect(checkpointSignatureValid(hsmCheckpoint, hsmKey)).toBe(true);
    expect(checkpointSignatureValid(hsmCheckpoint, Buffer.from(keys[0]!.publicKey, 'base64'))).toBe(false);
    expect(checkpointSignatureValid({ ...hsmCheckpoint, sequence: hsmCheckpoint.sequence + 1 }, hsmKey)).toBe(false);
  });

  it('an HSM checkpoint verifies with openssl and node:crypto from the exported public key', async () => {
    const r = runtime(true);
    await r.ready();
    const key = r.keyring.publicKeys().find((k) => k.id === 'audit-signing-2')!;
    await r.close();
    const checkpoint = (await storage.listCheckpoints()).find((c) => c.keyId === 'audit-signing-2')!;
    await writeFile(join(dir, 'audit-key.pem'), publicKeyPem(key));
    await writeFile(join(dir, 'payload'), checkpoint.payload);
    await writeFile(join(dir, 'signature.der'), Buffer.from(checkpoint.signature, 'base64'));
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-verify', join(dir, 'audit-key.pem'), '-signature', join(dir, 'signature.der'), join(dir, 'payload')]);
    expect(stdout.trim()).toBe('Verified OK');
    const publicKey = createPublicKey(publicKeyPem(key));
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(nodeVerify('sha256', Buffer.from(checkpoint.payload), publicKey, Buffer.from(checkpoint.signature, 'base64'))).toBe(true);
  });

  it('stores only a wrapped reference; the private key is a sensitive, non-extractable token object', async () => {
    const record = (await storage.listAuditKeys()).find((k) => k.id === 'audit-signing-2')!;
    expect(record.algorithm).toBe('ECDSA_SHA_256');
    const reference = decodeSigningKeyReference((await root.unwrap(record.wrapped, auditKeyAad(record))).reveal())!;
    expect(reference.store).toBe('pkcs11');
    expect(reference.label).toMatch(/^datadefender-audit-[0-9a-f-]{36}$/);
    expect(Buffer.from(reference.publicKey).equals(Buffer.from(record.publicKey!))).toBe(true);
    const attributes = await withRawSession(hsm, token, (api, session) => {
      api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: reference.label }, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
      const handles = api.C_FindObjects(session, 2);
      api.C_FindObjectsFinal(session);
      expect(handles).toHaveLength(1);
      const types = [pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_SIGN];
      return api.C_GetAttributeValue(session, handles[0]!, types.map((type) => ({ type }))).map((a) => (a.value as Buffer)[0]);
    });
    expect(attributes).toEqual([1, 0, 1]);
    // The public_key column is not trusted: a swapped one changes nothing the keyring hands out.
    const r = runtime(true);
    await r.ready();
    expect(r.keyring.publicKeys().find((k) => k.id === 'audit-signing-2')!.publicKey).toBe(Buffer.from(reference.publicKey).toString('base64'));
    await r.close();
  });

  it('while the HSM is unavailable checkpoints wait (reported, requests unaffected), then are signed once it is back', async () => {
    const errors: string[] = [];
    const r = runtime(true, (err, what) => errors.push(`${what}: ${(err as { code?: string }).code}`));
    await r.ready();
    await token.takeOffline();
    try {
      await r.log.record(makeEvent({ requestId: 'during-outage' }));
      expect(await r.checkpointer.flush()).toBe(0);
      expect(errors).toContain('audit checkpoint failed: ERR_DEPENDENCY');
    } finally {
      await token.bringOnline();
    }
    await until(async () => (await root.health()) === 'ok', 5_000);
    expect(await r.checkpointer.flush()).toBe(1);
    const keys = r.keyring.publicKeys();
    await r.close();
    expect(await verifyStore(keys)).toMatchObject({ ok: true, firstBreak: null });
  });

  it('without the HSM store, keeps its HSM checkpoints verifiable and signs with the newest key it can use', async () => {
    const r = runtime(false);
    await r.ready();
    const keys = r.keyring.publicKeys();
    expect(keys.map((k) => [k.id, k.algorithm])).toEqual([
      ['audit-signing-1', 'ED25519'],
      ['audit-signing-2', 'ECDSA_SHA_256'],
    ]);
    expect(r.keyring.signer()?.keyId).toBe('audit-signing-1');
    await r.log.record(makeEvent({ requestId: 'software-again' }));
    expect(await r.checkpointer.flush()).toBe(1);
    await r.close();
    expect(await verifyStore(keys)).toMatchObject({ ok: true, firstBreak: null });
  });

  it('an HSM key that vanished from the token, or was replaced there, is reported and never used; a new one is made', async () => {
    const labelOf = async (id: string) => {
      const record = (await storage.listAuditKeys()).find((k) => k.id === id)!;
      return decodeSigningKeyReference((await root.unwrap(record.wrapped, auditKeyAad(record))).reveal())!.label;
    };
    expect(await root.signingKeys.destroy(await labelOf('audit-signing-2'))).toBe(true);
    const errors: string[] = [];
    const first = runtime(true, (_err, what) => errors.push(what));
    await first.ready();
    expect(errors).toEqual(['audit key audit-signing-2 does not unwrap or its HSM key does not match; ignored']);
    expect(first.keyring.signer()?.keyId).toBe('audit-signing-3');
    expect(first.keyring.publicKeys().map((k) => k.id)).toEqual(['audit-signing-1', 'audit-signing-2', 'audit-signing-3']);
    await first.close();

    // Another key under the same label: its public key is not the referenced one.
    const label = await labelOf('audit-signing-3');
    await root.signingKeys.destroy(label);
    await root.signingKeys.generate(label);
    errors.length = 0;
    const second = runtime(true, (_err, what) => errors.push(what));
    await second.ready();
    expect(errors).toContain('audit key audit-signing-3 does not unwrap or its HSM key does not match; ignored');
    expect(second.keyring.signer()?.keyId).toBe('audit-signing-4');
    await second.log.record(makeEvent({ requestId: 'after-replacement' }));
    expect(await second.checkpointer.flush()).toBe(1);
    const keys = second.keyring.publicKeys();
    await second.close();
    expect(await verifyStore(keys)).toMatchObject({ ok: true, firstBreak: null });
  });

  it('signs nothing once the keyring is forgotten (seal)', async () => {
    const r = runtime(true);
    await r.ready();
    expect(r.keyring.signer()).toBeDefined();
    r.keyring.forget();
    expect(r.keyring.signer()).toBeUndefined();
    expect(r.keyring.hmacKey()).toBeUndefined();
    await r.close();
  });
});

describe('concurrent first starts with the HSM (SQLite)', () => {
  it('one signing key wins the race; the loser destroys the HSM key it made', async () => {
    const token = tokens.race!;
    const dir = await mkdtemp(join(tmpdir(), 'dd-audit-race-'));
    const options = { modulePath: hsm.module, tokenLabel: token.label, pin: token.pin, keyLabel: 'datadefender-root' };
    await createPkcs11RootKey(options);
    const root = await openPkcs11RootOfTrust(options);
    const storage = await openSqliteStorage({ file: join(dir, 'dd.db') });
    try {
      const errors: unknown[] = [];
      const start = () => startAuditRuntime({ store: storage, root, signingKeys: root.signingKeys, clock: systemClock, sealed: () => false, checkpointEvents: 1000, checkpointSeconds: 3600, onError: (err) => errors.push(err) });
      const runtimes = [start(), start(), start()];
      await Promise.all(runtimes.map((r) => r.ready()));
      // SoftHSM2 may fail one of several sessions generating and searching at the same instant (seen once in many
      // runs): that start reports a dependency error and loads at its next use, as any HSM outage.
      expect(errors.every((e) => (e as { code?: string }).code === 'ERR_DEPENDENCY')).toBe(true);
      for (const r of runtimes) if (!r.keyring.signer()) await r.keyring.ensure();
      const ids = runtimes.map((r) => r.keyring.signer()?.keyId);
      expect(ids).toEqual(['audit-signing-1', 'audit-signing-1', 'audit-signing-1']);
      expect(new Set(runtimes.map((r) => r.keyring.publicKeys()[0]!.publicKey)).size).toBe(1);
      await Promise.all(runtimes.map((r) => r.close()));
      const labels = await withRawSession(hsm, token, (api, session) => {
        api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
        const handles = api.C_FindObjects(session, 10);
        api.C_FindObjectsFinal(session);
        return handles.map((h) => (api.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_LABEL }])[0]!.value as Buffer).toString());
      });
      expect(labels.filter((l) => l.startsWith('datadefender-audit-'))).toHaveLength(1);
    } finally {
      await storage.close();
      await root.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
