import { describe, expect, it } from 'vitest';
import { MalformedPolicyError } from '../../src/errors/index.js';
import { readBool, readDate, readNumber, readString } from '../../src/policy/condition-values.js';
import { CONDITION_OPERATORS, compileCondition, type PolicyConditionValue } from '../../src/policy/conditions.js';
import { ipInRange, parseIpAddress, parseIpRange } from '../../src/policy/ip-range.js';
import { EMPTY_CONTEXT, lookupContext, toRequestContext, type ContextValue } from '../../src/policy/request-context.js';

const KEY = 'kms:EncryptionContext:Tenant';
const MISSING = Symbol('missing');

/** One operator, one key, policy values, one request value (or MISSING), the expected result. */
type Row = [operator: string, policy: PolicyConditionValue[], request: ContextValue | typeof MISSING, expected: boolean];

function run(operator: string, policy: PolicyConditionValue[], request: ContextValue | typeof MISSING): boolean {
  const context = request === MISSING ? EMPTY_CONTEXT : toRequestContext({ [KEY]: request });
  return compileCondition(operator, KEY, policy).test(context);
}

const table = (rows: Row[]) =>
  it.each(rows.map(([op, p, r, e]) => [op, JSON.stringify(p), r === MISSING ? '(missing)' : JSON.stringify(r), e, p, r] as const))(
    '%s %s with %s → %s',
    (op, _p, _r, expected, policy, request) => expect(run(op, policy, request)).toBe(expected),
  );

describe('string operators', () => {
  table([
    ['StringEquals', ['bank-7'], 'bank-7', true],
    ['StringEquals', ['bank-7'], 'BANK-7', false],
    ['StringEquals', ['bank-8', 'bank-7'], 'bank-7', true],
    ['StringEquals', ['bank-*'], 'bank-7', false],
    ['StringEquals', ['bank-7'], MISSING, false],
    ['StringEquals', ['bank-7'], ['x', 'bank-7'], true],
    ['StringEquals', ['bank-7'], ['x', 'y'], false],
    ['StringEquals', [true], true, true],
    ['StringEquals', [7], 7, true],
    ['StringEquals', ['7'], 7, true],
    ['StringEquals', ['2024-01-01T00:00:00.000Z'], new Date('2024-01-01T00:00:00Z'), true],
    ['StringNotEquals', ['bank-7'], 'bank-8', true],
    ['StringNotEquals', ['bank-7'], 'bank-7', false],
    ['StringNotEquals', ['a', 'b'], 'a', false],
    ['StringNotEquals', ['a', 'b'], 'c', true],
    ['StringNotEquals', ['bank-7'], MISSING, true],
    ['StringNotEquals', ['bank-7'], ['x', 'bank-7'], false],
    ['StringNotEquals', ['bank-7'], ['x', 'y'], true],
    ['StringEqualsIgnoreCase', ['bank-7'], 'BANK-7', true],
    ['StringEqualsIgnoreCase', ['BANK-7'], 'bank-7', true],
    ['StringEqualsIgnoreCase', ['bank-7'], 'bank-8', false],
    ['StringEqualsIgnoreCase', ['bank-7'], MISSING, false],
    ['StringNotEqualsIgnoreCase', ['bank-7'], 'BANK-7', false],
    ['StringNotEqualsIgnoreCase', ['bank-7'], 'bank-8', true],
    ['StringNotEqualsIgnoreCase', ['bank-7'], MISSING, true],
    ['StringLike', ['bank-?'], 'bank-7', true],
    ['StringLike', ['bank-?'], 'bank-77', false],
    ['StringLike', ['bank-*'], 'BANK-7', false],
    ['StringLike', ['*'], '', true],
    ['StringLike', ['x*', 'bank-*7'], 'bank-17', true],
    ['StringLike', ['bank-*'], MISSING, false],
    ['StringNotLike', ['bank-*'], 'bank-7', false],
    ['StringNotLike', ['bank-*'], 'corp', true],
    ['StringNotLike', ['bank-*'], MISSING, true],
  ]);
});

describe('ARN operators', () => {
  const ARN = 'arn:aws:kms:us-east-1:111122223333:key/k1';
  table([
    ['ArnEquals', [ARN], ARN, true],
    ['ArnEquals', ['arn:aws:kms:*:111122223333:key/*'], ARN, true],
    ['ArnEquals', ['arn:aws:kms:*:444455556666:key/*'], ARN, false],
    ['ArnEquals', [ARN], MISSING, false],
    ['ArnLike', ['arn:aws:kms:us-east-?:111122223333:key/*'], ARN, true],
    ['ArnLike', ['arn:aws:kms:us-*:111122223333:key/k1'], 'arn:aws:kms:us-east-1:999999999999:111122223333:key/k1', false],
    ['ArnLike', ['arn:aws:kms:*:*:key/*'], 'not-an-arn', false],
    ['ArnLike', [ARN], MISSING, false],
    ['ArnNotEquals', [ARN], ARN, false],
    ['ArnNotEquals', [ARN], 'arn:aws:kms:us-east-1:111122223333:key/k2', true],
    ['ArnNotEquals', [ARN], MISSING, true],
    ['ArnNotLike', ['arn:aws:kms:*:111122223333:*'], ARN, false],
    ['ArnNotLike', ['arn:aws:kms:*:444455556666:*'], ARN, true],
    ['ArnNotLike', [ARN], MISSING, true],
  ]);
});

describe('numeric operators', () => {
  table([
    ['NumericEquals', [10], 10, true],
    ['NumericEquals', ['10'], 10, true],
    ['NumericEquals', [10], '10', true],
    ['NumericEquals', [10], 11, false],
    ['NumericEquals', [1.5], '1.5', true],
    ['NumericEquals', ['1e3'], 1000, true],
    ['NumericEquals', [16], '0x10', false],
    ['NumericEquals', [16], ' 16', false],
    ['NumericEquals', [0], '', false],
    ['NumericEquals', [10], 'ten', false],
    ['NumericEquals', [1], true, false],
    ['NumericEquals', [10], MISSING, false],
    ['NumericEquals', [10], [3, 10], true],
    ['NumericNotEquals', [10], 10, false],
    ['NumericNotEquals', [10], 11, true],
    ['NumericNotEquals', [10, 11], 11, false],
    ['NumericNotEquals', [10], MISSING, true],
    ['NumericLessThan', [10], 9, true],
    ['NumericLessThan', [10], 10, false],
    ['NumericLessThan', [5, 10], 7, true],
    ['NumericLessThan', [10], MISSING, false],
    ['NumericLessThanEquals', [10], 10, true],
    ['NumericLessThanEquals', [10], 11, false],
    ['NumericGreaterThan', [10], 11, true],
    ['NumericGreaterThan', [10], 10, false],
    ['NumericGreaterThan', [-1], '-0.5', true],
    ['NumericGreaterThanEquals', [10], 10, true],
    ['NumericGreaterThanEquals', [10], 9, false],
  ]);
});

describe('date operators (ISO 8601 and epoch seconds)', () => {
  const NEW_YEAR = '2024-01-01T00:00:00Z';
  const EPOCH = 1704067200;
  table([
    ['DateEquals', [NEW_YEAR], new Date(NEW_YEAR), true],
    ['DateEquals', [NEW_YEAR], EPOCH, true],
    ['DateEquals', [NEW_YEAR], String(EPOCH), true],
    ['DateEquals', [NEW_YEAR], '2024-01-01T01:00:00+01:00', true],
    ['DateEquals', [NEW_YEAR], '2023-12-31T19:00:00-0500', true],
    ['DateEquals', [NEW_YEAR], '2024-01-01', true],
    ['DateEquals', [NEW_YEAR], '2024-01-01T00:00:00', true],
    ['DateEquals', [NEW_YEAR], '2024-01-01T00:00', true],
    ['DateEquals', [NEW_YEAR], '2024-01-01T00:00:00.000Z', true],
    ['DateEquals', [EPOCH], new Date(NEW_YEAR), true],
    ['DateEquals', [String(EPOCH)], NEW_YEAR, true],
    ['DateEquals', [NEW_YEAR], '2024-01-01T00:00:01Z', false],
    ['DateEquals', [NEW_YEAR], 'yesterday', false],
    ['DateEquals', [NEW_YEAR], new Date('invalid'), false],
    ['DateEquals', [NEW_YEAR], true, false],
    ['DateEquals', [NEW_YEAR], MISSING, false],
    ['DateNotEquals', [NEW_YEAR], NEW_YEAR, false],
    ['DateNotEquals', [NEW_YEAR], '2024-06-01T00:00:00Z', true],
    ['DateNotEquals', [NEW_YEAR], MISSING, true],
    ['DateLessThan', [NEW_YEAR], '2023-12-31T23:59:59Z', true],
    ['DateLessThan', [NEW_YEAR], NEW_YEAR, false],
    ['DateLessThan', [NEW_YEAR], MISSING, false],
    ['DateLessThanEquals', [NEW_YEAR], NEW_YEAR, true],
    ['DateLessThanEquals', [NEW_YEAR], EPOCH + 1, false],
    ['DateGreaterThan', [NEW_YEAR], '2024-01-01T00:00:00.5Z', true],
    ['DateGreaterThan', [NEW_YEAR], NEW_YEAR, false],
    ['DateGreaterThanEquals', [NEW_YEAR], EPOCH, true],
    ['DateGreaterThanEquals', [NEW_YEAR], EPOCH - 0.5, false],
  ]);
});

describe('Bool', () => {
  table([
    ['Bool', ['true'], true, true],
    ['Bool', ['true'], 'true', true],
    ['Bool', ['TRUE'], 'True', true],
    ['Bool', [true], true, true],
    ['Bool', ['true'], false, false],
    ['Bool', [false], false, true],
    ['Bool', ['false'], 'false', true],
    ['Bool', ['true'], 'yes', false],
    ['Bool', ['true'], 1, false],
    ['Bool', ['true'], MISSING, false],
    ['BoolIfExists', ['true'], MISSING, true],
    ['BoolIfExists', ['true'], false, false],
  ]);
});

describe('IP address operators (IPv4 and IPv6 CIDR)', () => {
  table([
    ['IpAddress', ['203.0.113.0/24'], '203.0.113.7', true],
    ['IpAddress', ['203.0.113.0/24'], '203.0.114.1', false],
    ['IpAddress', ['203.0.113.0/24'], '::ffff:203.0.113.7', true],
    ['IpAddress', ['203.0.113.0/24'], 'not-an-ip', false],
    ['IpAddress', ['203.0.113.0/24'], 203, false],
    ['IpAddress', ['203.0.113.0/24'], MISSING, false],
    ['IpAddress', ['192.0.2.1'], '192.0.2.1', true],
    ['IpAddress', ['192.0.2.1'], '192.0.2.2', false],
    ['IpAddress', ['172.16.0.0/12'], '172.31.255.255', true],
    ['IpAddress', ['172.16.0.0/12'], '172.32.0.0', false],
    ['IpAddress', ['10.0.0.5/8'], '10.200.1.1', true],
    ['IpAddress', ['0.0.0.0/0'], '198.51.100.1', true],
    ['IpAddress', ['0.0.0.0/0'], '2001:db8::1', false],
    ['IpAddress', ['2001:db8::/32'], '2001:db8:1::5', true],
    ['IpAddress', ['2001:DB8::/32'], '2001:0db8:0:0:0:0:0:1', true],
    ['IpAddress', ['2001:db8::/32'], '2001:db9::1', false],
    ['IpAddress', ['2001:db8::/32'], '203.0.113.7', false],
    ['IpAddress', ['::/0'], '2001:db8::1', true],
    ['IpAddress', ['::/0'], '203.0.113.7', false],
    ['IpAddress', ['2001:db8::/127'], '2001:db8::1', true],
    ['IpAddress', ['2001:db8::/127'], '2001:db8::2', false],
    ['IpAddress', ['fe80::/10'], 'fe80::1%eth0', true],
    ['IpAddress', ['::1'], '::1', true],
    ['IpAddress', ['::ffff:0:0/96'], '::ffff:10.1.2.3', false],
    ['IpAddress', ['64:ff9b::/96'], '64:ff9b::192.0.2.33', true],
    ['IpAddress', ['10.0.0.0/8', '2001:db8::/32'], '2001:db8::7', true],
    ['IpAddress', ['10.0.0.0/8', '2001:db8::/32'], '10.9.9.9', true],
    ['NotIpAddress', ['203.0.113.0/24'], '203.0.113.7', false],
    ['NotIpAddress', ['203.0.113.0/24'], '198.51.100.1', true],
    ['NotIpAddress', ['203.0.113.0/24'], MISSING, true],
    ['IpAddressIfExists', ['203.0.113.0/24'], MISSING, true],
  ]);

  it('parses addresses and ranges by hand', () => {
    expect(parseIpAddress('1.2.3.4')).toEqual({ family: 4, groups: [0x0102, 0x0304] });
    expect(parseIpAddress('0:0:0:0:0:ffff:1.2.3.4')).toEqual({ family: 4, groups: [0x0102, 0x0304] });
    expect(parseIpAddress('1:2:3:4:5:6:7:8')).toEqual({ family: 6, groups: [1, 2, 3, 4, 5, 6, 7, 8] });
    expect(parseIpAddress('1:2:3:4:5:6:1.2.3.4')?.groups).toEqual([1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
    expect(parseIpAddress('::')).toEqual({ family: 6, groups: [0, 0, 0, 0, 0, 0, 0, 0] });
    expect(parseIpAddress('1::')).toEqual({ family: 6, groups: [1, 0, 0, 0, 0, 0, 0, 0] });
    expect(parseIpAddress('1.2.3.04')).toBeUndefined();
    for (const bad of ['10.0.0.0/33', '10.0.0.0/x', '10.0.0.0/', '/8', '300.1.1.1', '2001:db8::/129', 'fe80::1%eth0', '10.0.0.0/0008']) {
      expect(parseIpRange(bad), bad).toBeUndefined();
    }
    const range = parseIpRange('10.0.0.0/8');
    expect(range).toEqual({ family: 4, groups: [0x0a00, 0], prefix: 8 });
    expect(Object.isFrozen(range)).toBe(true);
    expect(ipInRange({ family: 6, groups: [0, 0, 0, 0, 0, 0, 0, 1] }, parseIpRange('::1/128')!)).toBe(true);
  });
});

describe('IfExists, ForAnyValue and ForAllValues', () => {
  table([
    ['StringEqualsIfExists', ['bank-7'], MISSING, true],
    ['StringEqualsIfExists', ['bank-7'], 'bank-8', false],
    ['StringEqualsIfExists', ['bank-7'], 'bank-7', true],
    ['StringNotEqualsIfExists', ['bank-7'], MISSING, true],
    ['StringNotEqualsIfExists', ['bank-7'], 'bank-7', false],
    ['NumericLessThanIfExists', [10], MISSING, true],
    ['NumericLessThanIfExists', [10], 11, false],
    ['DateLessThanIfExists', ['2024-01-01'], MISSING, true],
    ['ArnLikeIfExists', ['arn:aws:kms:*:*:key/*'], MISSING, true],
    ['ForAnyValue:StringEquals', ['tenant'], ['tenant', 'field'], true],
    ['ForAnyValue:StringEquals', ['tenant'], ['x', 'y'], false],
    ['ForAnyValue:StringEquals', ['tenant'], 'tenant', true],
    ['ForAnyValue:StringEquals', ['tenant'], MISSING, false],
    ['ForAnyValue:StringEquals', ['tenant'], [], false],
    ['ForAnyValue:StringNotEquals', ['tenant'], ['tenant', 'field'], true],
    ['ForAnyValue:StringNotEquals', ['tenant'], ['tenant'], false],
    ['ForAnyValue:StringNotEquals', ['tenant'], 'tenant', false],
    ['ForAnyValue:StringNotEquals', ['tenant'], MISSING, false],
    ['ForAnyValue:StringLikeIfExists', ['t*'], MISSING, true],
    ['ForAnyValue:StringLike', ['t*'], ['x', 'tenant'], true],
    ['ForAllValues:StringEquals', ['tenant', 'field', 'x'], ['tenant', 'field'], true],
    ['ForAllValues:StringEquals', ['tenant', 'field'], ['tenant', 'evil'], false],
    ['ForAllValues:StringEquals', ['tenant'], 'tenant', true],
    ['ForAllValues:StringEquals', ['tenant'], 'evil', false],
    ['ForAllValues:StringEquals', ['tenant'], MISSING, true],
    ['ForAllValues:StringEquals', ['tenant'], [], true],
    ['ForAllValues:StringNotLike', ['secret*'], ['a', 'b'], true],
    ['ForAllValues:StringNotLike', ['secret*'], ['a', 'secret-x'], false],
    ['ForAllValues:StringNotLike', ['secret*'], 'secret-x', false],
    ['ForAllValues:StringNotLike', ['secret*'], MISSING, true],
    ['ForAllValues:StringEqualsIgnoreCase', ['TENANT'], ['tenant', 'Tenant'], true],
    ['ForAllValues:NumericLessThan', [10], [1, 2, 30], false],
    ['ForAllValues:NumericLessThan', [10], [1, 2, 3], true],
  ]);
});

describe('Null', () => {
  table([
    ['Null', ['true'], MISSING, true],
    ['Null', ['true'], 'x', false],
    ['Null', [true], [], true],
    ['Null', ['false'], 'x', true],
    ['Null', ['false'], MISSING, false],
    ['Null', ['FALSE'], false, true],
    ['Null', ['true', 'false'], MISSING, true],
    ['Null', ['true', 'false'], 'x', true],
  ]);
});

describe('condition keys', () => {
  it('are case-insensitive, including the encryption-context key part', () => {
    const c = compileCondition('StringEquals', 'kms:EncryptionContext:Tenant', ['bank-7']);
    expect(c.key).toBe('kms:encryptioncontext:tenant');
    expect(c.operator).toBe('StringEquals');
    expect(c.values).toEqual(['bank-7']);
    expect(Object.isFrozen(c)).toBe(true);
    expect(c.test(toRequestContext({ 'KMS:ENCRYPTIONCONTEXT:TENANT': 'bank-7' }))).toBe(true);
    expect(c.test(toRequestContext({ 'kms:encryptioncontext:tenant': 'BANK-7' }))).toBe(false);
    expect(compileCondition('Null', 'AWS:SourceIp', ['true']).key).toBe('aws:sourceip');
  });

  it('never read inherited properties of a plain-object context', () => {
    const plain = { 'kms:x': 'y' };
    expect(lookupContext(plain, 'constructor')).toBeUndefined();
    expect(lookupContext(plain, 'tostring')).toBeUndefined();
    expect(lookupContext(plain, 'kms:x')).toBe('y');
    expect(lookupContext({ 'kms:x': undefined }, 'kms:x')).toBeUndefined();
    expect(lookupContext({ 'kms:x': null as unknown as string }, 'kms:x')).toBeUndefined();
    expect(lookupContext({ 'kms:x': [] }, 'kms:x')).toBeUndefined();
  });

  it('are gathered by toRequestContext: lower-cased, frozen, no prototype, null and undefined dropped', () => {
    const ctx = toRequestContext({ 'kms:EncryptionContext:A': 'x', 'aws:SourceIp': undefined, 'kms:N': null as unknown as string, 'kms:Keys': ['a'] });
    expect(Object.keys(ctx)).toEqual(['kms:encryptioncontext:a', 'kms:keys']);
    expect(Object.isFrozen(ctx)).toBe(true);
    expect(Object.getPrototypeOf(ctx)).toBeNull();
    expect(Object.keys(EMPTY_CONTEXT)).toEqual([]);
  });
});

describe('compileCondition refuses what it cannot evaluate', () => {
  const refusals: Array<[operator: string, key: string, values: PolicyConditionValue[], reason: string | RegExp]> = [
    ['StringEqualz', KEY, ['x'], 'Unknown condition operator: StringEqualz'],
    ['ForAnyValue:Null', KEY, ['true'], 'Unknown condition operator: ForAnyValue:Null'],
    ['NullIfExists', KEY, ['true'], 'Unknown condition operator: NullIfExists'],
    ['IfExists', KEY, ['x'], 'Unknown condition operator: IfExists'],
    ['ForSomeValues:StringEquals', KEY, ['x'], 'Unknown condition operator: ForSomeValues:StringEquals'],
    ['stringequals', KEY, ['x'], 'Unknown condition operator: stringequals'],
    ['toString', KEY, ['x'], 'Unknown condition operator: toString'],
    ['StringEquals', 'Tenant', ['x'], 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
    ['StringEquals', ':x', ['x'], /prefaced by a vendor/],
    ['StringEquals', KEY, [], /has no values for key/],
    ['NumericEquals', KEY, ['ten'], 'Condition operator NumericEquals has an invalid value for key kms:EncryptionContext:Tenant.'],
    ['NumericLessThan', KEY, [true], /invalid value/],
    ['DateEquals', KEY, ['yesterday'], /invalid value/],
    ['DateEquals', KEY, ['2024-02-30'], /invalid value/],
    ['DateEquals', KEY, ['2024-01-01T00:00:00+25:00'], /invalid value/],
    ['Bool', KEY, ['yes'], /invalid value/],
    ['IpAddress', KEY, ['10.0.0.0/33'], /invalid value/],
    ['IpAddress', KEY, ['300.1.1.1'], /invalid value/],
    ['NotIpAddress', KEY, [10], /invalid value/],
    ['Null', KEY, ['maybe'], 'Condition operator Null requires true or false for key kms:encryptioncontext:tenant.'],
  ];
  it.each(refusals)('%s %s %j', (operator, key, values, reason) => {
    const attempt = () => compileCondition(operator, key, values);
    expect(attempt).toThrow(MalformedPolicyError);
    expect(attempt).toThrow(reason);
    try {
      attempt();
    } catch (err) {
      expect((err as MalformedPolicyError).code).toBe('ERR_MALFORMED_POLICY');
    }
  });

  it('has a table entry for every documented operator', () => {
    expect(Object.keys(CONDITION_OPERATORS).sort()).toEqual(
      [
        'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
        'ArnEquals', 'ArnNotEquals', 'ArnLike', 'ArnNotLike',
        'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
        'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
        'Bool', 'IpAddress', 'NotIpAddress',
      ].sort(),
    );
  });
});

describe('condition value readings', () => {
  it('reads numbers only from decimal notation', () => {
    expect([readNumber(1.5), readNumber('-2'), readNumber('.5'), readNumber('5.'), readNumber('1E-2')]).toEqual([1.5, -2, 0.5, 5, 0.01]);
    for (const bad of [NaN, Infinity, '1e999', '', ' 1', '0x10', 'ten', true, null, undefined, {}]) expect(readNumber(bad), String(bad)).toBeUndefined();
  });

  it('reads dates as epoch milliseconds, in UTC, refusing impossible ones', () => {
    expect(readDate('2024-01-01T00:00:00Z')).toBe(Date.UTC(2024, 0, 1));
    expect(readDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(readDate('2024-01-01T12:34:56.789123Z')).toBe(Date.UTC(2024, 0, 1, 12, 34, 56, 789));
    expect(readDate('2024-01-01T12:00:00.5+0130')).toBe(Date.UTC(2024, 0, 1, 10, 30, 0, 500));
    expect(readDate('0099-01-01')).toBe(new Date('0099-01-01T00:00:00Z').getTime());
    expect(readDate(1.5)).toBe(1500);
    expect(readDate('-1')).toBe(-1000);
    for (const bad of ['2023-02-29', '2024-13-01', '2024-01-32', '2024-01-01T24:00:00Z', '2024-01-01T10:60Z', '2024-01-01T10:00:60Z', '2024-01-01T00:00+01:60', 'Jan 1 2024', '', Infinity, NaN, new Date(NaN), {}, true]) {
      expect(readDate(bad), String(bad)).toBeUndefined();
    }
  });

  it('reads booleans and strings', () => {
    expect([readBool(true), readBool('False'), readBool('no'), readBool(0)]).toEqual([true, false, undefined, undefined]);
    expect([readString('x'), readString(5), readString(false), readString(new Date(0)), readString(new Date(NaN))]).toEqual(['x', '5', 'false', '1970-01-01T00:00:00.000Z', '']);
  });
});
