import { describe, expect, it } from 'vitest';
import { callerIdentity, matchPrincipal, parsePrincipal, type PrincipalMatch } from '../../src/policy/principal.js';

const ACCOUNT = '111122223333';
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/KeyUsers/s1`;
const EVE = 'arn:aws:iam::444455556666:user/eve';
const CN_ALICE = `arn:aws-cn:iam::${ACCOUNT}:user/alice`;

describe('callerIdentity', () => {
  it('sees the caller and its account', () => {
    expect(callerIdentity(ALICE)).toEqual({ arn: ALICE, account: `aws:${ACCOUNT}`, isAccountRoot: false });
    expect(callerIdentity(ROOT)).toEqual({ arn: ROOT, account: `aws:${ACCOUNT}`, isAccountRoot: true });
    expect(callerIdentity(SESSION)).toEqual({ arn: SESSION, account: `aws:${ACCOUNT}`, isAccountRoot: false });
    expect(callerIdentity(CN_ALICE).account).toBe(`aws-cn:${ACCOUNT}`);
    expect(callerIdentity('s3.amazonaws.com')).toEqual({ arn: 's3.amazonaws.com', account: undefined, isAccountRoot: false });
    expect(callerIdentity('arn:aws:kms:us-east-1:111122223333:key/x').account).toBeUndefined();
  });
});

describe('matchPrincipal', () => {
  const cases: Array<[label: string, element: unknown, negated: boolean, caller: string, expected: PrincipalMatch]> = [
    ['"*" names everyone', '*', false, EVE, 'caller'],
    ['AWS "*" names everyone', { AWS: '*' }, false, 's3.amazonaws.com', 'caller'],
    ['an ARN names that principal', { AWS: ALICE }, false, ALICE, 'caller'],
    ['an ARN names no one else', { AWS: ALICE }, false, BOB, 'none'],
    ['the root names the account', { AWS: ROOT }, false, ALICE, 'account'],
    ['the root names the root user', { AWS: ROOT }, false, ROOT, 'caller'],
    ['a bare id names the account', { AWS: ACCOUNT }, false, SESSION, 'account'],
    ['the root of one account is not another', { AWS: ROOT }, false, EVE, 'none'],
    ['partitions differ', { AWS: ROOT }, false, CN_ALICE, 'none'],
    ['a service names itself', { Service: 's3.amazonaws.com' }, false, 's3.amazonaws.com', 'caller'],
    ['a service names no user', { Service: 's3.amazonaws.com' }, false, ALICE, 'none'],
    ['NotPrincipal: an unlisted caller', { AWS: [BOB, ROOT] }, true, ALICE, 'caller'],
    ['NotPrincipal: listed with its account', { AWS: [BOB, ROOT] }, true, BOB, 'none'],
    ['NotPrincipal: listed without its account', { AWS: BOB }, true, BOB, 'account'],
    ['NotPrincipal: the listed root user', { AWS: ROOT }, true, ROOT, 'none'],
    ['NotPrincipal: an unlisted root user', { AWS: ALICE }, true, ROOT, 'caller'],
    ['NotPrincipal: a listed service', { Service: 's3.amazonaws.com' }, true, 's3.amazonaws.com', 'none'],
    ['NotPrincipal: an unlisted service', { Service: 's3.amazonaws.com' }, true, 'logs.amazonaws.com', 'caller'],
  ];
  it.each(cases)('%s', (_label, element, negated, caller, expected) => {
    expect(matchPrincipal(parsePrincipal(element, negated, 'aws'), callerIdentity(caller))).toBe(expected);
  });

  it('compiles into a frozen set', () => {
    const set = parsePrincipal({ AWS: [ALICE, ACCOUNT, '*'], Service: 's3.amazonaws.com' }, false, 'aws');
    expect(Object.isFrozen(set)).toBe(true);
    expect(set.any).toBe(true);
    expect([...set.arns, ...set.accounts, ...set.services]).toEqual([ALICE, `aws:${ACCOUNT}`, 's3.amazonaws.com']);
  });
});
