import { describe, it, expect } from 'vitest';
import {
  bigIntToBytes,
  bytesToBigInt,
  decodeIntegerSequence,
  encodeIntegerSequence,
  isOneDerSequence,
  readTlv,
} from '../../src/crypto/der.js';

const h = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('readTlv', () => {
  it('reads short and long definite lengths', () => {
    expect(readTlv(h('0400'), 0)).toEqual({ tag: 4, start: 2, end: 2 });
    expect(readTlv(h('0401aa'), 0)).toEqual({ tag: 4, start: 2, end: 3 });
    const long = Buffer.concat([h('048180'), Buffer.alloc(0x80)]);
    expect(readTlv(long, 0)).toEqual({ tag: 4, start: 3, end: 3 + 0x80 });
    const longer = Buffer.concat([h('04820100'), Buffer.alloc(0x100)]);
    expect(readTlv(longer, 0)).toEqual({ tag: 4, start: 4, end: 4 + 0x100 });
    expect(readTlv(h('ff 0400'), 1)).toEqual({ tag: 4, start: 3, end: 3 });
  });

  it('refuses BER and truncation', () => {
    for (const bad of [
      '', // nothing
      '04', // no length
      '0402aa', // runs past the end
      '0480', // indefinite length
      '04817f' + '00'.repeat(0x7f), // long form for a length that fits the short form
      '0482007f' + '00'.repeat(0x7f), // leading zero in the length
      '048501' + '00'.repeat(4), // five length bytes
      '0482', // length bytes missing
      '1f0100', // high tag number form
    ]) {
      expect(readTlv(h(bad), 0), bad).toBeUndefined();
    }
  });

  it('isOneDerSequence wants exactly one SEQUENCE', () => {
    expect(isOneDerSequence(h('3000'))).toBe(true);
    expect(isOneDerSequence(h('3001'))).toBe(false);
    expect(isOneDerSequence(h('300000'))).toBe(false);
    expect(isOneDerSequence(h('0400'))).toBe(false);
    expect(isOneDerSequence(h(''))).toBe(false);
  });
});

describe('integers and sequences', () => {
  it('converts between bytes and bigint', () => {
    expect(bytesToBigInt(h(''))).toBe(0n);
    expect(bytesToBigInt(h('0100'))).toBe(256n);
    expect(bigIntToBytes(256n, 3)).toEqual(h('000100'));
    expect(bigIntToBytes(0n, 2)).toEqual(h('0000'));
  });

  it('encodes minimal DER integers, with a zero byte only before a set high bit', () => {
    expect(encodeIntegerSequence([0n, 1n, 0x7fn, 0x80n, 0x100n])).toEqual(h('3011 020100 020101 02017f 02020080 02020100'));
    const big = 2n ** 1040n - 1n; // 130 bytes, high bit set: a 131-byte INTEGER, long-form lengths
    const der = encodeIntegerSequence([big]);
    expect(der.subarray(0, 6)).toEqual(h('30 8186 02 8183'));
    expect(decodeIntegerSequence(der, 1)).toEqual([big]);
  });

  it('round-trips pairs', () => {
    for (const [r, s] of [[1n, 2n], [2n ** 255n, 2n ** 256n - 1n], [0x80n, 0xffn]] as const) {
      expect(decodeIntegerSequence(encodeIntegerSequence([r, s]), 2)).toEqual([r, s]);
    }
  });

  it('refuses anything but a strict SEQUENCE of the expected number of non-negative minimal INTEGERs', () => {
    for (const bad of [
      '3106 020101 020101', // SET, not SEQUENCE
      '3006 020101 020101 00', // trailing byte after the sequence
      '3007 020101 020101 00', // trailing byte inside the sequence
      '3003 020101', // one element missing
      '3009 020101 020101 020101', // one element too many
      '3006 020101 040101', // not an INTEGER
      '3005 020101 0200', // empty INTEGER
      '3006 020101 020180', // negative
      '3007 020101 02020001', // zero-padded
      '3007 020101 0202ff80', // negative, two bytes
      '3006 020101 020201', // INTEGER runs past the sequence
      '3008 020101 020301', // INTEGER runs past the end
      '308106 020101 020101', // long-form sequence length
      '3006 02810101 0201', // long-form integer length
    ]) {
      expect(decodeIntegerSequence(h(bad), 2), bad).toBeUndefined();
    }
    expect(decodeIntegerSequence(h('3007 020101 02020080'), 2)).toEqual([1n, 128n]);
  });
});
