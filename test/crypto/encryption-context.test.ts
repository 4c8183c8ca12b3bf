import { describe, it, expect } from 'vitest';
import { encodeEncryptionContext, type EncryptionContext } from '../../src/crypto/index.js';
import { ValidationError } from '../../src/errors/index.js';

const enc = (ec: EncryptionContext | undefined) => encodeEncryptionContext(ec).toString('hex');

describe('encodeEncryptionContext', () => {
  it('encodes absent and {} identically as a zero count', () => {
    expect(enc(undefined)).toBe('0000');
    expect(enc({})).toBe('0000');
  });

  it('length-prefixes every key and value (golden bytes)', () => {
    // count 1, keyLen 1 "a", valueLen 2 "bc"
    expect(enc({ a: 'bc' })).toBe('0001' + '0001' + '61' + '0002' + '6263');
    expect(enc({ ab: 'c' })).toBe('0001' + '0002' + '6162' + '0001' + '63');
    expect(enc({ '': '' })).toBe('0001' + '0000' + '0000');
    expect(enc({ k: 'é' })).toBe('0001' + '0001' + '6b' + '0002' + 'c3a9');
  });

  it('is unambiguous for the classic concatenation collisions', () => {
    const contexts: EncryptionContext[] = [
      {},
      { a: 'bc' },
      { ab: 'c' },
      { abc: '' },
      { '': 'abc' },
      { a: 'b', c: '' },
      { a: '', bc: '' },
      { a: 'b=c' },
      { 'a=b': 'c' },
    ];
    const encodings = new Set(contexts.map(enc));
    expect(encodings.size).toBe(contexts.length);
  });

  it('does not depend on insertion order', () => {
    expect(enc({ b: '2', a: '1', c: '3' })).toBe(enc({ a: '1', b: '2', c: '3' }));
  });

  it('sorts by the UTF-8 bytes of the key, not UTF-16 code units', () => {
    // U+FF61 is EF BD A1 in UTF-8; U+1F600 is F0 9F 98 80 (UTF-16 D83D DE00, which JS sort puts first).
    const halfwidth = '\uFF61';
    const emoji = '\u{1F600}';
    expect([halfwidth, emoji].sort()[0]).toBe(emoji);
    const encoded = encodeEncryptionContext({ [emoji]: 'x', [halfwidth]: 'y' });
    expect(encoded.toString('hex')).toBe('0002' + '0003efbda1' + '000179' + '0004f09f9880' + '000178');
  });

  it('accepts keys and values of exactly 65535 bytes', () => {
    const big = 'x'.repeat(65535);
    const encoded = encodeEncryptionContext({ [big]: big });
    expect(encoded).toHaveLength(2 + 2 + 65535 + 2 + 65535);
  });

  it('refuses malformed contexts with ValidationError', () => {
    const over = 'x'.repeat(65536);
    const overMultiByte = 'é'.repeat(32768); // 65536 UTF-8 bytes, 32768 UTF-16 units
    const bad: unknown[] = [
      null,
      'a=b',
      42,
      ['a'],
      { a: 1 },
      { a: null },
      { a: undefined },
      { a: { b: 'c' } },
      { [over]: 'v' },
      { k: over },
      { k: overMultiByte },
      { k: '\uD800' },
      { '\uDFFF': 'v' },
      { k: 'ok\uD83D' },
    ];
    for (const ec of bad) {
      expect(() => encodeEncryptionContext(ec as EncryptionContext)).toThrow(ValidationError);
    }
  });

  it('accepts well-formed surrogate pairs', () => {
    expect(() => encodeEncryptionContext({ '\u{1F600}': '\u{10FFFF}' })).not.toThrow();
  });

  it('refuses more than 65535 pairs and accepts exactly 65535', () => {
    const many: EncryptionContext = {};
    for (let i = 0; i < 65535; i++) many[`k${i}`] = '';
    expect(encodeEncryptionContext(many).readUInt16BE(0)).toBe(65535);
    many.extra = '';
    expect(() => encodeEncryptionContext(many)).toThrow(ValidationError);
  });
});
