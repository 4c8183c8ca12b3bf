import { createECDH, createHash, createPublicKey, generateKeyPairSync, randomBytes, verify as nodeVerify } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { bigIntToBytes, bytesToBigInt, encodeIntegerSequence } from '../../src/crypto/der.js';
import {
  decodeEcdsaSignature,
  ecdsaSignDigest,
  ecdsaVerifyDigest,
  ECDSA_CURVES,
  mulAdd,
  type EcdsaCurve,
} from '../../src/crypto/ecdsa-digest.js';

const CURVES = Object.keys(ECDSA_CURVES) as EcdsaCurve[];
const bytesOf = (curve: EcdsaCurve) => Math.ceil(ECDSA_CURVES[curve].n.toString(2).length / 8);

/** k·G computed by OpenSSL, as an affine point. */
function opensslMulG(curve: EcdsaCurve, k: bigint) {
  const ecdh = createECDH(curve);
  ecdh.setPrivateKey(bigIntToBytes(k, bytesOf(curve)));
  const pub = ecdh.getPublicKey();
  const half = (pub.length - 1) / 2;
  return { x: bytesToBigInt(pub.subarray(1, 1 + half)), y: bytesToBigInt(pub.subarray(1 + half)) };
}

describe.each(CURVES)('curve constants and point arithmetic of %s', (curve) => {
  const c = ECDSA_CURVES[curve];
  const G = { x: c.gx, y: c.gy };

  it('G is on the curve, and n·G is the point at infinity (n is the order)', () => {
    expect((c.gy * c.gy - (c.gx ** 3n + c.a * c.gx + c.b)) % c.p).toBe(0n);
    expect(mulAdd(c, c.n, 0n, undefined)).toBeUndefined();
    expect(mulAdd(c, 0n, c.n, G)).toBeUndefined();
    expect(mulAdd(c, c.n - 1n, 0n, undefined)).toEqual({ x: c.gx, y: c.p - c.gy }); // -G
  });

  it('agrees with OpenSSL on 1·G, 2·G and random multiples, through both scalars', () => {
    expect(opensslMulG(curve, 1n)).toEqual(G);
    expect(mulAdd(c, 1n, 0n, undefined)).toEqual(G);
    expect(mulAdd(c, 2n, 0n, undefined)).toEqual(opensslMulG(curve, 2n));
    expect(mulAdd(c, 1n, 1n, G)).toEqual(opensslMulG(curve, 2n)); // G + G through the addition formula
    for (let i = 0; i < 3; i++) {
      const k = (bytesToBigInt(randomBytes(bytesOf(curve))) % (c.n - 1n)) + 1n;
      const kG = opensslMulG(curve, k);
      expect(mulAdd(c, k, 0n, undefined)).toEqual(kG);
      expect(mulAdd(c, 0n, k, G)).toEqual(kG);
      const j = (k * 7n) % c.n;
      // u1·G + u2·Q with Q = k·G equals (u1 + u2·k)·G
      expect(mulAdd(c, j, 5n, kG)).toEqual(opensslMulG(curve, (j + 5n * k) % c.n));
    }
    expect(mulAdd(c, 1n, c.n - 1n, G)).toBeUndefined(); // G + (-G)
    expect(mulAdd(c, 0n, 0n, G)).toBeUndefined();
  });
});

describe('ecdsaSignDigest / ecdsaVerifyDigest', () => {
  it('truncates digests longer than n to its bit length, as OpenSSL does (FIPS 186-5 §6.4)', () => {
    for (const [curve, hash] of [['prime256v1', 'sha512'], ['secp384r1', 'sha512'], ['secp256k1', 'sha384']] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const m = Buffer.from('truncate me');
      const digest = createHash(hash).update(m).digest();
      const sig = ecdsaSignDigest(curve, privateKey, digest);
      expect(nodeVerify(hash, m, publicKey, sig)).toBe(true);
      expect(ecdsaVerifyDigest(curve, publicKey, digest, sig)).toBe(true);
    }
  });

  it('handles short digests (shorter than n) like OpenSSL', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    const m = Buffer.from('short');
    const digest = createHash('sha256').update(m).digest();
    const sig = ecdsaSignDigest('secp521r1', privateKey, digest);
    expect(nodeVerify('sha256', m, publicKey, sig)).toBe(true);
  });

  it('decodeEcdsaSignature accepts r, s in [1, n-1] only', () => {
    const { n } = ECDSA_CURVES.prime256v1;
    const ok = (r: bigint, s: bigint) => decodeEcdsaSignature('prime256v1', encodeIntegerSequence([r, s])) !== undefined;
    expect(ok(1n, 1n)).toBe(true);
    expect(ok(n - 1n, n - 1n)).toBe(true);
    expect(ok(0n, 1n)).toBe(false);
    expect(ok(1n, 0n)).toBe(false);
    expect(ok(n, 1n)).toBe(false);
    expect(ok(1n, n)).toBe(false);
    expect(decodeEcdsaSignature('prime256v1', encodeIntegerSequence([1n, 1n, 1n]))).toBeUndefined();
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(ecdsaVerifyDigest('prime256v1', publicKey, Buffer.alloc(32), encodeIntegerSequence([n, 1n]))).toBe(false);
  });

  it('rejects a signature whose u1·G + u2·Q is the point at infinity', () => {
    // Q = G, digest e and r chosen so that u1 + u2 = (e + r)/s = 0 mod n
    const c = ECDSA_CURVES.prime256v1;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(bigIntToBytes(1n, 32));
    const der = Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), ecdh.getPublicKey()]);
    const pub = createPublicKey({ key: der, format: 'der', type: 'spki' });
    const r = 5n;
    const e = c.n - r;
    expect(ecdsaVerifyDigest('prime256v1', pub, bigIntToBytes(e, 32), encodeIntegerSequence([r, 1n]))).toBe(false);
  });
});
