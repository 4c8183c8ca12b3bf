import { describe, it, expect } from 'vitest';
import { inspect } from 'node:util';
import { SecretBytes } from '../../src/crypto/index.js';

describe('SecretBytes', () => {
  const bytes = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

  it('prints <redacted> in String(), template strings, JSON.stringify and util.inspect', () => {
    const s = SecretBytes.copyOf(bytes);
    expect(String(s)).toBe('<redacted>');
    expect(`${s}`).toBe('<redacted>');
    expect(JSON.stringify(s)).toBe('"<redacted>"');
    expect(JSON.stringify({ key: s })).toBe('{"key":"<redacted>"}');
    expect(inspect(s)).toContain('<redacted>');
    expect(inspect({ nested: { key: s } }, { depth: 10 })).toContain('<redacted>');
    for (const out of [String(s), JSON.stringify({ key: s }), inspect(s), inspect({ s }, { showHidden: true })]) {
      expect(out).not.toContain('00112233');
      expect(out).not.toContain('0, 17, 34');
    }
  });

  it('copyOf copies, adopt takes ownership, destroy zeroes', () => {
    const src = Buffer.from(bytes);
    const copy = SecretBytes.copyOf(src);
    src.fill(0);
    expect(copy.reveal()).toEqual(bytes);
    const owned = Buffer.from(bytes);
    const adopted = SecretBytes.adopt(owned);
    expect(adopted.length).toBe(16);
    adopted.destroy();
    expect(owned).toEqual(Buffer.alloc(16));
  });
});
