import { describe, it, expect } from 'vitest';
import { constantTimeEqual, hmac, SecretBytes, type HmacHash } from '../../src/crypto/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { hex, loadWycheproof } from './wycheproof.js';

const FILES: ReadonlyArray<readonly [HmacHash, string]> = [
  ['sha224', 'hmac_sha224_test.json'],
  ['sha256', 'hmac_sha256_test.json'],
  ['sha384', 'hmac_sha384_test.json'],
  ['sha512', 'hmac_sha512_test.json'],
];

describe.each(FILES)('HMAC-%s against Wycheproof %s', (hash, name) => {
  const file = loadWycheproof(name);
  const tests = file.testGroups.flatMap((g) => g.tests.map((t) => ({ t, tagBytes: Number(g.tagSize) / 8 })));

  it('runs every vector of the file', () => {
    expect(tests.length).toBe(file.numberOfTests);
    expect(tests.length).toBeGreaterThan(100);
  });

  it.each(tests.map(({ t, tagBytes }) => [t.tcId, t, tagBytes] as const))(
    'tcId %i',
    (_id, t, tagBytes) => {
      expect(Number.isInteger(tagBytes) && tagBytes > 0).toBe(true);
      const mac = hmac(hash, hex(t, 'key'), hex(t, 'msg')).subarray(0, tagBytes);
      expect(constantTimeEqual(mac, hex(t, 'tag'))).toBe(t.result === 'valid');
    },
  );
});

describe('hmac', () => {
  it('accepts a SecretBytes key and gives the same tag as the raw key', () => {
    const raw = Buffer.from('key');
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    const a = hmac('sha256', SecretBytes.copyOf(raw), data);
    // the well-known HMAC-SHA256("key", "The quick brown fox ...") example value
    expect(a.toString('hex')).toBe('f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
    expect(hmac('sha256', raw, data)).toEqual(a);
  });

  it('gives full-length tags', () => {
    const lengths = { sha224: 28, sha256: 32, sha384: 48, sha512: 64 } as const;
    for (const [h, n] of Object.entries(lengths)) {
      expect(hmac(h as HmacHash, Buffer.alloc(0), Buffer.alloc(0))).toHaveLength(n);
    }
  });

  it('refuses other hashes with ValidationError', () => {
    for (const h of ['sha1', 'md5', 'SHA256', 'toString', '']) {
      expect(() => hmac(h as HmacHash, Buffer.alloc(16), Buffer.alloc(0))).toThrow(ValidationError);
    }
  });
});

describe('constantTimeEqual', () => {
  it('compares contents and returns false on length mismatch without throwing', () => {
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('abcd'), Buffer.from('abc'))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(1))).toBe(false);
  });
});
