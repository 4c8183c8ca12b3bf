import { describe, it, expect } from 'vitest';
import { hkdf, hmac, SecretBytes } from '../../src/crypto/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { hex, loadWycheproof } from './wycheproof.js';

describe('HKDF-SHA-256 against Wycheproof hkdf_sha256_test.json', () => {
  const file = loadWycheproof('hkdf_sha256_test.json');
  const tests = file.testGroups.flatMap((g) => g.tests);

  it('runs every vector of the file', () => {
    expect(tests.length).toBe(file.numberOfTests);
    expect(tests.filter((t) => t.result === 'valid').length).toBeGreaterThan(50);
    expect(tests.filter((t) => t.result === 'invalid').length).toBeGreaterThan(0);
  });

  it.each(tests.map((t) => [t.tcId, t] as const))('tcId %i', (_id, t) => {
    const run = () => hkdf('sha256', hex(t, 'ikm'), hex(t, 'salt'), hex(t, 'info'), Number(t.size));
    if (t.result === 'valid') {
      expect(run().reveal().toString('hex')).toBe(t.okm);
    } else {
      // Wycheproof's invalid HKDF vectors are output sizes over 255 * HashLen.
      expect(() => run()).toThrow(ValidationError);
    }
  });
});

/** RFC 5869 §2.2-2.3 written out with our HMAC, as an independent check of the other hashes. */
function referenceHkdf(hash: 'sha256' | 'sha384' | 'sha512', ikm: Buffer, salt: Buffer, info: Buffer, length: number) {
  const hashLen = hmac(hash, Buffer.alloc(0), Buffer.alloc(0)).length;
  const prk = hmac(hash, salt.length > 0 ? salt : Buffer.alloc(hashLen), ikm);
  const blocks: Buffer[] = [];
  let t: Buffer = Buffer.alloc(0);
  for (let i = 1; blocks.length * hashLen < length; i++) {
    t = hmac(hash, prk, Buffer.concat([t, info, Buffer.from([i])]));
    blocks.push(t);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

describe('hkdf', () => {
  const ikm = Buffer.from('input keying material');
  const salt = Buffer.from('salt');
  const info = Buffer.from('info');

  it.each([
    ['sha256', 32],
    ['sha384', 48],
    ['sha512', 64],
  ] as const)('%s matches RFC 5869 written out, up to the 255 * HashLen limit', (hash, hashLen) => {
    for (const length of [1, hashLen, hashLen + 1, 100, 255 * hashLen]) {
      expect(hkdf(hash, ikm, salt, info, length).reveal()).toEqual(referenceHkdf(hash, ikm, salt, info, length));
    }
    expect(() => hkdf(hash, ikm, salt, info, 255 * hashLen + 1)).toThrow(ValidationError);
  });

  it('accepts a SecretBytes ikm and returns SecretBytes', () => {
    const out = hkdf('sha256', SecretBytes.copyOf(ikm), salt, info, 32);
    expect(out).toBeInstanceOf(SecretBytes);
    expect(out.reveal()).toEqual(hkdf('sha256', ikm, salt, info, 32).reveal());
    expect(String(out)).toBe('<redacted>');
  });

  it('refuses bad lengths and hashes with ValidationError', () => {
    for (const length of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => hkdf('sha256', ikm, salt, info, length)).toThrow(ValidationError);
    }
    for (const hash of ['sha1', 'sha224', 'md5', 'constructor']) {
      expect(() => hkdf(hash as 'sha256', ikm, salt, info, 32)).toThrow(ValidationError);
    }
  });
});
