// Every condition key the core supplies, proven at the core (a key service over real SQLite, manual clock): for each
// key, one policy that tests it (a key policy, or an identity policy attached to the caller) and one request it allows
// and one it denies, where nothing but the condition's value tells the two apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/core/request-context.js';
import { coreFixture, context } from '../helpers/core-fixture.js';

type Fixture = Awaited<ReturnType<typeof coreFixture>>;

const ACCOUNT = '111122223333';
const iam = (resource: string) => `arn:aws:iam::${ACCOUNT}:${resource}`;
const pt = Buffer.from('secret');
const admin = context(); // user/alice: administrator + data-engineer

interface CallerOptions {
  /** `user/<n>` (default) or `role/<n>`. */
  resource?: string;
  roles?: string[];
  /** Identity policy documents (objects), attached under generated names. */
  policies?: object[];
  tags?: Record<string, string>;
  sourceIp?: string | null;
}

let seq = 0;
/** A request context for a caller built by hand: ARN, roles, attached identity policies and tags. */
function as(options: CallerOptions = {}): RequestContext {
  const resource = options.resource ?? `user/caller${seq}`;
  return {
    requestId: `req-${seq++}`,
    source: 'test',
    caller: {
      principalId: resource,
      arn: iam(resource),
      roles: options.roles ?? [],
      policies: (options.policies ?? []).map((document, i) => ({ name: `policy-${i}`, document: JSON.stringify(document) })),
      tags: options.tags ?? {},
      credential: 'token:test',
    },
    sourceIp: options.sourceIp === undefined ? '127.0.0.1' : options.sourceIp,
    userAgent: 'vitest',
  };
}

const allow = (Action: string | string[], Condition?: object, Resource = '*') => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) }],
});

/** A key policy: alice (the test's administrator) may do everything; `statement` adds the rule under test. */
const keyPolicy = (statement: object) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'Admin', Effect: 'Allow', Principal: { AWS: admin.caller.arn }, Action: 'kms:*', Resource: '*' }, { Sid: 'UnderTest', Effect: 'Allow', Resource: '*', ...statement }],
  });

const DENIED = { code: 'ERR_ACCESS_DENIED' };

let f: Fixture;
let symmetric: string;
beforeAll(async () => {
  f = await coreFixture();
  symmetric = (await f.service.keys.create(admin, {})).id;
});
afterAll(() => f?.close());

describe('kms: condition keys', () => {
  it('kms:EncryptionContext:<k> on Encrypt, Decrypt and GenerateDataKey (identity policy)', async () => {
    const ctx = as({ policies: [allow(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], { StringEquals: { 'kms:EncryptionContext:tenant': 't1' } })] });
    const t1 = { tenant: 't1' };
    const t2 = { tenant: 't2' };
    const sealed = await f.service.crypto.encrypt(ctx, { keyId: symmetric, plaintext: pt, encryptionContext: t1 });
    expect((await f.service.crypto.decrypt(ctx, { ciphertext: sealed.ciphertext, encryptionContext: t1 })).plaintext.toString()).toBe('secret');
    expect((await f.service.crypto.generateDataKey(ctx, { keyId: symmetric, keySpec: 'AES_256', encryptionContext: t1, includePlaintext: true })).plaintext).toHaveLength(32);

    await expect(f.service.crypto.encrypt(ctx, { keyId: symmetric, plaintext: pt, encryptionContext: t2 })).rejects.toMatchObject(DENIED);
    await expect(f.service.crypto.encrypt(ctx, { keyId: symmetric, plaintext: pt })).rejects.toMatchObject(DENIED);
    const other = await f.service.crypto.encrypt(admin, { keyId: symmetric, plaintext: pt, encryptionContext: t2 });
    await expect(f.service.crypto.decrypt(ctx, { ciphertext: other.ciphertext, encryptionContext: t2 })).rejects.toMatchObject(DENIED);
    await expect(f.service.crypto.generateDataKey(ctx, { keyId: symmetric, keySpec: 'AES_256', encryptionContext: t2, includePlaintext: true })).rejects.toMatchObject(DENIED);
  });

  it('kms:EncryptionContextKeys on Encrypt, Decrypt and GenerateDataKey (key policy)', async () => {
    const bob = iam('user/bob');
    const key = await f.service.keys.create(admin, {
      policy: keyPolicy({
        Principal: { AWS: bob },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'tenant' } },
      }),
    });
    const ctx = as({ resource: 'user/bob' });
    const withTenant = { tenant: 'any', purpose: 'x' };
    const without = { purpose: 'x' };
    const sealed = await f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt, encryptionContext: withTenant });
    await f.service.crypto.decrypt(ctx, { ciphertext: sealed.ciphertext, encryptionContext: withTenant });
    await f.service.crypto.generateDataKey(ctx, { keyId: key.id, numberOfBytes: 16, encryptionContext: { tenant: 'y' }, includePlaintext: true });

    await expect(f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt, encryptionContext: without })).rejects.toMatchObject(DENIED);
    await expect(f.service.crypto.encrypt(ctx, { keyId: key.id, plaintext: pt })).rejects.toMatchObject(DENIED);
    const other = await f.service.crypto.encrypt(admin, { keyId: key.id, plaintext: pt, encryptionContext: without });
    await expect(f.service.crypto.decrypt(ctx, { ciphertext: other.ciphertext, encryptionContext: without })).rejects.toMatchObject(DENIED);
    await expect(f.service.crypto.generateDataKey(ctx, { keyId: key.id, numberOfBytes: 16, encryptionContext: without, includePlaintext: true })).rejects.toMatchObject(DENIED);
  });

  it('kms:CallerAccount is the account of the caller (identity policy)', async () => {
    const ours = as({ policies: [allow('kms:DescribeKey', { StringEquals: { 'kms:CallerAccount': ACCOUNT } })] });
    const theirs = as({ policies: [allow('kms:DescribeKey', { StringEquals: { 'kms:CallerAccount': '444455556666' } })] });
    expect((await f.service.keys.describe(ours, symmetric)).id).toBe(symmetric);
    await expect(f.service.keys.describe(theirs, symmetric)).rejects.toMatchObject(DENIED);
  });

  it('kms:KeySpec, kms:KeyUsage and kms:KeyOrigin describe the key (identity policies)', async () => {
    const signing = (await f.service.keys.create(admin, { keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' })).id;
    const external = (await f.service.keys.create(admin, { origin: 'EXTERNAL' })).id;

    const bySpec = as({ policies: [allow('kms:DescribeKey', { StringEquals: { 'kms:KeySpec': 'ECC_NIST_P256' } })] });
    expect((await f.service.keys.describe(bySpec, signing)).keySpec).toBe('ECC_NIST_P256');
    await expect(f.service.keys.describe(bySpec, symmetric)).rejects.toMatchObject(DENIED);

    const byUsage = as({ policies: [allow('kms:DescribeKey', { StringEquals: { 'kms:KeyUsage': 'ENCRYPT_DECRYPT' } })] });
    expect((await f.service.keys.describe(byUsage, symmetric)).keyUsage).toBe('ENCRYPT_DECRYPT');
    await expect(f.service.keys.describe(byUsage, signing)).rejects.toMatchObject(DENIED);

    const byOrigin = as({ policies: [allow('kms:DescribeKey', { StringEquals: { 'kms:KeyOrigin': 'EXTERNAL' } })] });
    expect((await f.service.keys.describe(byOrigin, external)).origin).toBe('EXTERNAL');
    await expect(f.service.keys.describe(byOrigin, symmetric)).rejects.toMatchObject(DENIED);
  });

  it('kms:RequestAlias is the alias the request named the key by', async () => {
    const key = (await f.service.keys.create(admin, {})).id;
    await f.service.aliases.create(admin, 'alias/payments', key);
    await f.service.aliases.create(admin, 'alias/payments-other', key);
    const ctx = as({ policies: [allow('kms:Encrypt', { StringEquals: { 'kms:RequestAlias': 'alias/payments' } })] });
    expect((await f.service.crypto.encrypt(ctx, { keyId: 'alias/payments', plaintext: pt })).keyArn).toBe(`arn:aws:kms:us-east-1:${ACCOUNT}:key/${key}`);
    expect((await f.service.crypto.encrypt(ctx, { keyId: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/payments`, plaintext: pt })).keyArn).toBe(`arn:aws:kms:us-east-1:${ACCOUNT}:key/${key}`);
    await expect(f.service.crypto.encrypt(ctx, { keyId: key, plaintext: pt })).rejects.toMatchObject(DENIED);
    await expect(f.service.crypto.encrypt(ctx, { keyId: 'alias/payments-other', plaintext: pt })).rejects.toMatchObject(DENIED);
  });

  it('kms:ResourceAliases lists the aliases of the key, however it is named (identity policy)', async () => {
    const finance = (await f.service.keys.create(admin, {})).id;
    const plain = (await f.service.keys.create(admin, {})).id;
    await f.service.aliases.create(admin, 'alias/finance', finance);
    await f.service.aliases.create(admin, 'alias/unrelated', plain);
    const ctx = as({ policies: [allow('kms:Encrypt', { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/finance' } })] });
    await f.service.crypto.encrypt(ctx, { keyId: finance, plaintext: pt });
    await expect(f.service.crypto.encrypt(ctx, { keyId: plain, plaintext: pt })).rejects.toMatchObject(DENIED);
    // Moving the alias moves the permission.
    await f.service.aliases.update(admin, 'alias/finance', plain);
    await f.service.crypto.encrypt(ctx, { keyId: plain, plaintext: pt });
    await expect(f.service.crypto.encrypt(ctx, { keyId: finance, plaintext: pt })).rejects.toMatchObject(DENIED);
  });

  it('kms:GrantOperations on CreateGrant (identity policy)', async () => {
    const ctx = as({ policies: [allow('kms:CreateGrant', { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Encrypt', 'Decrypt'] } })] });
    const grantee = iam('role/app');
    expect((await f.service.grants.create(ctx, { keyId: symmetric, granteePrincipal: grantee, operations: ['Encrypt', 'Decrypt'] })).grantId).toMatch(/^[0-9a-f]{64}$/);
    await expect(f.service.grants.create(ctx, { keyId: symmetric, granteePrincipal: grantee, operations: ['Decrypt', 'CreateGrant'] })).rejects.toMatchObject(DENIED);
  });
});

describe('aws: condition keys', () => {
  it('aws:PrincipalTag/<k> is the caller\'s tag (key policy, put with PutKeyPolicy)', async () => {
    const key = (await f.service.keys.create(admin, {})).id;
    await f.service.keyPolicies.put(admin, {
      keyId: key,
      policy: keyPolicy({ Principal: { AWS: '*' }, Action: 'kms:Encrypt', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'payments' } } }),
    });
    await f.service.crypto.encrypt(as({ tags: { team: 'payments' } }), { keyId: key, plaintext: pt });
    await expect(f.service.crypto.encrypt(as({ tags: { team: 'risk' } }), { keyId: key, plaintext: pt })).rejects.toMatchObject(DENIED);
    await expect(f.service.crypto.encrypt(as({}), { keyId: key, plaintext: pt })).rejects.toMatchObject(DENIED);
  });

  it('aws:ResourceTag/<k> is the key\'s tag (identity policy)', async () => {
    const prod = (await f.service.keys.create(admin, { tags: { env: 'prod' } })).id;
    const test = (await f.service.keys.create(admin, { tags: { env: 'test' } })).id;
    const ctx = as({ policies: [allow('kms:Encrypt', { StringEquals: { 'aws:ResourceTag/env': 'prod' } })] });
    await f.service.crypto.encrypt(ctx, { keyId: prod, plaintext: pt });
    await expect(f.service.crypto.encrypt(ctx, { keyId: test, plaintext: pt })).rejects.toMatchObject(DENIED);
    await expect(f.service.crypto.encrypt(ctx, { keyId: symmetric, plaintext: pt })).rejects.toMatchObject(DENIED);
  });

  it('aws:RequestTag/<k> on CreateKey and TagResource (identity policy)', async () => {
    const ctx = as({ policies: [allow(['kms:CreateKey', 'kms:TagResource'], { StringEquals: { 'aws:RequestTag/cost-center': 'cc-1' } })] });
    const key = await f.service.keys.create(ctx, { tags: { 'cost-center': 'cc-1' } });
    expect(key.tags).toEqual({ 'cost-center': 'cc-1' });
    await expect(f.service.keys.create(ctx, { tags: { 'cost-center': 'cc-2' } })).rejects.toMatchObject(DENIED);
    await expect(f.service.keys.create(ctx, {})).rejects.toMatchObject(DENIED);
    expect((await f.service.keys.tag(ctx, key.id, { 'cost-center': 'cc-1', owner: 'x' })).tags).toEqual({ 'cost-center': 'cc-1', owner: 'x' });
    await expect(f.service.keys.tag(ctx, key.id, { 'cost-center': 'cc-9' })).rejects.toMatchObject(DENIED);
    expect((await f.service.keys.describe(admin, key.id)).tags).toEqual({ 'cost-center': 'cc-1', owner: 'x' });
  });

  it('aws:TagKeys on CreateKey and TagResource (identity policy)', async () => {
    const ctx = as({ policies: [allow(['kms:CreateKey', 'kms:TagResource'], { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['cost-center', 'owner'] } })] });
    const key = await f.service.keys.create(ctx, { tags: { owner: 'bob', 'cost-center': 'cc-1' } });
    await expect(f.service.keys.create(ctx, { tags: { owner: 'bob', secret: 'x' } })).rejects.toMatchObject(DENIED);
    await f.service.keys.tag(ctx, key.id, { owner: 'carol' });
    await expect(f.service.keys.tag(ctx, key.id, { env: 'prod' })).rejects.toMatchObject(DENIED);
    expect((await f.service.keys.describe(admin, key.id)).tags).toEqual({ owner: 'carol', 'cost-center': 'cc-1' });
  });

  it('aws:SourceIp is the request\'s source address (identity policy)', async () => {
    const policies = [allow('kms:DescribeKey', { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } })];
    await f.service.keys.describe(as({ policies, sourceIp: '10.20.30.40' }), symmetric);
    await expect(f.service.keys.describe(as({ policies, sourceIp: '192.168.1.10' }), symmetric)).rejects.toMatchObject(DENIED);
    await expect(f.service.keys.describe(as({ policies, sourceIp: null }), symmetric)).rejects.toMatchObject(DENIED);
  });

  it('aws:SecureTransport is true (every API is served over TLS) (identity policy)', async () => {
    const secure = as({ policies: [allow('kms:DescribeKey', { Bool: { 'aws:SecureTransport': 'true' } })] });
    const insecure = as({ policies: [allow('kms:DescribeKey', { Bool: { 'aws:SecureTransport': 'false' } })] });
    await f.service.keys.describe(secure, symmetric);
    await expect(f.service.keys.describe(insecure, symmetric)).rejects.toMatchObject(DENIED);
  });

  it('aws:username is the user name of a user ARN, and absent for a role (identity policy)', async () => {
    const policies = [allow('kms:DescribeKey', { StringEquals: { 'aws:username': 'bob' } })];
    await f.service.keys.describe(as({ resource: 'user/bob', policies }), symmetric);
    await expect(f.service.keys.describe(as({ resource: 'user/carol', policies }), symmetric)).rejects.toMatchObject(DENIED);
    await expect(f.service.keys.describe(as({ resource: 'role/bob', policies }), symmetric)).rejects.toMatchObject(DENIED);
  });

  it('aws:PrincipalArn is the caller\'s ARN (key policy with Principal *, created with bypass)', async () => {
    const key = await f.service.keys.create(admin, {
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Encrypt', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': iam('role/app-*') } } }],
      }),
      bypassPolicyLockoutSafetyCheck: true,
    });
    await f.service.crypto.encrypt(as({ resource: 'role/app-billing' }), { keyId: key.id, plaintext: pt });
    await expect(f.service.crypto.encrypt(as({ resource: 'user/app-billing' }), { keyId: key.id, plaintext: pt })).rejects.toMatchObject(DENIED);
    // The lockout: not even the administrator may manage the key now.
    await expect(f.service.keys.disable(admin, key.id)).rejects.toMatchObject(DENIED);
  });
});

describe('aws:CurrentTime', () => {
  let g: Fixture;
  beforeAll(async () => {
    g = await coreFixture();
  });
  afterAll(() => g?.close());

  it('is the service clock (identity policy with DateLessThan; the manual clock moves past it)', async () => {
    const key = (await g.service.keys.create(admin, {})).id;
    const ctx = as({ policies: [allow('kms:DescribeKey', { DateLessThan: { 'aws:CurrentTime': '2026-03-01T00:00:00Z' } })] });
    const after = as({ policies: [allow('kms:DescribeKey', { DateGreaterThan: { 'aws:CurrentTime': '2026-03-01T00:00:00Z' } })] });
    expect(g.clock.now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
    await g.service.keys.describe(ctx, key);
    await expect(g.service.keys.describe(after, key)).rejects.toMatchObject(DENIED);
    g.clock.advanceDays(90);
    await expect(g.service.keys.describe(ctx, key)).rejects.toMatchObject(DENIED);
    await g.service.keys.describe(after, key);
  });
});

describe('the audit trail records what decided', () => {
  it('names the identity policy statement or the key policy statement that allowed or denied', async () => {
    const ctx = as({ resource: 'user/audited', policies: [allow('kms:DescribeKey', { StringEquals: { 'aws:ResourceTag/env': 'prod' } })] });
    const prod = (await f.service.keys.create(admin, { tags: { env: 'prod' } })).id;
    await f.service.keys.describe(ctx, prod);
    await expect(f.service.keys.describe(ctx, symmetric)).rejects.toMatchObject(DENIED);
    const events = (await f.storage.readAudit({ limit: 10_000 })).filter((e) => e.principal === iam('user/audited'));
    expect(events.map((e) => [e.eventName, e.outcome])).toEqual([
      ['DescribeKey', 'success'],
      ['DescribeKey', 'denied'],
    ]);
    expect(events[0]!.details.authorization).toEqual({ decision: 'allow', by: 'policy:policy-0:#0 via default-key-policy:Enable IAM User Permissions' });
    expect(events[1]!.details.authorization).toEqual({ decision: 'implicit-deny' });
  });
});
