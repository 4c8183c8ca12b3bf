import { describe, expect, it } from 'vitest';
import { compileArnPattern, compileArnPatternSet, isArnPattern, splitArn } from '../../src/policy/arn-pattern.js';
import { compileWildcard, compileWildcardSet, hasWildcard } from '../../src/policy/wildcard.js';

describe('compileWildcard', () => {
  const cases: Array<[pattern: string, value: string, expected: boolean]> = [
    ['*', '', true],
    ['*', 'anything at all', true],
    ['**', '', true],
    ['a*', '', false],
    ['a*', 'a', true],
    ['*a', 'a', true],
    ['*a', 'ba', true],
    ['*a', 'ab', false],
    ['?', '', false],
    ['?', 'x', true],
    ['?', 'xy', false],
    ['??', 'xy', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['ab*ab', 'ab', false],
    ['ab*ab', 'abab', true],
    ['ab*ab', 'abXab', true],
    ['x*a?c*y', 'xzzabcy', true],
    ['x*a?c*y', 'xzzacy', false],
    ['x*?*y', 'xy', false],
    ['x*?*y', 'xzy', true],
    ['*b*', 'abc', true],
    ['*b*', 'ac', false],
    ['*?b?*', 'ab', false],
    ['exact', 'exact', true],
    ['exact', 'Exact', false],
    ['kms:Describe*', 'kms:DescribeKey', true],
    ['kms:Describe*', 'kms:describeKey', false],
    ['a.b', 'aXb', false],
    ['(a|b)+', '(a|b)+', true],
    ['[ab]', 'a', false],
  ];
  it.each(cases)('%j against %j is %s', (pattern, value, expected) => {
    expect(compileWildcard(pattern)(value)).toBe(expected);
  });

  it('ignores case when asked, for literals and globs alike', () => {
    expect(compileWildcard('KMS:Describe*', true)('kms:describekey')).toBe(true);
    expect(compileWildcard('kms:encrypt', true)('KMS:ENCRYPT')).toBe(true);
    expect(compileWildcard('kms:encrypt', true)('kms:decrypt')).toBe(false);
    expect(compileWildcard('*', true)('X')).toBe(true);
  });

  it('stays fast on pathological patterns and long inputs', () => {
    const long = 'a'.repeat(200_000);
    const started = performance.now();
    expect(compileWildcard('a*a*a*a*a*a*b')(long)).toBe(false);
    expect(compileWildcard('a*a*a*a*a*a*b')(`${long}b`)).toBe(true);
    expect(compileWildcard('*a*a*a*a*a*a*c*')(long)).toBe(false);
    expect(compileWildcard('*a?b*')(long)).toBe(false);
    expect(compileWildcard('*a?a?a?a?a?a?b*')(long)).toBe(false);
    expect(compileWildcard(`${'*a'.repeat(60)}*b`)(long)).toBe(false);
    expect(compileWildcard(`${'*a?'.repeat(60)}*`)(long)).toBe(true);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('compileWildcardSet', () => {
  it('matches any of literals and globs, short-circuits on a lone *', () => {
    const m = compileWildcardSet(['kms:Encrypt', 'kms:GenerateDataKey*']);
    expect(m('kms:Encrypt')).toBe(true);
    expect(m('kms:GenerateDataKeyWithoutPlaintext')).toBe(true);
    expect(m('kms:Decrypt')).toBe(false);
    expect(compileWildcardSet(['x', '*'])('anything')).toBe(true);
    const literals = compileWildcardSet(['a', 'b']);
    expect([literals('a'), literals('b'), literals('c')]).toEqual([true, true, false]);
    const globs = compileWildcardSet(['a*', '?b']);
    expect([globs('axe'), globs('xb'), globs('xxb')]).toEqual([true, true, false]);
  });

  it('folds case when asked', () => {
    const m = compileWildcardSet(['KMS:Encrypt', 'kms:REENCRYPT*'], true);
    expect(m('kms:encrypt')).toBe(true);
    expect(m('Kms:ReEncryptFrom')).toBe(true);
    expect(m('kms:decrypt')).toBe(false);
    expect(compileWildcardSet(['kms:List*'], true)('KMS:LISTKEYS')).toBe(true);
  });

  it('tells wildcards from literals', () => {
    expect([hasWildcard('a*'), hasWildcard('a?'), hasWildcard('abc')]).toEqual([true, true, false]);
  });
});

describe('ARN patterns', () => {
  const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd';

  it('splits an ARN into six components, the last keeping its colons', () => {
    expect(splitArn(KEY)).toEqual(['arn', 'aws', 'kms', 'us-east-1', '111122223333', 'key/1234abcd']);
    expect(splitArn('arn:aws:s3:::bucket:with:colons')).toEqual(['arn', 'aws', 's3', '', '', 'bucket:with:colons']);
    expect(splitArn('arn:aws:kms')).toBeUndefined();
    expect(splitArn('key/1234')).toBeUndefined();
    expect([isArnPattern('*'), isArnPattern('arn:aws:kms:*:*:key/*'), isArnPattern('key/*'), isArnPattern('arn:*')]).toEqual([true, true, false, false]);
  });

  const cases: Array<[pattern: string, value: string, expected: boolean]> = [
    ['*', KEY, true],
    ['*', '*', true],
    [KEY, KEY, true],
    ['arn:aws:kms:us-east-1:111122223333:key/*', KEY, true],
    ['arn:aws:kms:us-east-1:111122223333:key/*', 'arn:aws:kms:us-east-1:111122223333:alias/x', false],
    ['arn:aws:kms:us-east-1:111122223333:key/*', '*', false],
    ['arn:aws:kms:*:111122223333:key/*', KEY, true],
    ['arn:aws:kms:*:111122223333:key/*', 'arn:aws:kms:eu-west-1:444455556666:key/1', false],
    // A wildcard does not span components: region `us-*` cannot swallow `us-east-1:999999999999`.
    ['arn:aws:kms:us-*:111122223333:key/k', 'arn:aws:kms:us-east-1:999999999999:111122223333:key/k', false],
    ['arn:aws:kms:us-*:111122223333:key/k', 'arn:aws:kms:us-east-1:111122223333:key/k', true],
    ['arn:aws:kms:??-east-1:*:key/*', KEY, true],
    ['arn:aws:kms:*:*:key/*', 'not-an-arn', false],
    ['arn:aws:kms:*:*:key/*', '*', false],
    ['arn:aws:kms:*:*:key/*', 'arn:aws:kms:short', false],
    ['foo*', 'foobar', true],
  ];
  it.each(cases)('%j against %j is %s', (pattern, value, expected) => {
    expect(compileArnPattern(pattern)(value)).toBe(expected);
  });

  it('memoises the last split value without mixing values up', () => {
    const m = compileArnPattern('arn:aws:kms:*:111122223333:key/*');
    const other = 'arn:aws:kms:us-east-1:444455556666:key/1';
    expect([m(KEY), m(KEY), m(other), m(KEY), m(other)]).toEqual([true, true, false, true, false]);
  });

  it('compiles sets of ARN patterns', () => {
    expect(compileArnPatternSet(['arn:aws:kms:*:*:alias/*', '*'])('x')).toBe(true);
    const one = compileArnPatternSet([KEY]);
    expect([one(KEY), one('x')]).toEqual([true, false]);
    const two = compileArnPatternSet(['arn:aws:kms:*:*:alias/*', 'arn:aws:kms:*:111122223333:key/*']);
    expect([two(KEY), two('arn:aws:kms:us-east-1:1:alias/a'), two('arn:aws:kms:us-east-1:2:key/a')]).toEqual([true, true, false]);
  });
});
