// Separation of duties under dual control (issue #4): an administrator manages keys but never uses them on data,
// and cannot give itself (or a credential of someone else's) the power to decrypt alone. Every path that would
// let a principal decrypt needs a second principal's approval under the default dual-control set; changes that
// grant nothing of the kind are not held up.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_DUAL_CONTROL_OPERATIONS } from '../../src/config/config.js';
import { createIdentityService } from '../../src/identity/identity-service.js';
import type { PrincipalRecord } from '../../src/ports/storage.js';
import { SCOPE, context, coreFixture } from '../helpers/core-fixture.js';

type Fixture = Awaited<ReturnType<typeof coreFixture>>;
let f: Fixture;
let identity: ReturnType<typeof createIdentityService>;
const engineer = context(['data-engineer'], 'eng');
const keyAdmin = context(['administrator'], 'keyadmin');
const admin = context(['administrator'], 'solo');
const second = context(['administrator'], 'second');
const arnOf = (name: string) => `arn:aws:iam::${SCOPE.accountId}:user/${name}`;

async function addPrincipal(name: string, roles: string[]): Promise<PrincipalRecord> {
  const now = f.clock.now();
  const record: PrincipalRecord = { id: name, name, kind: 'user', arn: arnOf(name), roles, policies: [], tags: {}, disabled: false, createdAt: now, updatedAt: now };
  await f.storage.createPrincipal(record);
  return record;
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as { code?: string; approvalId?: string; message?: string },
  );

beforeEach(async () => {
  f = await coreFixture({ dualControl: { enabled: true, operations: [...DEFAULT_DUAL_CONTROL_OPERATIONS], approvalTtlSeconds: 3600 } });
  identity = createIdentityService({ storage: f.storage, run: f.service.run, clock: f.clock, scope: SCOPE, root: f.root });
  await addPrincipal('eng', ['data-engineer']);
  await addPrincipal('analyst', ['security-analyst']);
  await addPrincipal('solo', ['administrator']);
});
afterEach(() => f.close());

describe('an administrator alone cannot come to decrypt', () => {
  it('a grant of Decrypt to itself waits for a second administrator; it decrypts only once one approved it', async () => {
    const key = await f.service.keys.create(engineer, {});
    const sealed = await f.service.crypto.encrypt(engineer, { keyId: key.id, plaintext: Buffer.from('4111111111111111') });
    const grant = () => f.service.grants.create(admin, { keyId: key.id, granteePrincipal: admin.caller.arn, operations: ['Decrypt'] });

    const held = await failureOf(grant());
    expect(held?.code).toBe('ERR_APPROVAL_REQUIRED');
    expect((await f.service.grants.list(keyAdmin, { keyId: key.id })).items).toEqual([]);
    expect((await failureOf(f.service.crypto.decrypt(admin, { ciphertext: sealed.ciphertext })))?.code).toBe('ERR_ACCESS_DENIED');

    await f.service.approvals.approve(second, held!.approvalId!);
    await grant();
    const opened = await f.service.crypto.decrypt(admin, { ciphertext: sealed.ciphertext });
    expect(Buffer.from(opened.plaintext).toString()).toBe('4111111111111111');
  });

  it.each([['ReEncryptFrom'], ['GenerateDataKey'], ['GenerateDataKeyPair']])('a grant of %s is held as well', async (operation) => {
    const key = await f.service.keys.create(engineer, {});
    const held = await failureOf(f.service.grants.create(admin, { keyId: key.id, granteePrincipal: admin.caller.arn, operations: [operation] }));
    expect(held?.code).toBe('ERR_APPROVAL_REQUIRED');
  });

  it('a grant that reveals no plaintext (Encrypt, DescribeKey) is not held', async () => {
    const key = await f.service.keys.create(engineer, {});
    const { grantId } = await f.service.grants.create(admin, { keyId: key.id, granteePrincipal: arnOf('analyst'), operations: ['Encrypt', 'DescribeKey', 'GenerateDataKeyWithoutPlaintext'] });
    expect(grantId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a new key whose own policy lets a principal decrypt directly waits; the default policy and account-only delegation do not', async () => {
    const policy = (principal: unknown) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: admin.caller.arn }, Action: 'kms:*', Resource: '*' },
          { Sid: 'Use', Effect: 'Allow', Principal: principal, Action: ['kms:Decrypt'], Resource: '*' },
        ],
      });
    const direct = policy({ AWS: admin.caller.arn });
    // The Admin statement alone lets the administrator decrypt: kms:* includes kms:Decrypt.
    expect((await failureOf(f.service.keys.create(admin, { policy: direct })))?.code).toBe('ERR_APPROVAL_REQUIRED');
    expect((await failureOf(f.service.keys.create(admin, { policy: policy('*') })))?.code).toBe('ERR_APPROVAL_REQUIRED');

    const delegating = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SCOPE.accountId}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'Manage', Effect: 'Allow', Principal: { AWS: admin.caller.arn }, Action: ['kms:Describe*', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'], Resource: '*' },
      ],
    });
    expect((await f.service.keys.create(admin, { policy: delegating })).state).toBe('Enabled');
    expect((await f.service.keys.create(admin, {})).state).toBe('Enabled');
  });

  it('credentials for someone who may decrypt wait for a second approval; for others, or for oneself, they do not', async () => {
    for (const attempt of [
      () => identity.accessKeys.create(admin, 'eng'),
      () => identity.tokens.create(admin, 'eng'),
      () => identity.certificates.map(admin, 'eng', 'not a certificate'),
    ]) {
      expect((await failureOf(attempt()))?.code).toBe('ERR_APPROVAL_REQUIRED');
    }
    expect(await f.storage.listAccessKeys('eng')).toEqual([]);

    expect((await identity.accessKeys.create(admin, 'analyst')).secretAccessKey).toMatch(/^\S{40}$/);
    expect((await identity.tokens.create(admin, 'solo')).token.length).toBeGreaterThan(20);
    // Not held, so the certificate itself is judged.
    expect((await failureOf(identity.certificates.map(admin, 'analyst', 'not a certificate')))?.code).toBe('ERR_VALIDATION');
  });

  it('reactivating an access key of someone who may decrypt waits; deactivating it does not', async () => {
    const held = await failureOf(identity.accessKeys.create(admin, 'eng'));
    await f.service.approvals.approve(second, held!.approvalId!);
    const { accessKeyId } = await identity.accessKeys.create(admin, 'eng');
    await identity.accessKeys.setStatus(admin, accessKeyId, 'Inactive');
    expect((await failureOf(identity.accessKeys.setStatus(admin, accessKeyId, 'Active')))?.code).toBe('ERR_APPROVAL_REQUIRED');
    expect((await f.storage.getAccessKey(accessKeyId))?.status).toBe('Inactive');
  });
});

describe('denials do not tell whether a key or alias exists', () => {
  const stranger = context([], 'stranger');
  const missingKey = '00000000-0000-4000-8000-000000000000';

  it.each([
    ['DescribeKey', (id: string) => f.service.keys.describe(stranger, id)],
    ['Encrypt', (id: string) => f.service.crypto.encrypt(stranger, { keyId: id, plaintext: Buffer.from('x') })],
    ['GenerateDataKey', (id: string) => f.service.crypto.generateDataKey(stranger, { keyId: id, keySpec: 'AES_256', includePlaintext: true })],
  ])('%s answers an existing and a missing alias, or key, alike', async (_name, call) => {
    const key = await f.service.keys.create(engineer, {});
    await f.service.aliases.create(keyAdmin, 'alias/exists', key.id);
    const answer = async (id: string) => {
      const e = await failureOf(call(id));
      return `${e?.code} ${e?.message}`;
    };
    const existingAlias = await answer('alias/exists');
    expect(existingAlias).toMatch(/^ERR_ACCESS_DENIED /);
    expect(existingAlias).not.toContain(key.id);
    expect(existingAlias.replace('alias/exists', 'alias/other')).toBe(await answer('alias/other'));
    expect((await answer(key.id)).replace(key.id, missingKey)).toBe(await answer(missingKey));
  });
});

describe('an approval serves only the document it was given for', () => {
  const document = (action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });

  it('UpdatePolicy: approved for one decrypting document, it does not run another', async () => {
    await identity.policies.create(admin, { name: 'p', document: document('kms:DescribeKey') });
    const held = await failureOf(identity.policies.update(admin, { name: 'p', document: document('kms:Decrypt') }));
    await f.service.approvals.approve(second, held!.approvalId!);
    const other = await failureOf(identity.policies.update(admin, { name: 'p', document: document('kms:Decr*pt') }));
    expect(other?.code).toBe('ERR_APPROVAL_REQUIRED');
    expect(other?.approvalId).not.toBe(held!.approvalId);
    expect((await f.storage.getPolicy('p'))!.document).toBe(document('kms:DescribeKey'));
    await identity.policies.update(admin, { name: 'p', document: document('kms:Decrypt') });
    expect((await f.storage.getPolicy('p'))!.document).toBe(document('kms:Decrypt'));
  });

  it('PutKeyPolicy: approved for one policy, it does not put another', async () => {
    const key = await f.service.keys.create(engineer, {});
    const policy = (principal: unknown) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'kms:*', Resource: '*' }] });
    const held = await failureOf(f.service.keyPolicies.put(admin, { keyId: key.id, policy: policy({ AWS: `arn:aws:iam::${SCOPE.accountId}:root` }) }));
    await f.service.approvals.approve(second, held!.approvalId!);
    const other = await failureOf(f.service.keyPolicies.put(admin, { keyId: key.id, policy: policy({ AWS: '*' }), bypassLockoutSafetyCheck: true }));
    expect(other?.code).toBe('ERR_APPROVAL_REQUIRED');
    expect((await f.storage.getKey(key.id))!.policy).toBeNull();
  });
});
