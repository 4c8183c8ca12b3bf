import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collectKeyValue, isBase64, parseInteger, parseKeyValue } from '../../src/cli/client/args.js';

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
