import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { beforeAll, describe, it, expect } from 'vitest';
import {
  ASYMMETRIC_KEY_SPECS,
  generateKeyPair,
  isAsymmetricKeySpec,
  parsePrivateKey,
  parsePublicKey,
  publicKeyFromPrivate,
  SecretBytes,
  type AsymmetricKeySpec,
  type KeyPair,
} from '../../src/crypto/index.js';
import { keySpecOf } from '../../src/crypto/key-pairs.js';
import { ValidationError } from '../../src/errors/index.js';

/** What node must see in each generated key. */
const EXPECTED: Record<AsymmetricKeySpec, { type: string; details: Record<string, unknown> }> = {
  RSA_2048: { type: 'rsa', details: { modulusLength: 2048, publicExponent: 65537n } },
  RSA_3072: { type: 'rsa', details: { modulusLength: 3072, publicExponent: 65537n } },
  RSA_4096: { type: 'rsa', details: { modulusLength: 4096, publicExponent: 65537n } },
  ECC_NIST_P256: { type: 'ec', details: { namedCurve: 'prime256v1' } },
  ECC_NIST_P384: { type: 'ec', details: { namedCurve: 'secp384r1' } },
  ECC_NIST_P521: { type: 'ec', details: { namedCurve: 'secp521r1' } },
  ECC_SECG_P256K1: { type: 'ec', details: { namedCurve: 'secp256k1' } },
  ECC_NIST_EDWARDS25519: { type: 'ed25519', details: {} },
};

const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
const pkcs8 = (k: KeyObject): SecretBytes => SecretBytes.adopt(k.export({ type: 'pkcs8', format: 'der' }));

describe('generateKeyPair', () => {
  const pairs = {} as Record<AsymmetricKeySpec, KeyPair>;
  beforeAll(async () => {
    const all = await Promise.all(ASYMMETRIC_KEY_SPECS.map((s) => generateKeyPair(s)));
    ASYMMETRIC_KEY_SPECS.forEach((s, i) => (pairs[s] = all[i] as KeyPair));
  });

  it('covers the eight AWS asymmetric key specs', () => {
    expect([...ASYMMETRIC_KEY_SPECS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s: PKCS#8 and SPKI DER of the right type, size and curve', (name, want) => {
    const spec = name as AsymmetricKeySpec;
    const { privateKey, publicKey } = pairs[spec];
    expect(privateKey).toBeInstanceOf(SecretBytes);
    expect(String(privateKey)).toBe('<redacted>');
    const priv = createPrivateKey({ key: privateKey.reveal(), format: 'der', type: 'pkcs8' });
    const pub = createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
    for (const k of [priv, pub]) {
      expect(k.asymmetricKeyType).toBe(want.type);
      expect(k.asymmetricKeyDetails).toMatchObject(want.details);
      expect(keySpecOf(k)).toBe(spec);
    }
    expect(spki(createPublicKey(priv))).toEqual(publicKey);
    expect(publicKeyFromPrivate(privateKey)).toEqual(publicKey);
    expect(parsePublicKey(spec, publicKey).equals(pub)).toBe(true);
    expect(parsePrivateKey(spec, privateKey).equals(priv)).toBe(true);
  });

  it('generates a fresh key every time', async () => {
    const again = await generateKeyPair('ECC_NIST_P256');
    expect(again.publicKey).not.toEqual(pairs.ECC_NIST_P256.publicKey);
  });

  it('refuses unknown specs with ValidationError', async () => {
    for (const spec of ['SYMMETRIC_DEFAULT', 'HMAC_256', 'SM2', 'ML_DSA_44', 'toString', '']) {
      await expect(generateKeyPair(spec as AsymmetricKeySpec)).rejects.toThrow(ValidationError);
      expect(() => parsePublicKey(spec as AsymmetricKeySpec, pairs.RSA_2048.publicKey)).toThrow(ValidationError);
      expect(() => parsePrivateKey(spec as AsymmetricKeySpec, pairs.RSA_2048.privateKey)).toThrow(ValidationError);
    }
  });

  it('parsePublicKey / parsePrivateKey refuse a key of another spec with a clear message', () => {
    expect(() => parsePublicKey('ECC_NIST_P384', pairs.ECC_NIST_P256.publicKey)).toThrow(
      new ValidationError('The public key has key spec ECC_NIST_P256, not ECC_NIST_P384.'),
    );
    expect(() => parsePublicKey('RSA_3072', pairs.RSA_2048.publicKey)).toThrow(ValidationError);
    expect(() => parsePublicKey('ECC_NIST_P256', pairs.ECC_SECG_P256K1.publicKey)).toThrow(ValidationError);
    expect(() => parsePrivateKey('ECC_NIST_EDWARDS25519', pairs.ECC_NIST_P256.privateKey)).toThrow(
      new ValidationError('The private key has key spec ECC_NIST_P256, not ECC_NIST_EDWARDS25519.'),
    );
  });

  it('parsePublicKey refuses malformed DER: trailing bytes, truncation, garbage, a private key, non-bytes', () => {
    const good = pairs.ECC_NIST_P256.publicKey;
    const bad: unknown[] = [
      Buffer.concat([good, Buffer.alloc(1)]),
      good.subarray(0, good.length - 1),
      Buffer.alloc(0),
      Buffer.from('30030201', 'hex'),
      pairs.ECC_NIST_P256.privateKey.reveal(),
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE',
    ];
    for (const b of bad) {
      expect(() => parsePublicKey('ECC_NIST_P256', b as Uint8Array)).toThrow(
        new ValidationError('The public key is not a DER-encoded SubjectPublicKeyInfo of a supported key spec.'),
      );
    }
    const priv = pairs.ECC_NIST_P256.privateKey.reveal();
    for (const b of [Buffer.concat([priv, Buffer.alloc(1)]), Buffer.from(good)]) {
      expect(() => parsePrivateKey('ECC_NIST_P256', SecretBytes.copyOf(b))).toThrow(
        new ValidationError('The private key is not a PKCS#8 DER key of a supported key spec.'),
      );
    }
  });

  it('parsePublicKey refuses EC points that are not on the curve', () => {
    const bad = Buffer.from(pairs.ECC_NIST_P256.publicKey);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0x01; // y changed: the point leaves the curve
    expect(() => parsePublicKey('ECC_NIST_P256', bad)).toThrow(ValidationError);
  });

  it('refuses keys of no AWS spec: RSA-PSS-only, 1024-bit RSA, other curves, X25519, Ed448', () => {
    const others = [
      generateKeyPairSync('rsa-pss', { modulusLength: 2048 }),
      generateKeyPairSync('rsa', { modulusLength: 1024 }),
      generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' }),
      generateKeyPairSync('x25519'),
      generateKeyPairSync('ed448'),
    ];
    for (const { publicKey, privateKey } of others) {
      expect(keySpecOf(publicKey)).toBeUndefined();
      for (const spec of ASYMMETRIC_KEY_SPECS) {
        expect(() => parsePublicKey(spec, spki(publicKey))).toThrow(ValidationError);
        expect(() => parsePrivateKey(spec, pkcs8(privateKey))).toThrow(ValidationError);
      }
      expect(() => publicKeyFromPrivate(pkcs8(privateKey))).toThrow(ValidationError);
    }
  });

  it('isAsymmetricKeySpec', () => {
    for (const s of ASYMMETRIC_KEY_SPECS) expect(isAsymmetricKeySpec(s)).toBe(true);
    for (const s of ['SYMMETRIC_DEFAULT', 'HMAC_224', 'toString', 'constructor', '', 1, undefined, null]) {
      expect(isAsymmetricKeySpec(s)).toBe(false);
    }
  });
});
