// The engine that composes roles and key policies over the policy language (policy-document.ts, evaluate.ts; their
// own tests cover the language). Here: what the core asks and what it gets back.
import { describe, expect, it } from 'vitest';
import { createPolicyEngine, defaultKeyPolicy } from '../../src/policy/policy-engine.js';
import type { AccessRequest, Caller } from '../../src/policy/authorize.js';

const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const admin: Caller = { principalId: 'a', arn: `arn:aws:iam::${ACCOUNT}:user/admin`, roles: ['administrator'], credential: 'x' };
const alice: Caller = { principalId: 'b', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, roles: [], credential: 'x' };
const engineer: Caller = { principalId: 'e', arn: `arn:aws:iam::${ACCOUNT}:user/erin`, roles: ['data-engineer'], credential: 'x' };
const outsider: Caller = { principalId: 'c', arn: 'arn:aws:iam::444455556666:user/eve', roles: ['administrator'], credential: 'x' };
const engine = createPolicyEngine({ cacheSize: 2 });
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const req = (caller: Caller, action: string, keyPolicy: string | null | undefined, conditions: AccessRequest['conditions'] = {}): AccessRequest => ({
  caller,
  action,
  resource: keyPolicy === undefined ? null : KEY,
  ...(keyPolicy === undefined ? {} : { keyPolicy }),
  conditions,
});

describe('key policy engine', () => {
  it('gives roles their permissions, through the default key policy too, and nobody else', () => {
    expect(engine.decide(req(admin, 'CreateKey', undefined))).toEqual({ decision: 'allow', by: 'role:administrator:ManageEverythingButKeyUse' });
    expect(engine.decide(req(admin, 'DisableKey', null))).toEqual({
      decision: 'allow',
      by: 'role:administrator:ManageEverythingButKeyUse via default-key-policy:Enable IAM User Permissions',
    });
    expect(engine.decide(req(admin, 'Encrypt', null))).toEqual({ decision: 'implicit-deny' });
    expect(engine.decide(req(engineer, 'Encrypt', null))).toEqual({
      decision: 'allow',
      by: 'role:data-engineer:UseKeys via default-key-policy:Enable IAM User Permissions',
    });
    expect(engine.decide(req(alice, 'Encrypt', null))).toEqual({ decision: 'implicit-deny' });
    expect(engine.decide(req(alice, 'CreateKey', undefined))).toEqual({ decision: 'implicit-deny' });
    expect(engine.decide(req(alice, 'GetCallerIdentity', undefined))).toEqual({ decision: 'allow', by: 'unrestricted' });
    expect(engine.decide(req({ ...alice, roles: ['system'] }, 'RotateKey', null)).decision).toBe('allow');
    expect(engine.decide(req(outsider, 'Encrypt', null)).decision).toBe('implicit-deny');
    expect(JSON.parse(defaultKeyPolicy(ACCOUNT)).Statement[0].Principal.AWS).toBe(`arn:aws:iam::${ACCOUNT}:root`);
    expect(defaultKeyPolicy(ACCOUNT)).toContain('"Version" : "2012-10-17"');
  });

  it('lets a key policy allow a named principal, under conditions, and an explicit Deny beat an administrator', () => {
    const p = doc(
      { Sid: 'Account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
      {
        Sid: 'Alice',
        Effect: 'Allow',
        Principal: { AWS: alice.arn },
        Action: ['kms:Encrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 'bank-7' } },
      },
      { Sid: 'NoDecrypt', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:Decrypt', Resource: '*' },
    );
    const ec = { 'kms:encryptioncontext:tenant': 'bank-7' };
    expect(engine.decide(req(alice, 'Encrypt', p, ec))).toEqual({ decision: 'allow', by: 'key-policy:Alice' });
    expect(engine.decide(req(alice, 'GenerateDataKeyWithoutPlaintext', p, ec)).decision).toBe('allow');
    expect(engine.decide(req(alice, 'Encrypt', p, { 'kms:encryptioncontext:tenant': 'bank-8' })).decision).toBe('implicit-deny');
    expect(engine.decide(req(alice, 'Encrypt', p)).decision).toBe('implicit-deny');
    expect(engine.decide(req(admin, 'DescribeKey', p))).toEqual({ decision: 'allow', by: 'role:administrator:ManageEverythingButKeyUse via key-policy:Account' });
    expect(engine.decide(req(engineer, 'Encrypt', p))).toEqual({ decision: 'allow', by: 'role:data-engineer:UseKeys via key-policy:Account' });
    expect(engine.decide(req(engineer, 'Decrypt', p))).toEqual({ decision: 'deny', by: 'key-policy:NoDecrypt' });
    expect(engine.decide(req(alice, 'Decrypt', p, ec))).toEqual({ decision: 'deny', by: 'key-policy:NoDecrypt' });
  });

  it('without the account statement, an administrator has no access through the key policy', () => {
    const p = doc({ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:Encrypt', Resource: '*' });
    expect(engine.decide(req(admin, 'PutKeyPolicy', p)).decision).toBe('implicit-deny');
    expect(engine.decide(req(alice, 'Encrypt', p))).toEqual({ decision: 'allow', by: 'key-policy:#0' });
  });

  it('validates documents with the language parser and a reason', () => {
    expect(() => engine.validateKeyPolicy('{')).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_POLICY' }));
    expect(() => engine.validateKeyPolicy(doc({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Condition: { StringSorta: { 'kms:KeySpec': 'v' } } }))).toThrow(
      /StringSorta/,
    );
    expect(() => engine.validateKeyPolicy('x'.repeat(33 * 1024))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_POLICY' }));
  });

  it('keeps a bounded cache of parsed documents', () => {
    for (let i = 0; i < 5; i++) engine.validateKeyPolicy(doc({ Sid: `S${i}`, Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:*' }));
    expect(engine.decide(req(alice, 'Encrypt', doc({ Sid: 'S0', Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:*' }))).decision).toBe('allow');
  });

  it('adds attached identity policies, named in the decision, with an explicit Deny beating a role', () => {
    const payments = doc(
      { Sid: 'PaymentsKeys', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: KEY, Condition: { StringEquals: { 'aws:PrincipalTag/team': 'payments' } } },
      { Sid: 'NeverDelete', Effect: 'Deny', Action: 'kms:ScheduleKeyDeletion', Resource: '*' },
    );
    const bob: Caller = { principalId: 'p', arn: `arn:aws:iam::${ACCOUNT}:user/bob`, roles: ['administrator'], policies: [{ name: 'payments', document: payments }], credential: 'x' };
    const tagged = { 'aws:principaltag/team': 'payments' };
    expect(engine.decide(req(bob, 'Encrypt', null, tagged))).toEqual({
      decision: 'allow',
      by: 'policy:payments:PaymentsKeys via default-key-policy:Enable IAM User Permissions',
    });
    expect(engine.decide(req(bob, 'Encrypt', null, { 'aws:principaltag/team': 'risk' })).decision).toBe('implicit-deny');
    expect(engine.decide(req(bob, 'ScheduleKeyDeletion', null))).toEqual({ decision: 'deny', by: 'policy:payments:NeverDelete' });
    expect(engine.decide(req(bob, 'DisableKey', null)).decision).toBe('allow');
    expect(() => engine.validateIdentityPolicy(doc({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }))).toThrow(/principal/i);
    expect(() => engine.validateIdentityPolicy(doc({ Effect: 'Allow', Action: 'kms:*' }))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_POLICY' }));
  });

  it('gives developers test keys only and applications nothing but data operations', () => {
    const dev: Caller = { ...alice, roles: ['developer'] };
    expect(engine.decide(req(dev, 'Encrypt', null, { 'aws:resourcetag/environment': 'test' })).decision).toBe('allow');
    expect(engine.decide(req(dev, 'Encrypt', null, { 'aws:resourcetag/environment': 'prod' })).decision).toBe('implicit-deny');
    expect(engine.decide(req(dev, 'Encrypt', null)).decision).toBe('implicit-deny');
    expect(engine.decide(req(dev, 'DescribeKey', null)).decision).toBe('allow');
    expect(engine.decide(req(dev, 'CreateKey', undefined)).decision).toBe('implicit-deny');
    const app: Caller = { ...alice, roles: ['application', 'administrator'] };
    expect(engine.decide(req(app, 'CreateKey', undefined))).toEqual({ decision: 'deny', by: 'role:application:NothingButDataOperations' });
    const grantLike = doc({ Sid: 'App', Effect: 'Allow', Principal: { AWS: alice.arn }, Action: ['kms:Decrypt', 'kms:PutKeyPolicy'], Resource: '*' });
    expect(engine.decide(req({ ...alice, roles: ['application'] }, 'Decrypt', grantLike))).toEqual({ decision: 'allow', by: 'key-policy:App' });
    expect(engine.decide(req({ ...alice, roles: ['application'] }, 'PutKeyPolicy', grantLike)).decision).toBe('deny');
  });

  it('says which condition keys the policies of a request test', () => {
    const p = doc({ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:Encrypt', Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/pay' } } });
    expect(engine.prepare(req(alice, 'Encrypt', p)).uses('kms:resourcealiases')).toBe(true);
    expect(engine.prepare(req(alice, 'Encrypt', null)).uses('kms:resourcealiases')).toBe(false);
    expect(engine.prepare(req({ ...alice, roles: ['developer'] }, 'Encrypt', null)).uses('aws:resourcetag/environment')).toBe(true);
  });
});
