import { describe, it, expect } from 'vitest';
import { randomBytes, randomSecret, randomUuid, SecretBytes, sha256, sha256Hex, timeOrderedUuid } from '../../src/crypto/index.js';
import { ValidationError } from '../../src/errors/index.js';

describe('random', () => {
  it('randomBytes returns n fresh bytes, including 0', () => {
    expect(randomBytes(0)).toHaveLength(0);
    const a = randomBytes(32);
    expect(a).toBeInstanceOf(Buffer);
    expect(a).toHaveLength(32);
    expect(a.equals(randomBytes(32))).toBe(false);
  });

  it('randomSecret returns n fresh bytes as SecretBytes', () => {
    const s = randomSecret(32);
    expect(s).toBeInstanceOf(SecretBytes);
    expect(s.length).toBe(32);
    expect(s.reveal().equals(randomSecret(32).reveal())).toBe(false);
    expect(randomSecret(1).length).toBe(1);
  });

  it('refuses bad sizes with ValidationError', () => {
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => randomBytes(n)).toThrow(ValidationError);
      expect(() => randomSecret(n)).toThrow(ValidationError);
    }
    expect(() => randomSecret(0)).toThrow(ValidationError);
  });

  it('randomUuid returns distinct lower-case version 4 UUIDs', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const id = randomUuid();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(100);
  });

  it('timeOrderedUuid returns distinct version 7 UUIDs that carry the time and sort by it', () => {
    const at = Date.UTC(2026, 10, 29, 4, 0, 0, 123);
    const ids = [0, 1, 2, 1000, 86_400_000].map((d) => timeOrderedUuid(at + d));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // RFC 9562 §5.7: the first 48 bits are the Unix time in milliseconds.
    expect(parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set([timeOrderedUuid(at), timeOrderedUuid(at), timeOrderedUuid(at)]).size).toBe(3);
  });
});

describe('sha256', () => {
  it('matches FIPS 180-4 example values and hashes strings as UTF-8', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex('abc')).toBe(abc);
    expect(sha256(Buffer.from('abc')).toString('hex')).toBe(abc);
    expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256('é')).toEqual(sha256(Buffer.from([0xc3, 0xa9])));
    expect(sha256('abc')).toHaveLength(32);
  });
});
