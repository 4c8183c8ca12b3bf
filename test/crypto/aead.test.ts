import { describe, it, expect } from 'vitest';
import { aesGcmDecrypt, aesGcmEncrypt, SecretBytes } from '../../src/crypto/index.js';
import { aesGcmEncryptWithFixedIv, gcmCipherFor } from '../../src/crypto/aead-fixed-iv.js';
import { InvalidCiphertextError, ValidationError } from '../../src/errors/index.js';
import { hex, loadWycheproof, type WycheproofTest } from './wycheproof.js';

const file = loadWycheproof('aes_gcm_test.json');
const supported = file.testGroups.filter((g) => g.ivSize === 96 && g.tagSize === 128);
const unsupported = file.testGroups.filter((g) => !(g.ivSize === 96 && g.tagSize === 128));
const cases = (groups: typeof supported) => groups.flatMap((g) => g.tests);

const key = (t: WycheproofTest) => SecretBytes.copyOf(hex(t, 'key'));

describe('AES-GCM against Wycheproof aes_gcm_test.json (12-byte IV, 16-byte tag)', () => {
  const valid = cases(supported).filter((t) => t.result === 'valid');
  const invalid = cases(supported).filter((t) => t.result !== 'valid');

  it('runs a large number of vectors', () => {
    expect(valid.length).toBeGreaterThanOrEqual(100);
    expect(invalid.length).toBeGreaterThanOrEqual(50);
    // every key size is exercised
    expect(new Set(supported.map((g) => g.keySize))).toEqual(new Set([128, 192, 256]));
  });

  it.each(valid.map((t) => [t.tcId, t] as const))('valid tcId %i decrypts to msg and encrypts to ct+tag', (_id, t) => {
    const pt = aesGcmDecrypt(key(t), hex(t, 'iv'), hex(t, 'ct'), hex(t, 'tag'), hex(t, 'aad'));
    expect(pt.toString('hex')).toBe(t.msg);
    const sealed = aesGcmEncryptWithFixedIv(key(t), hex(t, 'iv'), hex(t, 'msg'), hex(t, 'aad'));
    expect(sealed.iv.toString('hex')).toBe(t.iv);
    expect(sealed.ciphertext.toString('hex')).toBe(t.ct);
    expect(sealed.tag.toString('hex')).toBe(t.tag);
  });

  it.each(invalid.map((t) => [t.tcId, t] as const))('invalid tcId %i throws InvalidCiphertextError', (_id, t) => {
    expect(() => aesGcmDecrypt(key(t), hex(t, 'iv'), hex(t, 'ct'), hex(t, 'tag'), hex(t, 'aad'))).toThrow(
      InvalidCiphertextError,
    );
  });

  it('refuses every vector with another IV size, valid or not (12-byte IVs only)', () => {
    const others = cases(unsupported);
    expect(others.length).toBeGreaterThan(0);
    for (const t of others) {
      expect(() => aesGcmDecrypt(key(t), hex(t, 'iv'), hex(t, 'ct'), hex(t, 'tag'), hex(t, 'aad'))).toThrow(
        InvalidCiphertextError,
      );
    }
  });
});

describe('aesGcmEncrypt / aesGcmDecrypt', () => {
  const k = SecretBytes.copyOf(Buffer.alloc(32, 7));
  const aad = Buffer.from('aad');
  const pt = Buffer.from('attack at dawn');

  it('round-trips with a fresh 12-byte IV and a 16-byte tag each time', () => {
    const a = aesGcmEncrypt(k, pt, aad);
    const b = aesGcmEncrypt(k, pt, aad);
    expect(a.iv).toHaveLength(12);
    expect(a.tag).toHaveLength(16);
    expect(a.ciphertext).toHaveLength(pt.length);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(aesGcmDecrypt(k, a.iv, a.ciphertext, a.tag, aad)).toEqual(pt);
    expect(aesGcmDecrypt(k, b.iv, b.ciphertext, b.tag, aad)).toEqual(pt);
  });

  it('accepts 16, 24 and 32-byte keys and encrypts an empty plaintext', () => {
    for (const n of [16, 24, 32]) {
      const kk = SecretBytes.copyOf(Buffer.alloc(n, 1));
      const s = aesGcmEncrypt(kk, new Uint8Array(0), aad);
      expect(s.ciphertext).toHaveLength(0);
      expect(aesGcmDecrypt(kk, s.iv, s.ciphertext, s.tag, aad)).toHaveLength(0);
    }
    expect(gcmCipherFor(16)).toBe('aes-128-gcm');
    expect(gcmCipherFor(24)).toBe('aes-192-gcm');
    expect(gcmCipherFor(32)).toBe('aes-256-gcm');
    expect(gcmCipherFor(33)).toBeUndefined();
  });

  it('refuses other key lengths on encrypt with ValidationError and on decrypt with InvalidCiphertextError', () => {
    const s = aesGcmEncrypt(k, pt, aad);
    for (const n of [0, 8, 15, 17, 31, 33, 64]) {
      const bad = SecretBytes.copyOf(Buffer.alloc(n, 1));
      expect(() => aesGcmEncrypt(bad, pt, aad)).toThrow(ValidationError);
      expect(() => aesGcmDecrypt(bad, s.iv, s.ciphertext, s.tag, aad)).toThrow(InvalidCiphertextError);
    }
  });

  it('the internal fixed-IV helper refuses IVs that are not 12 bytes', () => {
    for (const n of [0, 8, 11, 13, 16]) {
      expect(() => aesGcmEncryptWithFixedIv(k, Buffer.alloc(n), pt, aad)).toThrow(ValidationError);
    }
  });

  it('refuses truncated or extended tags and IVs of the wrong size', () => {
    const s = aesGcmEncrypt(k, pt, aad);
    for (let n = 0; n < 16; n++) {
      expect(() => aesGcmDecrypt(k, s.iv, s.ciphertext, s.tag.subarray(0, n), aad)).toThrow(InvalidCiphertextError);
    }
    expect(() => aesGcmDecrypt(k, s.iv, s.ciphertext, Buffer.concat([s.tag, Buffer.alloc(1)]), aad)).toThrow(
      InvalidCiphertextError,
    );
    expect(() => aesGcmDecrypt(k, s.iv.subarray(0, 11), s.ciphertext, s.tag, aad)).toThrow(InvalidCiphertextError);
    expect(() => aesGcmDecrypt(k, Buffer.concat([s.iv, Buffer.alloc(1)]), s.ciphertext, s.tag, aad)).toThrow(
      InvalidCiphertextError,
    );
  });

  it('fails with one fixed message and no cause for wrong key, AAD, IV, ciphertext or tag', () => {
    const s = aesGcmEncrypt(k, pt, aad);
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      c[0] = (c[0] ?? 0) ^ 1;
      return c;
    };
    const attempts = [
      () => aesGcmDecrypt(SecretBytes.copyOf(Buffer.alloc(32, 8)), s.iv, s.ciphertext, s.tag, aad),
      () => aesGcmDecrypt(k, s.iv, s.ciphertext, s.tag, Buffer.from('aae')),
      () => aesGcmDecrypt(k, flip(s.iv), s.ciphertext, s.tag, aad),
      () => aesGcmDecrypt(k, s.iv, flip(s.ciphertext), s.tag, aad),
      () => aesGcmDecrypt(k, s.iv, s.ciphertext, flip(s.tag), aad),
    ];
    const messages = new Set<string>();
    for (const attempt of attempts) {
      try {
        attempt();
        expect.unreachable('decrypt should have failed');
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidCiphertextError);
        expect((err as InvalidCiphertextError).code).toBe('ERR_INVALID_CIPHERTEXT');
        expect((err as Error).cause).toBeUndefined();
        messages.add((err as Error).message);
      }
    }
    expect(messages.size).toBe(1);
  });
});
