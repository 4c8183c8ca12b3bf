// Credential formats: secret access keys are 40 letters and digits, each drawn uniformly; tokens carry 256 bits.
import { describe, expect, it } from 'vitest';
import { hashToken, newAccessKeyPair, newBearerToken } from '../../src/identity/credentials.js';

describe('credential formats', () => {
  it('draws every character of a secret access key uniformly from the 62 letters and digits', () => {
    const counts = new Map<string, number>();
    const n = 2_000;
    for (let i = 0; i < n; i += 1) {
      const { id, secret } = newAccessKeyPair();
      expect(id).toMatch(/^DDAK[A-Z2-7]{16}$/);
      expect(secret).toMatch(/^[A-Za-z0-9]{40}$/);
      for (const c of secret) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const mean = (n * 40) / 62;
    expect(counts.size).toBe(62);
    // Mean 1,290 and standard deviation about 35: a character mapped twice (as '+' and '/' once were) sits near 2,500.
    for (const count of counts.values()) expect(Math.abs(count - mean)).toBeLessThan(8 * 36);
  });

  it('makes 256-bit bearer tokens stored as their SHA-256 hash', () => {
    const { token, hash, accessor } = newBearerToken();
    expect(token).toMatch(/^ddt_[A-Za-z0-9_-]{43}$/);
    expect(hash).toBe(hashToken(token));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(accessor).not.toContain(token.slice(4, 20));
  });
});
