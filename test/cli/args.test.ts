import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  collectKeyValue,
  collectName,
  collectTagKey,
  isBase64,
  parseAccessKeyId,
  parseAccessor,
  parseApprovalId,
  parseFingerprint,
  parseInteger,
  parseKeyValue,
  parseName,
} from '../../src/cli/client/args.js';
import { CliError } from '../../src/cli/client/io.js';

describe('--context / --tag parsing', () => {
  it('splits on the first "="', () => {
    expect(parseKeyValue('customer=42')).toEqual(['customer', '42']);
    expect(parseKeyValue('query=a=b&c=d')).toEqual(['query', 'a=b&c=d']);
    expect(parseKeyValue('empty=')).toEqual(['empty', '']);
    expect(parseKeyValue('spaced key= v ')).toEqual(['spaced key', ' v ']);
  });

  it('rejects a missing "=" and an empty key', () => {
    expect(() => parseKeyValue('customer')).toThrow(InvalidArgumentError);
    expect(() => parseKeyValue('customer')).toThrow(/key=value/);
    expect(() => parseKeyValue('=42')).toThrow(/empty key/);
  });

  it('collects repeated options into one object and refuses a repeated key', () => {
    let pairs = collectKeyValue('a=1', undefined);
    pairs = collectKeyValue('b=2=3', pairs);
    expect(pairs).toEqual({ a: '1', b: '2=3' });
    expect(() => collectKeyValue('a=9', pairs)).toThrow(/"a" is given twice/);
  });

  it('stores "__proto__" as a plain key', () => {
    const pairs = collectKeyValue('__proto__=x', undefined);
    expect(Object.getPrototypeOf(pairs)).toBe(Object.prototype);
    expect(JSON.stringify(pairs)).toBe('{"__proto__":"x"}');
  });
});

describe('integers', () => {
  const range = { min: 7, max: 30 };
  it('accepts decimal integers within the range', () => {
    expect(parseInteger('7', range)).toBe(7);
    expect(parseInteger('30', range)).toBe(30);
    expect(parseInteger('010', range)).toBe(10);
  });

  it.each(['6', '31', '7.5', '1e1', '-7', '+7', '0x10', '', 'seven', '99999999999999999999'])('rejects %j', (value) => {
    expect(() => parseInteger(value, range)).toThrow('Expected an integer from 7 to 30.');
  });
});

describe('isBase64', () => {
  it('accepts canonical standard base64 only', () => {
    expect(isBase64('AQIDBA==')).toBe(true);
    expect(isBase64('AQID')).toBe(true);
    expect(isBase64('')).toBe(false);
    expect(isBase64('AQIDBA')).toBe(false);
    expect(isBase64('AQ-_')).toBe(false);
    expect(isBase64('AQ ID')).toBe(false);
  });
});

describe('names and ids', () => {
  it('accepts IAM name characters, 1 to 128 of them', () => {
    expect(parseName('a+b=c,d.e@f_g-h9')).toBe('a+b=c,d.e@f_g-h9');
    expect(parseName('x'.repeat(128))).toHaveLength(128);
  });

  it.each(['', 'x'.repeat(129), 'a b', 'a/b', '../a', 'a?b', 'é', 'a\nb'])('refuses the name %j', (value) => {
    expect(() => parseName(value)).toThrow(InvalidArgumentError);
  });

  it('collects names and tag keys, refusing repeats', () => {
    expect(collectName('b', collectName('a', undefined))).toEqual(['a', 'b']);
    expect(() => collectName('a', ['a'])).toThrow(/given twice/);
    expect(collectTagKey('k 2', ['k1'])).toEqual(['k1', 'k 2']);
    expect(() => collectTagKey('', undefined)).toThrow(/1 to 128/);
    expect(() => collectTagKey('x'.repeat(129), undefined)).toThrow(/1 to 128/);
  });

  it('checks access key ids, accessors, fingerprints and approval ids', () => {
    expect(parseAccessKeyId('DDAKABCDEFGHIJKLMNOP')).toBe('DDAKABCDEFGHIJKLMNOP');
    expect(() => parseAccessKeyId('DDAK-ABCDEFGHIJKLMNOP')).toThrow(InvalidArgumentError);
    expect(parseAccessor('AbCd-_gh12345678')).toBe('AbCd-_gh12345678');
    expect(() => parseAccessor('short')).toThrow(InvalidArgumentError);
    expect(() => parseAccessor(`ddt_${'a'.repeat(43)}`)).toThrow(CliError);
    expect(() => parseAccessor(`ddt_${'a'.repeat(43)}`)).not.toThrow(new RegExp('a{43}'));
    expect(parseFingerprint('AB:'.repeat(31) + 'AB')).toBe('ab'.repeat(32));
    expect(() => parseFingerprint('ab'.repeat(31))).toThrow(InvalidArgumentError);
    expect(() => parseFingerprint('g'.repeat(64))).toThrow(InvalidArgumentError);
    expect(parseApprovalId('0B6C1F9E-2A3D-4E5F-8A9B-0C1D2E3F4A5B')).toBe('0b6c1f9e-2a3d-4e5f-8a9b-0c1d2e3f4a5b');
    expect(() => parseApprovalId('0b6c1f9e2a3d4e5f8a9b0c1d2e3f4a5b')).toThrow(InvalidArgumentError);
  });
});
