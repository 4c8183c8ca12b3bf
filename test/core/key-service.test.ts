import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreFixture, context } from '../helpers/core-fixture.js';

type Fixture = Awaited<ReturnType<typeof coreFixture>>;
const pt = (s: string) => Buffer.from(s, 'utf8');
const arnOf = (id: string) => `arn:aws:kms:us-east-1:111122223333:key/${id}`;

describe('key service', () => {
  let f: Fixture;
  const ctx = context();
  beforeEach(async () => {
    f = await coreFixture();
  });
  afterEach(async () => f.close());

  describe('create, describe, list', () => {
    it('creates an enabled symmetric key with 180-day automatic rotation by default', async () => {
      const key = await f.service.keys.create(ctx, { description: 'customer 42', tags: { customer: '42' } });
      expect(key).toMatchObject({
        state: 'Enabled',
        keySpec: 'SYMMETRIC_DEFAULT',
        keyUsage: 'ENCRYPT_DECRYPT',
        origin: 'AWS_KMS',
        currentVersion: 1,
        rotationPeriodDays: 180,
        description: 'customer 42',
        tags: { customer: '42' },
        arn: arnOf(key.id),
      });
      expect(key.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(key.nextRotationAt!.getTime() - f.clock.now().getTime()).toBe(180 * 86_400_000);
      expect(key.currentKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
      const stored = await f.storage.getVersion(key.id, 1);
      expect(Buffer.from(stored!.wrapped).includes(Buffer.alloc(32))).toBe(false);
    });

    it('creates keys without automatic rotation on request and rejects bad input without creating anything', async () => {
      expect((await f.service.keys.create(ctx, { rotationPeriodDays: null })).nextRotationAt).toBeNull();
      const bad = [
        { rotationPeriodDays: 89 },
        { rotationPeriodDays: 2561 },
        { keySpec: 'RSA_2048' },
        { keyUsage: 'SIGN_VERIFY' },
        { description: 'x'.repeat(8193) },
      ];
      for (const input of bad) await expect(f.service.keys.create(ctx, input)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      const badTags = [{ 'aws:owner': 'x' }, Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']))];
      for (const tags of badTags) await expect(f.service.keys.create(ctx, { tags })).rejects.toMatchObject({ code: 'ERR_INVALID_TAG' });
      expect((await f.service.keys.list(ctx, {})).items).toHaveLength(1);
    });

    it('describes by id, key ARN, alias name and alias ARN; management operations refuse aliases', async () => {
      const key = await f.service.keys.create(ctx, {});
      await f.service.aliases.create(ctx, 'alias/payments', key.id);
      for (const id of [key.id, arnOf(key.id), 'alias/payments', 'arn:aws:kms:us-east-1:111122223333:alias/payments']) {
        expect((await f.service.keys.describe(ctx, id)).id).toBe(key.id);
      }
      await expect(f.service.keys.disable(ctx, 'alias/payments')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND', message: "Invalid keyId 'alias/payments'" });
      await expect(f.service.keys.describe(ctx, 'nonsense')).rejects.toMatchObject({ message: "Invalid keyId 'nonsense'" });
      await expect(f.service.keys.describe(ctx, `arn:aws:kms:eu-west-1:111122223333:key/${key.id}`)).rejects.toMatchObject({ message: 'Invalid arn eu-west-1' });
      const missing = '00000000-0000-4000-8000-000000000000';
      await expect(f.service.keys.describe(ctx, missing)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND', message: `Key '${arnOf(missing)}' does not exist` });
      await expect(f.service.keys.describe(ctx, 'alias/nope')).rejects.toMatchObject({ message: 'Alias arn:aws:kms:us-east-1:111122223333:alias/nope is not found.' });
    });

    it('lists in pages', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++) ids.add((await f.service.keys.create(ctx, {})).id);
      const seen: string[] = [];
      let marker: string | undefined;
      do {
        const page = await f.service.keys.list(ctx, { limit: 2, ...(marker ? { marker } : {}) });
        seen.push(...page.items.map((k) => k.id));
        marker = page.nextMarker;
      } while (marker);
      expect(new Set(seen)).toEqual(ids);
      await expect(f.service.keys.list(ctx, { limit: 0 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(f.service.keys.list(ctx, { limit: 1001 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(f.service.keys.list(ctx, { marker: '!!!' })).rejects.toMatchObject({ code: 'ERR_INVALID_MARKER' });
    });
  });

  describe('encrypt and decrypt', () => {
    it('round-trips with an encryption context and binds it exactly', async () => {
      const key = await f.service.keys.create(ctx, {});
      const enc = await f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('4111111111111111'), encryptionContext: { ab: 'c' } });
      expect(enc).toMatchObject({ keyArn: arnOf(key.id), keyVersion: 1 });
      const dec = await f.service.crypto.decrypt(ctx, { ciphertext: enc.ciphertext, encryptionContext: { ab: 'c' } });
      expect(dec.plaintext.toString()).toBe('4111111111111111');
      for (const ec of [{ a: 'bc' }, {}, { ab: 'C' }, { ab: 'c', x: 'y' }, undefined] as Array<Record<string, string> | undefined>) {
        await expect(f.service.crypto.decrypt(ctx, { ciphertext: enc.ciphertext, encryptionContext: ec })).rejects.toMatchObject({
          code: 'ERR_INVALID_CIPHERTEXT',
        });
      }
    });

    it('enforces plaintext and ciphertext limits', async () => {
      const key = await f.service.keys.create(ctx, {});
      await expect(f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: Buffer.alloc(0) })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: Buffer.alloc(4097) })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      const max = await f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: Buffer.alloc(4096, 7) });
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: max.ciphertext })).plaintext).toEqual(Buffer.alloc(4096, 7));
      await expect(f.service.crypto.decrypt(ctx, { ciphertext: Buffer.alloc(6145, 1) })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(f.service.crypto.decrypt(ctx, { ciphertext: Buffer.from('garbage') })).rejects.toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
    });

    it('finds key and version from the blob; a KeyId naming another key is IncorrectKey; an unknown key is AccessDenied', async () => {
      const a = await f.service.keys.create(ctx, {});
      const b = await f.service.keys.create(ctx, {});
      await f.service.aliases.create(ctx, 'alias/a', a.id);
      const enc = await f.service.crypto.encrypt(ctx, { keyId: 'alias/a', plaintext: pt('x') });
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: enc.ciphertext, keyId: 'alias/a' })).keyArn).toBe(arnOf(a.id));
      await expect(f.service.crypto.decrypt(ctx, { ciphertext: enc.ciphertext, keyId: b.id })).rejects.toMatchObject({ code: 'ERR_INCORRECT_KEY' });
      const forged = Buffer.from(enc.ciphertext);
      forged[5] = forged[5]! ^ 0xff;
      await expect(f.service.crypto.decrypt(ctx, { ciphertext: forged })).rejects.toMatchObject({
        code: 'ERR_ACCESS_DENIED',
        message: expect.stringContaining('does not exist'),
      });
    });

    it('re-encrypts under another key and context', async () => {
      const a = await f.service.keys.create(ctx, {});
      const b = await f.service.keys.create(ctx, {});
      const enc = await f.service.crypto.encrypt(ctx, { keyId: a.id, plaintext: pt('ssn 078-05-1120'), encryptionContext: { t: '1' } });
      const re = await f.service.crypto.reEncrypt(ctx, {
        ciphertext: enc.ciphertext,
        sourceEncryptionContext: { t: '1' },
        destinationKeyId: b.id,
        destinationEncryptionContext: { t: '2' },
      });
      expect(re).toMatchObject({ sourceKeyArn: arnOf(a.id), keyArn: arnOf(b.id) });
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: re.ciphertext, encryptionContext: { t: '2' } })).plaintext.toString()).toBe('ssn 078-05-1120');
    });

    it('generates data keys and random bytes within AWS limits', async () => {
      const key = await f.service.keys.create(ctx, {});
      const dk = await f.service.crypto.generateDataKey(ctx, { keyId: key.id, keySpec: 'AES_256', encryptionContext: { c: '1' }, includePlaintext: true });
      expect(dk.plaintext).toHaveLength(32);
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: dk.ciphertext, encryptionContext: { c: '1' } })).plaintext).toEqual(dk.plaintext);
      expect((await f.service.crypto.generateDataKey(ctx, { keyId: key.id, keySpec: 'AES_128', includePlaintext: true })).plaintext).toHaveLength(16);
      const np = await f.service.crypto.generateDataKey(ctx, { keyId: key.id, numberOfBytes: 1024, includePlaintext: false });
      expect(np.plaintext).toBeUndefined();
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: np.ciphertext })).plaintext).toHaveLength(1024);
      for (const bad of [{}, { keySpec: 'AES_256', numberOfBytes: 32 }, { numberOfBytes: 0 }, { numberOfBytes: 1025 }, { keySpec: 'AES_512' }]) {
        await expect(f.service.crypto.generateDataKey(ctx, { keyId: key.id, includePlaintext: true, ...bad })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      }
      expect(await f.service.crypto.generateRandom(ctx, 1024)).toHaveLength(1024);
      await expect(f.service.crypto.generateRandom(ctx, 0)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(f.service.crypto.generateRandom(ctx, 1025)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    });
  });

  describe('key states (AWS KMS key-state table)', () => {
    it('disabled keys refuse crypto with DisabledException text and can be re-enabled', async () => {
      const key = await f.service.keys.create(ctx, {});
      const enc = await f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('x') });
      expect((await f.service.keys.disable(ctx, key.id)).state).toBe('Disabled');
      expect((await f.service.keys.disable(ctx, key.id)).state).toBe('Disabled');
      const disabled = { code: 'ERR_KEY_DISABLED', message: `${arnOf(key.id)} is disabled.` };
      await expect(f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('x') })).rejects.toMatchObject(disabled);
      await expect(f.service.crypto.decrypt(ctx, { ciphertext: enc.ciphertext })).rejects.toMatchObject(disabled);
      await expect(f.service.crypto.generateDataKey(ctx, { keyId: key.id, keySpec: 'AES_256', includePlaintext: true })).rejects.toMatchObject(disabled);
      await expect(f.service.rotation.rotateOnDemand(ctx, key.id)).rejects.toMatchObject(disabled);
      await expect(f.service.rotation.enableRotation(ctx, key.id, 365)).rejects.toMatchObject(disabled);
      expect((await f.service.keys.updateDescription(ctx, key.id, 'still editable')).description).toBe('still editable');
      await f.service.keys.enable(ctx, key.id);
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: enc.ciphertext })).plaintext.toString()).toBe('x');
    });

    it('schedules deletion (7-30 days), refuses use and changes while pending, and cancels to Disabled', async () => {
      const key = await f.service.keys.create(ctx, {});
      for (const days of [6, 31]) await expect(f.service.keys.scheduleDeletion(ctx, key.id, days)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      const pending = await f.service.keys.scheduleDeletion(ctx, key.id);
      expect(pending).toMatchObject({ state: 'PendingDeletion', pendingWindowDays: 30 });
      expect(pending.deletionAt!.getTime() - f.clock.now().getTime()).toBe(30 * 86_400_000);
      const invalid = { code: 'ERR_INVALID_STATE', message: `${arnOf(key.id)} is pending deletion.` };
      await expect(f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('x') })).rejects.toMatchObject(invalid);
      await expect(f.service.keys.scheduleDeletion(ctx, key.id)).rejects.toMatchObject(invalid);
      await expect(f.service.keys.enable(ctx, key.id)).rejects.toMatchObject(invalid);
      await expect(f.service.keys.disable(ctx, key.id)).rejects.toMatchObject(invalid);
      await expect(f.service.keys.updateDescription(ctx, key.id, 'x')).rejects.toMatchObject(invalid);
      await expect(f.service.keys.tag(ctx, key.id, { a: 'b' })).rejects.toMatchObject(invalid);
      await expect(f.service.aliases.create(ctx, 'alias/late', key.id)).rejects.toMatchObject(invalid);
      expect((await f.service.rotation.getRotationStatus(ctx, key.id)).enabled).toBe(false);
      expect((await f.service.keys.describe(ctx, key.id)).state).toBe('PendingDeletion');
      const cancelled = await f.service.keys.cancelDeletion(ctx, key.id);
      expect(cancelled).toMatchObject({ state: 'Disabled', deletionAt: null, pendingWindowDays: null });
      await expect(f.service.keys.cancelDeletion(ctx, key.id)).rejects.toMatchObject({
        code: 'ERR_INVALID_STATE',
        message: `${arnOf(key.id)} is not pending deletion.`,
      });
      expect((await f.service.rotation.getRotationStatus(ctx, key.id)).enabled).toBe(true);
    });
  });

  describe('rotation', () => {
    it('rotates on demand; old versions still decrypt; at most 25 on-demand rotations', async () => {
      const key = await f.service.keys.create(ctx, {});
      const v1 = await f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('v1') });
      const rotated = await f.service.rotation.rotateOnDemand(ctx, key.id);
      expect(rotated.currentVersion).toBe(2);
      expect(rotated.currentKeyMaterialId).not.toBe(key.currentKeyMaterialId);
      expect(rotated.nextRotationAt).toEqual(key.nextRotationAt);
      const v2 = await f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('v2') });
      expect(v2.keyVersion).toBe(2);
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: v1.ciphertext })).plaintext.toString()).toBe('v1');
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: v1.ciphertext })).keyVersion).toBe(1);
      for (let i = 0; i < 24; i++) await f.service.rotation.rotateOnDemand(ctx, key.id);
      await expect(f.service.rotation.rotateOnDemand(ctx, key.id)).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED' });
      const rotations = await f.service.rotation.listRotations(ctx, key.id);
      expect(rotations).toHaveLength(25);
      expect(rotations.every((r) => r.rotationType === 'ON_DEMAND')).toBe(true);
      expect((await f.service.crypto.decrypt(ctx, { ciphertext: v1.ciphertext })).plaintext.toString()).toBe('v1');
    });

    it('rotates automatically when due, and only enabled keys', async () => {
      const due = await f.service.keys.create(ctx, {});
      const off = await f.service.keys.create(ctx, { rotationPeriodDays: null });
      const disabled = await f.service.keys.create(ctx, {});
      await f.service.keys.disable(ctx, disabled.id);
      expect(await f.service.rotation.rotateDueKeys(100)).toEqual({ rotated: 0, failed: 0 });
      f.clock.advanceDays(181);
      expect(await f.service.rotation.rotateDueKeys(100)).toEqual({ rotated: 1, failed: 0 });
      const after = await f.service.keys.describe(ctx, due.id);
      expect(after.currentVersion).toBe(2);
      expect(after.nextRotationAt!.getTime() - f.clock.now().getTime()).toBe(180 * 86_400_000);
      expect((await f.service.keys.describe(ctx, off.id)).currentVersion).toBe(1);
      expect((await f.service.keys.describe(ctx, disabled.id)).currentVersion).toBe(1);
      expect((await f.service.rotation.listRotations(ctx, due.id))[0]).toMatchObject({ rotationType: 'AUTOMATIC', version: 2 });
      expect(await f.service.rotation.rotateDueKeys(100)).toEqual({ rotated: 0, failed: 0 });
    });

    it('configures the automatic period within 90-2560 days', async () => {
      const key = await f.service.keys.create(ctx, { rotationPeriodDays: null });
      for (const days of [89, 2561]) await expect(f.service.rotation.enableRotation(ctx, key.id, days)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await f.service.rotation.enableRotation(ctx, key.id, 90);
      expect(await f.service.rotation.getRotationStatus(ctx, key.id)).toMatchObject({ enabled: true, periodDays: 90 });
      await f.service.rotation.disableRotation(ctx, key.id);
      expect(await f.service.rotation.getRotationStatus(ctx, key.id)).toMatchObject({ enabled: false, periodDays: null, nextRotationAt: null });
    });
  });

  describe('deletion job (crypto-shredding)', () => {
    it('destroys every version and alias after the waiting period; old ciphertexts become undecryptable', async () => {
      const key = await f.service.keys.create(ctx, {});
      await f.service.aliases.create(ctx, 'alias/doomed', key.id);
      const enc = await f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('gone') });
      await f.service.rotation.rotateOnDemand(ctx, key.id);
      await f.service.keys.scheduleDeletion(ctx, key.id, 7);
      f.clock.advanceDays(6);
      expect(await f.service.deletion.deleteDueKeys(100)).toEqual({ deleted: 0, failed: 0 });
      f.clock.advanceDays(1.01);
      expect(await f.service.deletion.deleteDueKeys(100)).toEqual({ deleted: 1, failed: 0 });
      expect(await f.storage.getVersion(key.id, 1)).toBeUndefined();
      expect(await f.storage.getVersion(key.id, 2)).toBeUndefined();
      expect(await f.storage.getAlias('alias/doomed')).toBeUndefined();
      await expect(f.service.keys.describe(ctx, key.id)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
      await expect(f.service.crypto.decrypt(ctx, { ciphertext: enc.ciphertext })).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
      const events = await f.storage.readAudit({ limit: 1000 });
      expect(events.filter((e) => e.eventName === 'DeleteKey').map((e) => e.outcome)).toEqual(['attempt', 'success']);
    });
  });

  describe('aliases', () => {
    it('enforces AWS alias rules', async () => {
      const a = await f.service.keys.create(ctx, {});
      const b = await f.service.keys.create(ctx, {});
      await expect(f.service.aliases.create(ctx, 'payments', a.id)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
      await expect(f.service.aliases.create(ctx, 'alias/aws/s3', a.id)).rejects.toMatchObject({ code: 'ERR_INVALID_ALIAS_NAME' });
      await expect(f.service.aliases.create(ctx, 'alias/has space', a.id)).rejects.toMatchObject({ code: 'ERR_INVALID_ALIAS_NAME' });
      await expect(f.service.aliases.create(ctx, `alias/${'x'.repeat(251)}`, a.id)).rejects.toMatchObject({ code: 'ERR_INVALID_ALIAS_NAME' });
      await f.service.aliases.create(ctx, 'alias/app/payments', a.id);
      await expect(f.service.aliases.create(ctx, 'alias/app/payments', b.id)).rejects.toMatchObject({
        code: 'ERR_ALREADY_EXISTS',
        message: 'An alias with the name arn:aws:kms:us-east-1:111122223333:alias/app/payments already exists',
      });
      await expect(f.service.aliases.create(ctx, 'alias/x', 'alias/app/payments')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
      await f.service.aliases.update(ctx, 'alias/app/payments', b.id);
      expect((await f.service.keys.describe(ctx, 'alias/app/payments')).id).toBe(b.id);
      expect((await f.service.aliases.list(ctx, { keyId: b.id })).items.map((x) => x.name)).toEqual(['alias/app/payments']);
      expect((await f.service.aliases.list(ctx, { keyId: a.id })).items).toEqual([]);
      await f.service.aliases.delete(ctx, 'alias/app/payments');
      await expect(f.service.aliases.delete(ctx, 'alias/app/payments')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    });
  });

  describe('audit and authorization on the core path', () => {
    it('records success, failure and denial with who, what, which key and request id; never plaintext', async () => {
      const key = await f.service.keys.create(ctx, {});
      await f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('secret-pan-4111'), encryptionContext: { customer: 'ctx-value-secret' } });
      await expect(f.service.crypto.encrypt(context(['developer'], 'mallory'), { keyId: key.id, plaintext: pt('x') })).rejects.toMatchObject({
        code: 'ERR_ACCESS_DENIED',
      });
      await expect(f.service.keys.describe(ctx, 'alias/none')).rejects.toThrow();
      const events = await f.storage.readAudit({ limit: 100 });
      const encrypt = events.find((e) => e.eventName === 'Encrypt' && e.outcome === 'success')!;
      expect(encrypt).toMatchObject({
        principal: 'arn:aws:iam::111122223333:user/alice',
        resource: arnOf(key.id),
        requestId: ctx.requestId,
        readOnly: true,
        details: { encryptionContextKeys: ['customer'], plaintextBytes: 15, keyVersion: 1 },
      });
      expect(events.find((e) => e.principal.endsWith('mallory'))).toMatchObject({ outcome: 'denied', errorCode: 'ERR_ACCESS_DENIED', resource: arnOf(key.id) });
      expect(events.find((e) => e.eventName === 'DescribeKey')).toMatchObject({ outcome: 'failure', errorCode: 'ERR_NOT_FOUND' });
      expect(events.filter((e) => e.eventName === 'CreateKey').map((e) => e.outcome)).toEqual(['attempt', 'success']);
      const text = JSON.stringify(events);
      expect(text).not.toContain('secret-pan');
      expect(text).not.toContain('ctx-value-secret');
    });

    it('fails closed: a failing audit sink blocks the operation and changes nothing', async () => {
      const key = await f.service.keys.create(ctx, {});
      f.faults.mode = 'fail';
      await expect(f.service.keys.create(ctx, {})).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
      await expect(f.service.keys.disable(ctx, key.id)).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
      await expect(f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('x') })).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
      expect(f.audit.healthy()).toBe(false);
      f.faults.mode = 'ok';
      expect((await f.service.keys.list(ctx, {})).items.map((k) => [k.id, k.state])).toEqual([[key.id, 'Enabled']]);
      expect(f.audit.healthy()).toBe(true);
    });

    it('fails closed within the bounded wait when the sink stalls', async () => {
      const key = await f.service.keys.create(ctx, {});
      f.faults.mode = 'hang';
      const started = Date.now();
      await expect(f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt('x') })).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(f.audit.healthy()).toBe(false);
    });
  });

  describe('imported key material', () => {
    it('refuses an import token older than 24 hours', async () => {
      const key = await f.service.keys.create(ctx, { origin: 'EXTERNAL' });
      const params = await f.service.keyImport.getParametersForImport(ctx, { keyId: key.id, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' });
      const encrypted = publicEncrypt(
        { key: createPublicKey({ key: params.publicKey, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        randomBytes(32),
      );
      f.clock.advanceDays(1);
      const input = { keyId: key.id, importToken: params.importToken, encryptedKeyMaterial: encrypted, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' };
      await expect(f.service.keyImport.importKeyMaterial(ctx, input)).rejects.toMatchObject({ code: 'ERR_EXPIRED_IMPORT_TOKEN' });
      expect((await f.service.keys.describe(ctx, key.id)).state).toBe('PendingImport');
    });
  });
});
