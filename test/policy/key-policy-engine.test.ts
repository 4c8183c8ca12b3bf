import { describe, expect, it } from 'vitest';
import { createKeyPolicyEngine, defaultKeyPolicy } from '../../src/policy/key-policy-engine.js';
import type { AccessRequest, Caller } from '../../src/policy/authorize.js';

const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const admin: Caller = { principalId: 'a', arn: `arn:aws:iam::${ACCOUNT}:user/admin`, roles: ['administrator'], credential: 'x' };
const alice: Caller = { principalId: 'b', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, roles: [], credential: 'x' };
const outsider: Caller = { principalId: 'c', arn: 'arn:aws:iam::444455556666:user/eve', roles: [], credential: 'x' };
const engine = createKeyPolicyEngine({ cacheSize: 2 });
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const req = (caller: Caller, action: string, keyPolicy: string | null | undefined, conditions: AccessRequest['conditions'] = {}): AccessRequest => ({
  caller,
  action,
  resource: keyPolicy === undefined ? null : KEY,
  ...(keyPolicy === undefined ? {} : { keyPolicy }),
  conditions,
});

describe('key policy engine', () => {
  it('gives roles their permissions, through the default policy too, and nobody else', () => {
    expect(engine.decide(req(admin, 'CreateKey', undefined))).toEqual({ decision: 'allow', by: 'role:administrator' });
    expect(engine.decide(req(admin, 'Encrypt', null))).toEqual({ decision: 'allow', by: 'role:administrator via default key policy' });
    expect(engine.decide(req(alice, 'Encrypt', null))).toEqual({ decision: 'implicit-deny' });
    expect(engine.decide(req(alice, 'GetCallerIdentity', undefined))).toEqual({ decision: 'allow', by: 'unrestricted' });
    expect(engine.decide(req({ ...alice, roles: ['system'] }, 'RotateKey', null)).decision).toBe('allow');
    const parsed = JSON.parse(defaultKeyPolicy(ACCOUNT));
    expect(parsed.Statement[0].Principal.AWS).toBe(`arn:aws:iam::${ACCOUNT}:root`);
    expect(engine.decide(req(admin, 'Encrypt', defaultKeyPolicy(ACCOUNT))).decision).toBe('allow');
    expect(engine.decide(req(alice, 'Encrypt', defaultKeyPolicy(ACCOUNT))).decision).toBe('implicit-deny');
    expect(engine.decide(req({ ...outsider, roles: ['administrator'] }, 'Encrypt', defaultKeyPolicy(ACCOUNT))).decision).toBe('implicit-deny');
  });

  it('allows named principals, wildcards in actions, Resource and NotResource, NotAction, NotPrincipal', () => {
    const p = doc(
      { Sid: 'Alice', Effect: 'Allow', Principal: { AWS: [alice.arn] }, Action: ['kms:Encrypt', 'kms:GenerateDataKey*'], Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: ACCOUNT }, NotAction: 'kms:Schedule*', NotResource: 'arn:aws:kms:*:*:key/other' },
    );
    expect(engine.decide(req(alice, 'Encrypt', p))).toEqual({ decision: 'allow', by: 'key-policy:Alice' });
    expect(engine.decide(req(alice, 'GenerateDataKeyWithoutPlaintext', p)).decision).toBe('allow');
    expect(engine.decide(req(alice, 'Decrypt', p)).decision).toBe('implicit-deny');
    expect(engine.decide(req(admin, 'Decrypt', p))).toEqual({ decision: 'allow', by: 'role:administrator via key-policy:#1' });
    expect(engine.decide(req(admin, 'ScheduleKeyDeletion', p)).decision).toBe('implicit-deny');
    const everyoneButAlice = doc({ Effect: 'Allow', NotPrincipal: { AWS: alice.arn }, Action: 'kms:Encrypt', Resource: KEY });
    expect(engine.decide(req(alice, 'Encrypt', everyoneButAlice)).decision).toBe('implicit-deny');
    expect(engine.decide(req(outsider, 'Encrypt', everyoneButAlice)).decision).toBe('allow');
    expect(engine.decide(req(outsider, 'Encrypt', doc({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }))).decision).toBe('allow');
    expect(engine.decide(req(outsider, 'Encrypt', doc({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*' }))).decision).toBe('allow');
  });

  it('lets an explicit Deny win over every allow, for the account and the named principal', () => {
    const p = doc(
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
      { Sid: 'NoDecrypt', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:Decrypt', Resource: '*' },
    );
    expect(engine.decide(req(admin, 'Decrypt', p))).toEqual({ decision: 'deny', by: 'key-policy:NoDecrypt' });
    expect(engine.decide(req(admin, 'Encrypt', p)).decision).toBe('allow');
  });

  it('evaluates conditions: String*, Bool, Null, Numeric*, IfExists, ForAnyValue and ForAllValues', () => {
    const allow = (Condition: object) => doc({ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:*', Resource: '*', Condition });
    const ec = { 'kms:encryptioncontext:tenant': 'bank-7', 'kms:encryptioncontextkeys': ['tenant', 'field'] };
    const cases: Array<[object, AccessRequest['conditions'], boolean]> = [
      [{ StringEquals: { 'kms:EncryptionContext:tenant': 'bank-7' } }, ec, true],
      [{ StringEquals: { 'kms:EncryptionContext:tenant': ['bank-8', 'bank-7'] } }, ec, true],
      [{ StringEquals: { 'kms:EncryptionContext:tenant': 'bank-8' } }, ec, false],
      [{ StringEquals: { 'kms:EncryptionContext:tenant': 'bank-7' } }, {}, false],
      [{ StringEqualsIfExists: { 'kms:EncryptionContext:tenant': 'bank-7' } }, {}, true],
      [{ StringNotEquals: { 'kms:EncryptionContext:tenant': 'bank-8' } }, ec, true],
      [{ StringNotEquals: { 'kms:EncryptionContext:tenant': 'bank-8' } }, {}, true],
      [{ StringEqualsIgnoreCase: { 'kms:EncryptionContext:tenant': 'BANK-7' } }, ec, true],
      [{ StringNotEqualsIgnoreCase: { 'kms:EncryptionContext:tenant': 'BANK-7' } }, ec, false],
      [{ StringLike: { 'kms:EncryptionContext:tenant': 'bank-?' } }, ec, true],
      [{ StringLike: { 'kms:EncryptionContext:tenant': 'bank-*7' } }, ec, true],
      [{ StringNotLike: { 'kms:EncryptionContext:tenant': 'bank-*' } }, ec, false],
      [{ 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'field' } }, ec, true],
      [{ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'field', 'x'] } }, ec, true],
      [{ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } }, ec, false],
      [{ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } }, {}, true],
      [{ 'ForAllValues:StringNotLike': { 'kms:EncryptionContextKeys': ['secret*'] } }, ec, true],
      [{ 'ForAnyValue:StringNotEquals': { 'kms:EncryptionContextKeys': ['tenant'] } }, ec, true],
      [{ Null: { 'kms:EncryptionContext:tenant': 'false' } }, ec, true],
      [{ Null: { 'kms:EncryptionContext:tenant': 'true' } }, ec, false],
      [{ Bool: { 'aws:SecureTransport': true } }, { 'aws:securetransport': 'true' }, true],
      [{ NumericLessThanEquals: { 'kms:RotationPeriodInDays': 365 } }, { 'kms:rotationperiodindays': 180 }, true],
      [{ NumericGreaterThan: { 'kms:RotationPeriodInDays': '365' } }, { 'kms:rotationperiodindays': 180 }, false],
      [{ NumericEquals: { 'kms:RotationPeriodInDays': '180' } }, { 'kms:rotationperiodindays': 180 }, true],
      [{ NumericNotEquals: { 'kms:RotationPeriodInDays': '180' } }, { 'kms:rotationperiodindays': 180 }, false],
      [{ NumericLessThan: { 'kms:RotationPeriodInDays': '181' } }, { 'kms:rotationperiodindays': 180 }, true],
      [{ NumericGreaterThanEquals: { 'kms:RotationPeriodInDays': '181' } }, { 'kms:rotationperiodindays': 180 }, false],
      [{ ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:user/*` } }, {}, true],
      [{ ArnEquals: { 'aws:PrincipalArn': admin.arn } }, {}, false],
      [{ ArnNotEquals: { 'aws:PrincipalArn': admin.arn } }, {}, true],
      [{ ArnNotLike: { 'aws:PrincipalArn': '*:user/alice' } }, {}, false],
      [{ StringEquals: { 'aws:username': 'alice' } }, {}, true],
      [{ DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, {}, false],
    ];
    for (const [condition, conditions, allowed] of cases) {
      expect({ condition, decision: engine.decide(req(alice, 'Encrypt', allow(condition), conditions)).decision }).toEqual({
        condition,
        decision: allowed ? 'allow' : 'implicit-deny',
      });
    }
  });

  it('refuses malformed documents with a reason', () => {
    const bad: Array<[string, RegExp]> = [
      ['x'.repeat(33 * 1024), /larger than 32768 bytes/],
      ['{', /not valid JSON/],
      ['[]', /must be a JSON object/],
      [JSON.stringify({ Version: '2001-01-01', Statement: [] }), /Version/],
      [JSON.stringify({ Version: '2012-10-17', Id: 5, Statement: [] }), /Id must be a string/],
      [JSON.stringify({ Version: '2012-10-17', Other: 1 }), /unknown field: Other/],
      [JSON.stringify({ Version: '2012-10-17' }), /at least one statement/],
      [JSON.stringify({ Version: '2012-10-17', Statement: ['x'] }), /must be an object/],
      [doc({ Effect: 'Allow', Action: 'kms:*' }), /must contain a principal/],
      [doc({ Effect: 'Allow', Principal: '*', Action: 'kms:*', NotAction: 'kms:x' }), /must contain actions/],
      [doc({ Effect: 'Allow', Principal: '*', Action: [] }), /non-empty/],
      [doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }), /invalid action/],
      [doc({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', NotResource: '*' }), /both Resource and NotResource/],
      [doc({ Sid: 'no:colons', Effect: 'Allow', Principal: '*', Action: 'kms:*' }), /SID/],
      [doc({ Effect: 'Allow', Principal: ['x'], Action: 'kms:*' }), /invalid principals/],
      [doc({ Effect: 'Allow', Principal: { Federated: 'x' }, Action: 'kms:*' }), /invalid principals/],
      [doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::*:root' }, Action: 'kms:*' }), /invalid principals/],
      [doc({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Condition: 'x' }), /Condition must be an object/],
      [doc({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Condition: { StringEquals: 'x' } }), /must be an object/],
      [doc({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Condition: { StringEquals: { k: { a: 1 } } } }), /string values/],
      [doc({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Condition: { Nope: { k: 'v' } } }), /Unknown condition operator: Nope/],
    ];
    for (const [text, reason] of bad) {
      expect(() => engine.validate(text)).toThrow(reason);
      try {
        engine.validate(text);
      } catch (err) {
        expect((err as { code: string }).code).toBe('ERR_MALFORMED_POLICY');
      }
    }
    expect(() => engine.validate(doc({ Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'kms:Encrypt' }))).not.toThrow();
  });

  it('keeps a bounded cache of parsed documents', () => {
    for (let i = 0; i < 5; i++) engine.validate(doc({ Sid: `S${i}`, Effect: 'Allow', Principal: '*', Action: 'kms:*' }));
    expect(engine.decide(req(alice, 'Encrypt', doc({ Sid: 'S0', Effect: 'Allow', Principal: '*', Action: 'kms:*' }))).decision).toBe('allow');
  });
});
