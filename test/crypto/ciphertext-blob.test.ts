import { describe, it, expect } from 'vitest';
import {
  aesGcmDecrypt,
  BLOB_OVERHEAD,
  decryptBlob,
  encodeEncryptionContext,
  encryptBlob,
  parseBlobHeader,
  SecretBytes,
  type EncryptionContext,
} from '../../src/crypto/index.js';
import { InvalidCiphertextError, ValidationError } from '../../src/errors/index.js';

const key = SecretBytes.copyOf(Buffer.alloc(32, 0x42));
const otherKey = SecretBytes.copyOf(Buffer.alloc(32, 0x43));
const header = { keyId: '1b4e28ba-2fa1-4d2c-883f-0016d3cca427', version: 7 };
const plaintext = Buffer.from('4111 1111 1111 1111 / 12-29 / 123');
const ec = { tenant: 'acme', purpose: 'card' };

const expectInvalid = (f: () => unknown) => expect(f).toThrow(InvalidCiphertextError);

describe('ciphertext blob v1', () => {
  it('has the documented layout: format byte, key id, version, IV, ciphertext, tag', () => {
    const blob = encryptBlob(key, header, plaintext, ec);
    expect(BLOB_OVERHEAD).toBe(49);
    expect(blob).toHaveLength(plaintext.length + BLOB_OVERHEAD);
    expect(blob[0]).toBe(0x01);
    expect(blob.subarray(1, 17).toString('hex')).toBe(header.keyId.replace(/-/g, ''));
    expect(blob.readUInt32BE(17)).toBe(7);
    // AAD = the 21 header bytes || the canonical context; decrypting the parts by hand proves the layout.
    const aad = Buffer.concat([blob.subarray(0, 21), encodeEncryptionContext(ec)]);
    const iv = blob.subarray(21, 33);
    const ct = blob.subarray(33, blob.length - 16);
    const tag = blob.subarray(blob.length - 16);
    expect(aesGcmDecrypt(key, iv, ct, tag, aad)).toEqual(plaintext);
  });

  it('round-trips, with a fresh IV every time', () => {
    const a = encryptBlob(key, header, plaintext, ec);
    const b = encryptBlob(key, header, plaintext, ec);
    expect(a.equals(b)).toBe(false);
    expect(decryptBlob(key, a, ec)).toEqual(plaintext);
    expect(decryptBlob(key, b, ec)).toEqual(plaintext);
    const empty = encryptBlob(key, header, new Uint8Array(0));
    expect(empty).toHaveLength(BLOB_OVERHEAD);
    expect(decryptBlob(key, empty)).toHaveLength(0);
  });

  it('decrypts from a Uint8Array view at a non-zero offset', () => {
    const blob = encryptBlob(key, header, plaintext, ec);
    const backing = new Uint8Array(blob.length + 10);
    backing.set(blob, 5);
    const view = backing.subarray(5, 5 + blob.length);
    expect(parseBlobHeader(view)).toEqual(header);
    expect(decryptBlob(key, view, ec)).toEqual(plaintext);
  });

  it('parseBlobHeader round-trips the key id (lower-case) and version, including the extremes', () => {
    for (const h of [
      header,
      { keyId: '00000000-0000-0000-0000-000000000000', version: 1 },
      { keyId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', version: 0xffffffff },
    ]) {
      const blob = encryptBlob(key, h, plaintext);
      expect(parseBlobHeader(blob)).toEqual(h);
      expect(decryptBlob(key, blob)).toEqual(plaintext);
    }
  });

  it('parseBlobHeader refuses short blobs, unknown format bytes and version 0', () => {
    const blob = encryptBlob(key, header, plaintext);
    for (const format of [0x00, 0x02, 0x81, 0xff]) {
      const b = Buffer.from(blob);
      b[0] = format;
      expectInvalid(() => parseBlobHeader(b));
      expectInvalid(() => decryptBlob(key, b));
    }
    const v0 = Buffer.from(blob);
    v0.writeUInt32BE(0, 17);
    expectInvalid(() => parseBlobHeader(v0));
    expectInvalid(() => decryptBlob(key, v0));
    expectInvalid(() => parseBlobHeader(blob.subarray(0, BLOB_OVERHEAD - 1)));
    expectInvalid(() => parseBlobHeader(new Uint8Array(0)));
    expectInvalid(() => parseBlobHeader('not bytes' as unknown as Uint8Array));
  });

  it('fails on every single-bit flip, at every bit position', () => {
    const blob = encryptBlob(key, header, plaintext, ec);
    let flips = 0;
    for (let i = 0; i < blob.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Buffer.from(blob);
        tampered[i] = (tampered[i] ?? 0) ^ (1 << bit);
        expectInvalid(() => decryptBlob(key, tampered, ec));
        flips++;
      }
    }
    expect(flips).toBe(blob.length * 8);
  });

  it('fails on truncation at every length and on extension', () => {
    const blob = encryptBlob(key, header, plaintext, ec);
    for (let n = 0; n < blob.length; n++) {
      expectInvalid(() => decryptBlob(key, blob.subarray(0, n), ec));
    }
    expectInvalid(() => decryptBlob(key, Buffer.concat([blob, Buffer.alloc(1)]), ec));
    // dropping bytes from the front is truncation too
    for (let n = 1; n < blob.length; n++) {
      expectInvalid(() => decryptBlob(key, blob.subarray(n), ec));
    }
  });

  it('fails with the wrong key, or a key of the wrong length', () => {
    const blob = encryptBlob(key, header, plaintext, ec);
    expectInvalid(() => decryptBlob(otherKey, blob, ec));
    expectInvalid(() => decryptBlob(SecretBytes.copyOf(Buffer.alloc(16, 0x42)), blob, ec));
  });

  it('fails when the header is moved to another key id or version', () => {
    const blob = encryptBlob(key, header, plaintext);
    const moved = Buffer.concat([encryptBlob(key, { ...header, version: 8 }, plaintext).subarray(0, 21), blob.subarray(21)]);
    expect(parseBlobHeader(moved).version).toBe(8);
    expectInvalid(() => decryptBlob(key, moved));
  });

  describe('encryption context binding', () => {
    const cases: Array<[string, EncryptionContext | undefined, EncryptionContext | undefined]> = [
      ['{"a":"bc"} vs {"ab":"c"}', { a: 'bc' }, { ab: 'c' }],
      ['{"ab":"c"} vs {"a":"bc"}', { ab: 'c' }, { a: 'bc' }],
      ['extra key', { a: '1' }, { a: '1', b: '2' }],
      ['missing key', { a: '1', b: '2' }, { a: '1' }],
      ['different value', { a: '1' }, { a: '2' }],
      ['different key, same value', { a: '1' }, { b: '1' }],
      ['context vs absent', { a: '1' }, undefined],
      ['absent vs context', undefined, { a: '1' }],
      ['{} vs context', {}, { a: '' }],
      ['case matters', { a: 'x' }, { A: 'x' }],
    ];
    it.each(cases)('%s does not decrypt', (_name, used, presented) => {
      const blob = encryptBlob(key, header, plaintext, used);
      expectInvalid(() => decryptBlob(key, blob, presented));
    });

    it('absent context equals {}', () => {
      expect(decryptBlob(key, encryptBlob(key, header, plaintext), {})).toEqual(plaintext);
      expect(decryptBlob(key, encryptBlob(key, header, plaintext, {}))).toEqual(plaintext);
      expect(decryptBlob(key, encryptBlob(key, header, plaintext, undefined), undefined)).toEqual(plaintext);
    });

    it('key order does not matter', () => {
      const blob = encryptBlob(key, header, plaintext, { b: '2', a: '1' });
      expect(decryptBlob(key, blob, { a: '1', b: '2' })).toEqual(plaintext);
    });

    it('a malformed context on decrypt is InvalidCiphertextError, not a validation leak', () => {
      const blob = encryptBlob(key, header, plaintext, ec);
      expectInvalid(() => decryptBlob(key, blob, { tenant: 1 } as unknown as EncryptionContext));
      expectInvalid(() => decryptBlob(key, blob, null as unknown as EncryptionContext));
    });
  });

  it('encryptBlob refuses bad arguments with ValidationError', () => {
    const bad: Array<[SecretBytes, { keyId: string; version: number }, unknown]> = [
      [SecretBytes.copyOf(Buffer.alloc(16)), header, undefined],
      [SecretBytes.copyOf(Buffer.alloc(24)), header, undefined],
      [key, { ...header, keyId: header.keyId.toUpperCase() }, undefined],
      [key, { ...header, keyId: header.keyId.replace(/-/g, '') }, undefined],
      [key, { ...header, keyId: `${header.keyId}0` }, undefined],
      [key, { ...header, keyId: 'alias/foo' }, undefined],
      [key, { ...header, keyId: 42 as unknown as string }, undefined],
      [key, { ...header, version: 0 }, undefined],
      [key, { ...header, version: -1 }, undefined],
      [key, { ...header, version: 1.5 }, undefined],
      [key, { ...header, version: 2 ** 32 }, undefined],
      [key, { ...header, version: Number.NaN }, undefined],
      [key, header, { a: 1 }],
    ];
    for (const [k, h, c] of bad) {
      expect(() => encryptBlob(k, h, plaintext, c as EncryptionContext)).toThrow(ValidationError);
    }
  });

  it('every failure carries the same fixed message', () => {
    const blob = encryptBlob(key, header, plaintext, ec);
    const messages = new Set<string>();
    for (const attempt of [
      () => decryptBlob(otherKey, blob, ec),
      () => decryptBlob(key, blob, { a: '1' }),
      () => decryptBlob(key, blob.subarray(0, 10), ec),
      () => parseBlobHeader(Buffer.alloc(60)),
    ]) {
      try {
        attempt();
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidCiphertextError);
        messages.add((err as Error).message);
      }
    }
    expect(messages.size).toBe(1);
  });
});
