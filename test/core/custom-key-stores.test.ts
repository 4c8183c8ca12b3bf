// Custom key stores in the core (AWS CloudHSM key store model over a SoftHSM2 token), on SQLite and PostgreSQL:
// the store lifecycle and its rules, keys whose material is a token object, unavailability while disconnected,
// deletion that destroys the token object, and the crash-safe orphan sweep.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkcs11KeyStoreConnector } from '../../src/adapters/hsm-key-store/index.js';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { keyObjectRef } from '../../src/core/hsm-keys.js';
import { createKeyService, type KeyService } from '../../src/core/key-service.js';
import { parseBlobHeader } from '../../src/crypto/index.js';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import type { Storage } from '../../src/ports/storage.js';
import { context, manualClock, SCOPE } from '../helpers/core-fixture.js';
import { startSoftHsm, withRawSession, type SoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';
import { trustAnchorPem } from '../helpers/trust-anchor.js';

const PG_URL = process.env.DATADEFENDER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PIN = 'kmsuser-pin-1';

let softhsm: SoftHsm;
const tokens: Record<string, SoftHsmToken> = {};

beforeAll(async () => {
  softhsm = await startSoftHsm();
  // Every token before the module is first initialized (SoftHSM2 reads its token directory at C_Initialize).
  for (const engine of ['sqlite', 'postgres']) {
    tokens[`${engine}-a`] = await softhsm.createToken(`cluster-${engine}-a`, PIN);
    tokens[`${engine}-b`] = await softhsm.createToken(`cluster-${engine}-b`, PIN);
  }
});

afterAll(async () => {
  await softhsm.close();
});

const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (err: unknown) => err as { code: string; message: string });

/** The key object's attributes read with pkcs11js directly, or null when the token holds no such object. */
async function tokenObject(token: SoftHsmToken, keyId: string) {
  return withRawSession(softhsm, token, (api, session) => {
    const ref = keyObjectRef(keyId);
    api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_ID, value: Buffer.from(ref.id) }]);
    const found = api.C_FindObjects(session, 2);
    api.C_FindObjectsFinal(session);
    if (found.length === 0) return null;
    expect(found).toHaveLength(1);
    const attrs = api.C_GetAttributeValue(session, found[0]!, [
      { type: pkcs11js.CKA_LABEL },
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_EXTRACTABLE },
      { type: pkcs11js.CKA_VALUE_LEN },
      { type: pkcs11js.CKA_TOKEN },
    ]);
    const [label, sensitive, extractable, length, onToken] = attrs.map((a) => a.value as Buffer);
    return { label: label!.toString(), sensitive: sensitive![0], extractable: extractable![0], length: Number(length!.readBigUInt64LE(0)), token: onToken![0] };
  });
}

describe.each(['sqlite', 'postgres'] as const)('custom key stores on %s', (engine) => {
  let dir: string;
  let storage: Storage;
  let service: KeyService;
  const clock = manualClock();
  const schema = `dd_cks_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = () => context(['administrator'], 'admin');
  const user = () => context(['data-engineer'], 'engineer');
  let tokenA: SoftHsmToken;
  let tokenB: SoftHsmToken;

  beforeAll(async () => {
    tokenA = tokens[`${engine}-a`]!;
    tokenB = tokens[`${engine}-b`]!;
    dir = await mkdtemp(join(tmpdir(), 'dd-cks-'));
    storage = engine === 'sqlite' ? await openSqliteStorage({ file: join(dir, 'dd.db') }) : await openPostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
    service = createKeyService({
      storage,
      root: await openLocalRootOfTrust(join(dir, 'root.key')),
      audit: createAuditLog({ sink: storage }),
      policies: createPolicyEngine(),
      clock,
      scope: SCOPE,
      keyStores: createPkcs11KeyStoreConnector({ modulePath: softhsm.module, sessions: 2 }),
      settings: {
        defaultRotationPeriodDays: 180,
        keyCacheSize: 100,
        keyCacheTtlSeconds: 300,
        metadataCacheMs: 0,
        dualControl: { enabled: false, operations: [], approvalTtlSeconds: 3600 },
      },
    });
  });

  afterAll(async () => {
    await service?.customKeyStores.closeConnections();
    await storage?.close();
    if (engine === 'postgres') {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    }
    await rm(dir, { recursive: true, force: true });
  });

  let storeId: string;
  let keyId: string;

  it('creates a store only for a present token, a PEM trust anchor, a free name and a free cluster', async () => {
    const input = { name: 'payments-hsm', clusterId: tokenA.label, trustAnchorCertificate: trustAnchorPem(), keyStorePassword: PIN };
    expect(await failure(service.customKeyStores.create(admin(), { ...input, trustAnchorCertificate: 'not a certificate' }))).toMatchObject({ code: 'ERR_INCORRECT_TRUST_ANCHOR' });
    expect(await failure(service.customKeyStores.create(admin(), { ...input, clusterId: 'cluster-absent' }))).toMatchObject({ code: 'ERR_HSM_CLUSTER_NOT_FOUND' });
    expect(await failure(service.customKeyStores.create(user(), input))).toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    const store = await service.customKeyStores.create(admin(), input);
    expect(store).toMatchObject({ name: 'payments-hsm', clusterId: tokenA.label, connectionState: 'DISCONNECTED', connectionErrorCode: null });
    expect(store.id).toMatch(/^cks-[0-9a-f]{17}$/);
    storeId = store.id;
    expect(await failure(service.customKeyStores.create(admin(), { ...input, clusterId: tokenB.label }))).toMatchObject({ code: 'ERR_KEY_STORE_NAME_IN_USE' });
    expect(await failure(service.customKeyStores.create(admin(), { ...input, name: 'other' }))).toMatchObject({ code: 'ERR_HSM_CLUSTER_IN_USE' });
    // The PIN is stored only wrapped.
    const record = await storage.getCustomKeyStore(storeId);
    expect(Buffer.from(record!.pinWrapped).includes(Buffer.from(PIN))).toBe(false);
    expect(JSON.stringify(await service.customKeyStores.describe(admin(), { id: storeId }))).not.toContain(PIN);
  });

  it('refuses keys in a store that is not connected, then connects and makes a non-extractable token object per key', async () => {
    const create = () => service.keys.create(admin(), { origin: 'AWS_CLOUDHSM', customKeyStoreId: storeId, description: 'card data' });
    expect(await failure(create())).toMatchObject({ code: 'ERR_KEY_STORE_INVALID_STATE' });
    expect((await service.customKeyStores.connect(admin(), storeId)).connectionState).toBe('CONNECTED');
    expect(await failure(service.keys.create(admin(), { origin: 'AWS_CLOUDHSM', customKeyStoreId: storeId, keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' }))).toMatchObject({ code: 'ERR_UNSUPPORTED' });
    const key = await create();
    keyId = key.id;
    expect(key).toMatchObject({ origin: 'AWS_CLOUDHSM', rotationPeriodDays: null, customKeyStore: { id: storeId, clusterId: tokenA.label, connectionState: 'CONNECTED' } });
    expect(await storage.listVersions(keyId)).toEqual([]); // no wrapped material anywhere
    expect(await tokenObject(tokenA, keyId)).toEqual({ label: `datadefender/${keyId}/1`, sensitive: 1, extractable: 0, length: 32, token: 1 });
  });

  it('encrypts inside the HSM into the common blob format; Decrypt without a KeyId and data keys work', async () => {
    const ec = { tenant: 'acme' };
    const sealed = await service.crypto.encrypt(user(), { keyId, plaintext: Buffer.from('PAN 4111111111111111'), encryptionContext: ec });
    expect(parseBlobHeader(sealed.ciphertext)).toEqual({ keyId, version: 1 });
    const opened = await service.crypto.decrypt(user(), { ciphertext: sealed.ciphertext, encryptionContext: ec });
    expect(opened.plaintext.toString()).toBe('PAN 4111111111111111');
    expect(await failure(service.crypto.decrypt(user(), { ciphertext: sealed.ciphertext, encryptionContext: { tenant: 'other' } }))).toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
    const tampered = Buffer.from(sealed.ciphertext);
    tampered[tampered.length - 1]! ^= 1;
    expect(await failure(service.crypto.decrypt(user(), { ciphertext: tampered, encryptionContext: ec }))).toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
    const dataKey = await service.crypto.generateDataKey(user(), { keyId, keySpec: 'AES_256', includePlaintext: true });
    const back = await service.crypto.decrypt(user(), { ciphertext: dataKey.ciphertext });
    expect(back.plaintext.equals(dataKey.plaintext!)).toBe(true);
    expect(await failure(service.rotation.rotateOnDemand(admin(), keyId))).toMatchObject({ code: 'ERR_UNSUPPORTED' });
  });

  it('a disconnected store makes its keys unavailable; a wrong PIN fails the connection with INVALID_CREDENTIALS', async () => {
    const blob = (await service.crypto.encrypt(user(), { keyId, plaintext: Buffer.from('x') })).ciphertext;
    expect(await failure(service.customKeyStores.update(admin(), { id: storeId, keyStorePassword: 'wrong-pin-9' }))).toMatchObject({ code: 'ERR_KEY_STORE_INVALID_STATE' });
    expect(await failure(service.customKeyStores.delete(admin(), storeId))).toMatchObject({ code: 'ERR_KEY_STORE_INVALID_STATE' });
    await service.customKeyStores.disconnect(admin(), storeId);
    expect(await failure(service.customKeyStores.disconnect(admin(), storeId))).toMatchObject({ code: 'ERR_KEY_STORE_INVALID_STATE' });
    const arn = `arn:aws:kms:${SCOPE.region}:${SCOPE.accountId}:key/${keyId}`;
    expect(await failure(service.crypto.encrypt(user(), { keyId, plaintext: Buffer.from('x') }))).toMatchObject({ code: 'ERR_INVALID_STATE', message: `${arn} is unavailable.` });
    expect(await failure(service.crypto.decrypt(user(), { ciphertext: blob }))).toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect((await service.keys.describe(admin(), keyId)).customKeyStore?.connectionState).toBe('DISCONNECTED');

    await service.customKeyStores.update(admin(), { id: storeId, keyStorePassword: 'wrong-pin-9' });
    const failed = await service.customKeyStores.connect(admin(), storeId);
    expect(failed).toMatchObject({ connectionState: 'FAILED', connectionErrorCode: 'INVALID_CREDENTIALS' });
    expect(await failure(service.customKeyStores.connect(admin(), storeId))).toMatchObject({ code: 'ERR_KEY_STORE_INVALID_STATE' });
    await service.customKeyStores.disconnect(admin(), storeId);
    await service.customKeyStores.update(admin(), { id: storeId, keyStorePassword: PIN, newName: 'payments-hsm-2' });
    expect((await service.customKeyStores.connect(admin(), storeId)).connectionState).toBe('CONNECTED');
    expect((await service.crypto.decrypt(user(), { ciphertext: blob })).plaintext.toString()).toBe('x');
  });

  it('deletion waits for a connected store, then destroys the token object; the empty store can be deleted', async () => {
    await service.keys.scheduleDeletion(admin(), keyId, 7);
    expect(await failure(service.customKeyStores.delete(admin(), storeId))).toMatchObject({ code: 'ERR_KEY_STORE_INVALID_STATE' });
    await service.customKeyStores.disconnect(admin(), storeId);
    expect(await failure(service.customKeyStores.delete(admin(), storeId))).toMatchObject({ code: 'ERR_KEY_STORE_HAS_KEYS' });
    clock.advanceDays(8);
    expect((await service.deletion.deleteDueKeys(10)).deleted).toBe(0);
    expect((await storage.getKey(keyId))?.state).toBe('PendingDeletion');
    expect((await service.keys.describe(admin(), keyId)).state).toBe('PendingDeletion');
    expect(await tokenObject(tokenA, keyId)).not.toBeNull();

    await service.customKeyStores.connect(admin(), storeId);
    expect((await service.deletion.deleteDueKeys(10)).deleted).toBe(1);
    expect(await storage.getKey(keyId)).toBeUndefined();
    expect(await tokenObject(tokenA, keyId)).toBeNull();
    await service.customKeyStores.disconnect(admin(), storeId);
    await service.customKeyStores.delete(admin(), storeId);
    expect(await failure(service.customKeyStores.describe(admin(), { id: storeId }))).toMatchObject({ code: 'ERR_KEY_STORE_NOT_FOUND' });
  });

  it('the sweep destroys a token object whose key record is gone (a crash between the two)', async () => {
    const store = await service.customKeyStores.create(admin(), { name: 'sweep', clusterId: tokenB.label, trustAnchorCertificate: trustAnchorPem(), keyStorePassword: PIN });
    await service.customKeyStores.connect(admin(), store.id);
    const key = await service.keys.create(admin(), { origin: 'AWS_CLOUDHSM', customKeyStoreId: store.id });
    // Simulate the crash: the key record is destroyed but the object and the link stay.
    await service.keys.scheduleDeletion(admin(), key.id, 7);
    clock.advanceDays(8);
    expect(await storage.destroyKey(key.id, clock.now())).toBe(true);
    expect(await tokenObject(tokenB, key.id)).not.toBeNull();
    expect(await storage.countCustomKeyStoreKeys(store.id)).toBe(1);
    await service.deletion.deleteDueKeys(10);
    expect(await tokenObject(tokenB, key.id)).toBeNull();
    expect(await storage.countCustomKeyStoreKeys(store.id)).toBe(0);
    expect(Buffer.from(await service.customKeyStores.generateRandom(admin(), store.id, 32))).toHaveLength(32);
    await service.customKeyStores.disconnect(admin(), store.id);
    await service.customKeyStores.delete(admin(), store.id);
  });
});
