import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors/index.js';
import { buildDefaultKeyPolicy } from '../../src/policy/default-key-policy.js';
import { evaluate, type EvaluationRequest, type PolicyEntry } from '../../src/policy/evaluate.js';
import { parsePolicy, type PolicyKind } from '../../src/policy/policy-document.js';
import { renderPolicy } from '../../src/policy/render-policy.js';
import { EMPTY_CONTEXT, toRequestContext, type RequestContext } from '../../src/policy/request-context.js';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const OTHER_ROOT = `arn:aws:iam::${OTHER}:root`;
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
const EVE = `arn:aws:iam::${OTHER}:user/eve`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab`;

const text = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const entry = (kind: PolicyKind, id: string, ...statements: object[]): PolicyEntry => ({
  kind,
  id,
  document: parsePolicy(text(statements), { kind, resourceDefaultsToAny: kind !== 'identity' }),
});
const keyPolicy = (...statements: object[]) => entry('key', KEY, ...statements);
const identity = (id: string, ...statements: object[]) => entry('identity', id, ...statements);
const grant = (id: string, ...statements: object[]) => entry('grant', id, ...statements);
const defaultKeyPolicy: PolicyEntry = { kind: 'key', id: KEY, document: parsePolicy(renderPolicy(buildDefaultKeyPolicy(ACCOUNT)), { kind: 'key' }) };

const request = (principalArn: string, action: string, resource = KEY, context: RequestContext = EMPTY_CONTEXT): EvaluationRequest => ({
  principalArn,
  action,
  resource,
  context,
});

const allowAll = { Effect: 'Allow', Action: 'kms:*', Resource: '*' };

describe('the default key policy delegates to identity policies', () => {
  it('allows nothing by itself to a user of the account', () => {
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [defaultKeyPolicy])).toEqual({ decision: 'implicit-deny' });
  });

  it('lets an identity-policy allow count, and names both statements', () => {
    const alice = identity('alice-policy', { Sid: 'UseKeys', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [defaultKeyPolicy, alice])).toEqual({
      decision: 'allow',
      by: { policyKind: 'identity', policyId: 'alice-policy', sid: 'UseKeys', statementIndex: 0 },
      delegatedBy: { policyKind: 'key', policyId: KEY, sid: 'Enable IAM User Permissions', statementIndex: 0 },
    });
    expect(evaluate(request(ALICE, 'kms:ScheduleKeyDeletion'), [defaultKeyPolicy, alice])).toEqual({ decision: 'implicit-deny' });
  });

  it('allows the account root user itself directly', () => {
    expect(evaluate(request(ROOT, 'kms:PutKeyPolicy'), [defaultKeyPolicy])).toEqual({
      decision: 'allow',
      by: { policyKind: 'key', policyId: KEY, sid: 'Enable IAM User Permissions', statementIndex: 0 },
    });
  });

  it('treats a bare account id like the account root', () => {
    const byId = keyPolicy({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'kms:*' });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [byId]).decision).toBe('implicit-deny');
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [byId, identity('a', allowAll)]).decision).toBe('allow');
    expect(evaluate(request(ROOT, 'kms:Encrypt'), [byId]).decision).toBe('allow');
  });

  it('does not delegate to another account', () => {
    expect(evaluate(request(EVE, 'kms:Encrypt'), [defaultKeyPolicy, identity('eve', allowAll)])).toEqual({ decision: 'implicit-deny' });
  });
});

describe('principals in key policies', () => {
  it('allows a principal named by its ARN, without identity policies, and nobody else', () => {
    const p = keyPolicy({ Sid: 'Alice', Effect: 'Allow', Principal: { AWS: [ALICE] }, Action: ['kms:Encrypt', 'kms:GenerateDataKey*'] });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [p])).toEqual({ decision: 'allow', by: { policyKind: 'key', policyId: KEY, sid: 'Alice', statementIndex: 0 } });
    expect(evaluate(request(ALICE, 'kms:GenerateDataKeyWithoutPlaintext'), [p]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:Decrypt'), [p]).decision).toBe('implicit-deny');
    expect(evaluate(request(BOB, 'kms:Encrypt'), [p, identity('bob', allowAll)]).decision).toBe('implicit-deny');
  });

  it('allows "*" to anyone of the account and to principals that are not ARNs', () => {
    const p = keyPolicy({ Effect: 'Allow', Principal: '*', Action: 'kms:DescribeKey' });
    expect(evaluate(request(BOB, 'kms:DescribeKey'), [p]).decision).toBe('allow');
    expect(evaluate(request('anonymous', 'kms:DescribeKey'), [p]).decision).toBe('allow');
  });

  it('matches service principals by name', () => {
    const p = keyPolicy({ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'kms:GenerateDataKey' });
    expect(evaluate(request('s3.amazonaws.com', 'kms:GenerateDataKey'), [p]).decision).toBe('allow');
    expect(evaluate(request('logs.amazonaws.com', 'kms:GenerateDataKey'), [p]).decision).toBe('implicit-deny');
  });

  it('NotPrincipal with Deny: the AWS pattern needs the account listed too', () => {
    const onlyBob = keyPolicy({ Effect: 'Allow', Principal: '*', Action: 'kms:*' }, { Sid: 'OnlyBob', Effect: 'Deny', NotPrincipal: { AWS: [BOB, ROOT] }, Action: 'kms:*' });
    expect(evaluate(request(BOB, 'kms:Decrypt'), [onlyBob]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:Decrypt'), [onlyBob])).toMatchObject({ decision: 'deny', by: { sid: 'OnlyBob', statementIndex: 1 } });
    expect(evaluate(request(ROOT, 'kms:Decrypt'), [onlyBob]).decision).toBe('allow');
    // Listing Bob alone denies Bob too: his account is not listed (AWS IAM User Guide, NotPrincipal).
    const bobAlone = keyPolicy({ Effect: 'Allow', Principal: '*', Action: 'kms:*' }, { Effect: 'Deny', NotPrincipal: { AWS: BOB }, Action: 'kms:*' });
    expect(evaluate(request(BOB, 'kms:Decrypt'), [bobAlone]).decision).toBe('deny');
    expect(evaluate(request('s3.amazonaws.com', 'kms:Decrypt'), [bobAlone]).decision).toBe('deny');
  });

  it('NotPrincipal with Allow: everyone else directly, a listed user only through the account', () => {
    const p = keyPolicy({ Effect: 'Allow', NotPrincipal: { AWS: ALICE }, Action: 'kms:Encrypt' });
    expect(evaluate(request(BOB, 'kms:Encrypt'), [p]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [p]).decision).toBe('implicit-deny');
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [p, identity('alice', allowAll)])).toMatchObject({ decision: 'allow', by: { policyKind: 'identity' }, delegatedBy: { policyKind: 'key' } });
    const notRoot = keyPolicy({ Effect: 'Allow', NotPrincipal: { AWS: ROOT }, Action: 'kms:Encrypt' });
    expect(evaluate(request(ROOT, 'kms:Encrypt'), [notRoot]).decision).toBe('implicit-deny');
  });
});

describe('cross-account requests need both the key policy and the caller’s identity policy', () => {
  it('delegation to the other account', () => {
    const p = keyPolicy({ Sid: 'Other', Effect: 'Allow', Principal: { AWS: OTHER_ROOT }, Action: 'kms:Decrypt' });
    expect(evaluate(request(EVE, 'kms:Decrypt'), [p]).decision).toBe('implicit-deny');
    expect(evaluate(request(EVE, 'kms:Decrypt'), [p, identity('eve', allowAll)])).toMatchObject({ decision: 'allow', delegatedBy: { sid: 'Other' } });
  });

  it('even when the key policy names the caller or "*"', () => {
    const named = keyPolicy({ Sid: 'Eve', Effect: 'Allow', Principal: { AWS: EVE }, Action: 'kms:Decrypt' });
    expect(evaluate(request(EVE, 'kms:Decrypt'), [named]).decision).toBe('implicit-deny');
    expect(evaluate(request(EVE, 'kms:Decrypt'), [named, identity('eve', allowAll)])).toMatchObject({ decision: 'allow', by: { policyId: 'eve' }, delegatedBy: { sid: 'Eve' } });
    const anyone = keyPolicy({ Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt' });
    expect(evaluate(request(EVE, 'kms:Decrypt'), [anyone]).decision).toBe('implicit-deny');
    expect(evaluate(request(EVE, 'kms:Decrypt'), [anyone, identity('eve', allowAll)]).decision).toBe('allow');
  });

  it('names the first statement that opened the door', () => {
    const both = keyPolicy(
      { Sid: 'Account', Effect: 'Allow', Principal: { AWS: OTHER_ROOT }, Action: 'kms:Decrypt' },
      { Sid: 'Eve', Effect: 'Allow', Principal: { AWS: EVE }, Action: 'kms:Decrypt' },
    );
    expect(evaluate(request(EVE, 'kms:Decrypt'), [both, identity('eve', allowAll)])).toMatchObject({ delegatedBy: { sid: 'Account' } });
    const reversed = keyPolicy(
      { Sid: 'Eve', Effect: 'Allow', Principal: { AWS: EVE }, Action: 'kms:Decrypt' },
      { Sid: 'Account', Effect: 'Allow', Principal: { AWS: OTHER_ROOT }, Action: 'kms:Decrypt' },
    );
    expect(evaluate(request(EVE, 'kms:Decrypt'), [reversed, identity('eve', allowAll)])).toMatchObject({ delegatedBy: { sid: 'Eve' } });
  });
});

describe('explicit deny wins across policy kinds', () => {
  const keyAllowsAlice = keyPolicy({ Sid: 'Alice', Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:*' });

  it('an identity-policy Deny beats a key-policy Allow', () => {
    const deny = identity('guardrail', { Sid: 'NoDecrypt', Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' });
    expect(evaluate(request(ALICE, 'kms:Decrypt'), [keyAllowsAlice, deny])).toEqual({
      decision: 'deny',
      by: { policyKind: 'identity', policyId: 'guardrail', sid: 'NoDecrypt', statementIndex: 0 },
    });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [keyAllowsAlice, deny]).decision).toBe('allow');
  });

  it('a key-policy Deny on the account root denies every principal of the account', () => {
    const p = keyPolicy(
      { Sid: 'Alice', Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:*' },
      { Sid: 'NoDeletion', Effect: 'Deny', Principal: { AWS: ROOT }, Action: 'kms:ScheduleKeyDeletion' },
    );
    expect(evaluate(request(ALICE, 'kms:ScheduleKeyDeletion'), [p])).toMatchObject({ decision: 'deny', by: { sid: 'NoDeletion', statementIndex: 1 } });
    expect(evaluate(request(ROOT, 'kms:ScheduleKeyDeletion'), [p]).decision).toBe('deny');
    expect(evaluate(request(EVE, 'kms:ScheduleKeyDeletion'), [p]).decision).toBe('implicit-deny');
  });

  it('a key-policy Deny beats a grant', () => {
    const g = grant('grant-1', { Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:Decrypt' });
    const deny = keyPolicy({ Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt' });
    expect(evaluate(request(ALICE, 'kms:Decrypt'), [g]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:Decrypt'), [g, deny])).toMatchObject({ decision: 'deny', by: { policyKind: 'key' } });
  });

  it('reports the first Deny in policy order', () => {
    const d1 = identity('first', { Effect: 'Deny', Action: 'kms:*', Resource: '*' });
    const d2 = identity('second', { Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' });
    expect(evaluate(request(ALICE, 'kms:Decrypt'), [d2, d1])).toMatchObject({ by: { policyId: 'second' } });
    expect(evaluate(request(ALICE, 'kms:Decrypt'), [d1, d2])).toMatchObject({ by: { policyId: 'first' } });
  });

  it('a Deny that does not apply denies nothing', () => {
    const conditional = identity('c', { Effect: 'Deny', Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const context = toRequestContext({ 'aws:SecureTransport': true });
    expect(evaluate(request(ALICE, 'kms:Encrypt', KEY, context), [keyAllowsAlice, conditional]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:Encrypt', KEY, toRequestContext({ 'aws:SecureTransport': false })), [keyAllowsAlice, conditional]).decision).toBe('deny');
    const forBob = keyPolicy({ Sid: 'Alice', Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:*' }, { Effect: 'Deny', Principal: { AWS: BOB }, Action: 'kms:*' });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [forBob]).decision).toBe('allow');
  });
});

describe('actions and resources', () => {
  it('matches action names case-insensitively', () => {
    const p = keyPolicy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'KMS:encrypt' });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [p]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'KMS:ENCRYPT'), [p]).decision).toBe('allow');
  });

  it('NotAction allows or denies everything but the listed actions', () => {
    const allow = keyPolicy({ Effect: 'Allow', Principal: { AWS: ALICE }, NotAction: 'kms:Schedule*' });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [allow]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:ScheduleKeyDeletion'), [allow]).decision).toBe('implicit-deny');
    const deny = identity('readonly', { Effect: 'Deny', NotAction: ['kms:Describe*', 'kms:List*'], Resource: '*' });
    expect(evaluate(request(ROOT, 'kms:Encrypt'), [defaultKeyPolicy, deny]).decision).toBe('deny');
    expect(evaluate(request(ROOT, 'kms:DescribeKey'), [defaultKeyPolicy, deny]).decision).toBe('allow');
  });

  it('Resource and NotResource match the key ARN; "*" is the resource of account-level actions', () => {
    const scoped = identity('scoped', { Effect: 'Allow', Action: 'kms:*', Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` });
    expect(evaluate(request(ALICE, 'kms:Encrypt', KEY), [scoped]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:CreateAlias', `arn:aws:kms:us-east-1:${ACCOUNT}:alias/a`), [scoped]).decision).toBe('implicit-deny');
    expect(evaluate(request(ALICE, 'kms:CreateKey', '*'), [scoped]).decision).toBe('implicit-deny');
    const notOther = identity('not-other', { Effect: 'Allow', Action: 'kms:*', NotResource: OTHER_KEY });
    expect(evaluate(request(ALICE, 'kms:Encrypt', KEY), [notOther]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:Encrypt', OTHER_KEY), [notOther]).decision).toBe('implicit-deny');
    const createKey = identity('create', { Sid: 'Create', Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*' });
    expect(evaluate(request(ALICE, 'kms:CreateKey', '*'), [createKey])).toEqual({
      decision: 'allow',
      by: { policyKind: 'identity', policyId: 'create', sid: 'Create', statementIndex: 0 },
    });
  });
});

describe('conditions in evaluation', () => {
  it('reads the encryption context case-insensitively by key name', () => {
    const p = keyPolicy({
      Effect: 'Allow',
      Principal: { AWS: ALICE },
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:EncryptionContext:Tenant': 'bank-7' }, 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['Tenant', 'Field'] } },
    });
    const ok = toRequestContext({ 'kms:EncryptionContext:tenant': 'bank-7', 'kms:EncryptionContextKeys': ['Tenant'] });
    const wrongTenant = toRequestContext({ 'kms:EncryptionContext:tenant': 'bank-8', 'kms:EncryptionContextKeys': ['Tenant'] });
    const extraKey = toRequestContext({ 'kms:EncryptionContext:tenant': 'bank-7', 'kms:EncryptionContextKeys': ['Tenant', 'Other'] });
    expect(evaluate(request(ALICE, 'kms:Decrypt', KEY, ok), [p]).decision).toBe('allow');
    expect(evaluate(request(ALICE, 'kms:Decrypt', KEY, wrongTenant), [p]).decision).toBe('implicit-deny');
    expect(evaluate(request(ALICE, 'kms:Decrypt', KEY, extraKey), [p]).decision).toBe('implicit-deny');
    expect(evaluate(request(ALICE, 'kms:Decrypt', KEY, EMPTY_CONTEXT), [p]).decision).toBe('implicit-deny');
  });
});

describe('grants', () => {
  it('allow their grantee directly, under their constraints, whatever the key policy says', () => {
    const g = grant('grant-1', {
      Effect: 'Allow',
      Principal: { AWS: BOB },
      Action: ['kms:Decrypt', 'kms:RetireGrant'],
      Condition: { StringEquals: { 'kms:EncryptionContext:Tenant': 'bank-7' } },
    });
    const context = toRequestContext({ 'kms:EncryptionContext:Tenant': 'bank-7' });
    expect(evaluate(request(BOB, 'kms:Decrypt', KEY, context), [defaultKeyPolicy, g])).toEqual({
      decision: 'allow',
      by: { policyKind: 'grant', policyId: 'grant-1', statementIndex: 0 },
    });
    expect(evaluate(request(BOB, 'kms:Decrypt', KEY, EMPTY_CONTEXT), [defaultKeyPolicy, g]).decision).toBe('implicit-deny');
    expect(evaluate(request(BOB, 'kms:Encrypt', KEY, context), [defaultKeyPolicy, g]).decision).toBe('implicit-deny');
    expect(evaluate(request(ALICE, 'kms:Decrypt', KEY, context), [defaultKeyPolicy, g]).decision).toBe('implicit-deny');
  });

  it('to an account delegate to its identity policies', () => {
    const g = grant('grant-2', { Effect: 'Allow', Principal: { AWS: OTHER_ROOT }, Action: 'kms:Decrypt' });
    const onlyKey = keyPolicy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:*' });
    expect(evaluate(request(EVE, 'kms:Decrypt'), [onlyKey, g]).decision).toBe('implicit-deny');
    expect(evaluate(request(EVE, 'kms:Decrypt'), [onlyKey, g, identity('eve', allowAll)])).toMatchObject({ decision: 'allow', delegatedBy: { policyId: 'grant-2' } });
  });

  it('to a principal of another account need no identity policy', () => {
    const g = grant('grant-3', { Effect: 'Allow', Principal: { AWS: EVE }, Action: 'kms:Decrypt' });
    expect(evaluate(request(EVE, 'kms:Decrypt'), [defaultKeyPolicy, g]).decision).toBe('allow');
  });
});

describe('which allow is reported', () => {
  const both = keyPolicy(
    { Sid: 'Account', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*' },
    { Sid: 'Alice', Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:*' },
  );
  const aliceIdentity = identity('alice', { Sid: 'All', ...allowAll });

  it('the first allow that takes effect, in policy order', () => {
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [both, aliceIdentity])).toEqual({
      decision: 'allow',
      by: { policyKind: 'key', policyId: KEY, sid: 'Alice', statementIndex: 1 },
    });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [aliceIdentity, both])).toEqual({
      decision: 'allow',
      by: { policyKind: 'identity', policyId: 'alice', sid: 'All', statementIndex: 0 },
      delegatedBy: { policyKind: 'key', policyId: KEY, sid: 'Account', statementIndex: 0 },
    });
  });

  it('the earlier statement within one policy', () => {
    const two = keyPolicy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:Encrypt' }, { Sid: 'Second', Effect: 'Allow', Principal: '*', Action: 'kms:*' });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [two])).toEqual({ decision: 'allow', by: { policyKind: 'key', policyId: KEY, statementIndex: 0 } });
    const idTwo = identity('two', { Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }, { Sid: 'B', ...allowAll }, { Sid: 'C', ...allowAll });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [defaultKeyPolicy, idTwo])).toMatchObject({ by: { sid: 'B', statementIndex: 1 } });
  });

  it('an identity allow before a direct grant allow in the same entry order', () => {
    const g = grant('g', { Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:Encrypt' });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [aliceIdentity, g])).toMatchObject({ by: { policyKind: 'identity' } });
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [g, aliceIdentity])).toMatchObject({ by: { policyKind: 'grant' } });
  });
});

describe('evaluate: edges', () => {
  it('denies implicitly when there are no policies', () => {
    expect(evaluate(request(ALICE, 'kms:Encrypt'), [])).toEqual({ decision: 'implicit-deny' });
  });

  it('refuses an entry whose kind differs from its document’s', () => {
    const parsedAsIdentity = parsePolicy(text([allowAll]), { kind: 'identity' });
    const attempt = () => evaluate(request(ALICE, 'kms:Encrypt'), [{ kind: 'key', id: KEY, document: parsedAsIdentity }]);
    expect(attempt).toThrow(InternalError);
    try {
      attempt();
    } catch (err) {
      expect((err as InternalError).code).toBe('ERR_INTERNAL');
    }
  });

  it('returns frozen decisions', () => {
    expect(Object.isFrozen(evaluate(request(ROOT, 'kms:Encrypt'), [defaultKeyPolicy]))).toBe(true);
    expect(Object.isFrozen(evaluate(request(ALICE, 'kms:Encrypt'), [defaultKeyPolicy]))).toBe(true);
  });

  it('is fast enough to run on every request', () => {
    const policies = [defaultKeyPolicy, identity('alice', { Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*'], Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` })];
    const r = request(ALICE, 'kms:Decrypt');
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) evaluate(r, policies);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
