import { describe, it, expect } from 'vitest';
import { aesGcmDecrypt, randomSecret, SecretBytes, unwrapKey, wrapKey } from '../../src/crypto/index.js';
import { InvalidCiphertextError, ValidationError } from '../../src/errors/index.js';

const kek = SecretBytes.copyOf(Buffer.alloc(32, 0x11));
const aad = Buffer.from('datadefender/key-material/v1/1b4e28ba-2fa1-4d2c-883f-0016d3cca427/1');

describe('key wrap', () => {
  it('round-trips key material as SecretBytes, with a fresh IV each time', () => {
    const material = randomSecret(32);
    const a = wrapKey(kek, material, aad);
    const b = wrapKey(kek, material, aad);
    expect(a.equals(b)).toBe(false);
    const out = unwrapKey(kek, a, aad);
    expect(out).toBeInstanceOf(SecretBytes);
    expect(out.reveal()).toEqual(material.reveal());
    expect(unwrapKey(kek, b, aad).reveal()).toEqual(material.reveal());
    expect(unwrapKey(kek, wrapKey(kek, randomSecret(1), new Uint8Array(0)), new Uint8Array(0)).length).toBe(1);
  });

  it('has the layout [0x01][12 IV][ct][16 tag], with the format byte authenticated', () => {
    const material = SecretBytes.copyOf(Buffer.alloc(32, 0xab));
    const wrapped = wrapKey(kek, material, aad);
    expect(wrapped).toHaveLength(1 + 12 + 32 + 16);
    expect(wrapped[0]).toBe(0x01);
    const pt = aesGcmDecrypt(kek, wrapped.subarray(1, 13), wrapped.subarray(13, 45), wrapped.subarray(45), Buffer.concat([Buffer.from([1]), aad]));
    expect(pt).toEqual(material.reveal());
  });

  it('fails with a wrong AAD or a wrong KEK', () => {
    const wrapped = wrapKey(kek, randomSecret(32), aad);
    expect(() => unwrapKey(kek, wrapped, Buffer.from('datadefender/key-material/v1/other/1'))).toThrow(InvalidCiphertextError);
    expect(() => unwrapKey(kek, wrapped, new Uint8Array(0))).toThrow(InvalidCiphertextError);
    expect(() => unwrapKey(SecretBytes.copyOf(Buffer.alloc(32, 0x12)), wrapped, aad)).toThrow(InvalidCiphertextError);
    expect(() => unwrapKey(SecretBytes.copyOf(Buffer.alloc(16, 0x11)), wrapped, aad)).toThrow(InvalidCiphertextError);
  });

  it('fails on every bit flip and every truncation', () => {
    const wrapped = wrapKey(kek, randomSecret(32), aad);
    for (let i = 0; i < wrapped.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const t = Buffer.from(wrapped);
        t[i] = (t[i] ?? 0) ^ (1 << bit);
        expect(() => unwrapKey(kek, t, aad)).toThrow(InvalidCiphertextError);
      }
    }
    for (let n = 0; n < wrapped.length; n++) {
      expect(() => unwrapKey(kek, wrapped.subarray(0, n), aad)).toThrow(InvalidCiphertextError);
    }
    expect(() => unwrapKey(kek, 'x' as unknown as Uint8Array, aad)).toThrow(InvalidCiphertextError);
  });

  it('refuses a KEK that is not 32 bytes and empty material with ValidationError', () => {
    for (const n of [0, 16, 24, 31, 33]) {
      expect(() => wrapKey(SecretBytes.copyOf(Buffer.alloc(n)), randomSecret(32), aad)).toThrow(ValidationError);
    }
    expect(() => wrapKey(kek, SecretBytes.copyOf(new Uint8Array(0)), aad)).toThrow(ValidationError);
  });
});
