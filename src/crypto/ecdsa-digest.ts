// ECDSA over a caller-supplied digest (AWS KMS MessageType DIGEST), which node:crypto cannot do: it always hashes.
// Specs: SEC 1 v2 §4.1.3 (signing), §4.1.4 (verifying), §C.5 (DER ECDSA-Sig-Value); FIPS 186-5 §6.4 (truncating the
// digest to the bit length of n); curve constants from SEC 2 v2 §2.4.1 (secp256k1) and FIPS 186-5 / SP 800-186 §3.2.1.
// Invariants:
// - the nonce k comes from the CSPRNG, rejection-sampled in [1, n-1], and k·G is computed by OpenSSL (node's ECDH,
//   constant time); no nonce is ever reused or derived from the message;
// - NOT constant time: the scalar arithmetic s = k^-1 (e + r·d) mod n uses BigInt on the private key d and on k.
//   It is used only for DIGEST-mode ECDSA signing; RAW-mode signing stays entirely inside OpenSSL;
// - verification uses BigInt point arithmetic (Jacobian coordinates) on public values only (Q, r, s, the digest);
// - signatures are strict DER with r and s in [1, n-1]; anything else fails to verify; low-s is neither produced
//   nor required (AWS KMS does neither).
import { createECDH, randomFillSync, type KeyObject } from 'node:crypto';
import { InternalError } from '../errors/index.js';
import { bytesToBigInt, decodeIntegerSequence, encodeIntegerSequence, readTlv } from './der.js';

/** The curves of the AWS ECC key specs, by OpenSSL name; a = -3 mod p for the NIST curves, 0 for secp256k1. */
export type EcdsaCurve = 'prime256v1' | 'secp384r1' | 'secp521r1' | 'secp256k1';

interface Curve {
  p: bigint;
  a: bigint;
  b: bigint;
  gx: bigint;
  gy: bigint;
  n: bigint;
}

const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P384_P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn;
const P521_P = 2n ** 521n - 1n;

/** Short Weierstrass curves y^2 = x^3 + a·x + b over GF(p), base point G of prime order n (cofactor 1). */
export const ECDSA_CURVES = {
  prime256v1: {
    p: P256_P,
    a: P256_P - 3n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  secp384r1: {
    p: P384_P,
    a: P384_P - 3n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  secp521r1: {
    p: P521_P,
    a: P521_P - 3n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    gx: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
    gy: 0x011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
  secp256k1: {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn,
    a: 0n,
    b: 7n,
    gx: 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
    gy: 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
    n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  },
} as const satisfies Record<EcdsaCurve, Curve>;

/** An affine point; `undefined` is the point at infinity. */
export type Point = { x: bigint; y: bigint } | undefined;

/** A point in Jacobian coordinates, (X, Y, Z) ~ (X/Z^2, Y/Z^3); Z = 0 is the point at infinity. */
type Jacobian = readonly [bigint, bigint, bigint];
const INFINITY: Jacobian = [1n, 1n, 0n];

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

/** a^-1 mod m for a not divisible by m, m prime (extended Euclid). Not constant time. */
function invert(a: bigint, m: bigint): bigint {
  let [r0, r1, t0, t1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, t0, t1] = [r1, r0 - q * r1, t1, t0 - q * t1];
  }
  return mod(t0, m);
}

// Point formulas: Hankerson, Menezes, Vanstone, "Guide to Elliptic Curve Cryptography" §3.2.2 (Jacobian
// coordinates, any a): "dbl-1998-cmo-2" and "add-1998-cmo-2" of the Explicit-Formulas Database.
function double(c: Curve, [X, Y, Z]: Jacobian): Jacobian {
  if (Y === 0n || Z === 0n) return INFINITY;
  const { p } = c;
  const YY = (Y * Y) % p;
  const ZZ = (Z * Z) % p;
  const S = (4n * X * YY) % p;
  const M = (3n * X * X + c.a * ZZ * ZZ) % p;
  const X3 = mod(M * M - 2n * S, p);
  return [X3, mod(M * (S - X3) - 8n * YY * YY, p), (2n * Y * Z) % p];
}

function add(c: Curve, P: Jacobian, Q: Jacobian): Jacobian {
  if (P[2] === 0n) return Q;
  if (Q[2] === 0n) return P;
  const { p } = c;
  const [X1, Y1, Z1] = P;
  const [X2, Y2, Z2] = Q;
  const Z1Z1 = (Z1 * Z1) % p;
  const Z2Z2 = (Z2 * Z2) % p;
  const U1 = (X1 * Z2Z2) % p;
  const U2 = (X2 * Z1Z1) % p;
  const S1 = (Y1 * Z2 * Z2Z2) % p;
  const S2 = (Y2 * Z1 * Z1Z1) % p;
  if (U1 === U2) return S1 === S2 ? double(c, P) : INFINITY; // P = Q, or P = -Q
  const H = mod(U2 - U1, p);
  const R = mod(S2 - S1, p);
  const HH = (H * H) % p;
  const HHH = (H * HH) % p;
  const V = (U1 * HH) % p;
  const X3 = mod(R * R - HHH - 2n * V, p);
  return [X3, mod(R * (V - X3) - S1 * HHH, p), (Z1 * Z2 * H) % p];
}

/** u1·G + u2·Q by Shamir's trick (one shared chain of doublings), as an affine point. Public values only. */
export function mulAdd(c: Curve, u1: bigint, u2: bigint, Q: Point): Point {
  const G: Jacobian = [c.gx, c.gy, 1n];
  const q: Jacobian = Q === undefined ? INFINITY : [Q.x, Q.y, 1n];
  const table = [INFINITY, G, q, add(c, G, q)];
  let R = INFINITY;
  for (let i = bitLength(c.n) - 1; i >= 0; i--) {
    R = add(c, double(c, R), table[Number((u1 >> BigInt(i)) & 1n) | (Number((u2 >> BigInt(i)) & 1n) << 1)] as Jacobian);
  }
  const [X, Y, Z] = R;
  if (Z === 0n) return undefined;
  const zInv = invert(Z, c.p);
  const zInv2 = (zInv * zInv) % c.p;
  return { x: (X * zInv2) % c.p, y: (Y * zInv2 * zInv) % c.p };
}

function bitLength(x: bigint): number {
  return x.toString(2).length;
}

/** The integer e of SEC 1 §4.1.3 step 5: the leftmost bitlen(n) bits of the digest. */
function digestToInteger(c: Curve, digest: Uint8Array): bigint {
  const excess = digest.length * 8 - bitLength(c.n);
  const e = bytesToBigInt(digest);
  return excess > 0 ? e >> BigInt(excess) : e;
}

/** The private scalar d of an EC private key, read from its SEC 1 ECPrivateKey DER (SEC 1 §C.4). */
function privateScalar(key: KeyObject): bigint {
  const der = key.export({ type: 'sec1', format: 'der' });
  try {
    const seq = readTlv(der, 0);
    const version = seq && readTlv(der, seq.start);
    const octets = version && readTlv(der, version.end);
    if (octets?.tag !== 0x04) throw new InternalError(); // node's own SEC 1 export: cannot happen
    return bytesToBigInt(der.subarray(octets.start, octets.end));
  } finally {
    der.fill(0);
  }
}

/**
 * Signs `digest` (already the message hash) with the EC private `key` on `curve`: SEC 1 v2 §4.1.3.
 * Returns the DER ECDSA-Sig-Value. Throws nothing for a valid key on a curve of the table.
 */
export function ecdsaSignDigest(curve: EcdsaCurve, key: KeyObject, digest: Uint8Array): Buffer {
  const c: Curve = ECDSA_CURVES[curve];
  const nBits = bitLength(c.n);
  const nBytes = Math.ceil(nBits / 8);
  const e = digestToInteger(c, digest);
  const d = privateScalar(key);
  const kBytes = Buffer.alloc(nBytes);
  try {
    for (;;) {
      // k uniform in [1, n-1]: draw bitlen(n) random bits until the value is in range (SEC 1 §3.2.1, §4.1.3 step 1)
      let k: bigint;
      do {
        randomFillSync(kBytes);
        kBytes[0] = (kBytes[0] as number) & (0xff >> (8 * nBytes - nBits));
        k = bytesToBigInt(kBytes);
      } while (k === 0n || k >= c.n);
      const ecdh = createECDH(curve);
      ecdh.setPrivateKey(kBytes);
      const kG = ecdh.getPublicKey(); // 0x04 || X || Y, X and Y of the field size
      const r = mod(bytesToBigInt(kG.subarray(1, 1 + (kG.length - 1) / 2)), c.n);
      const s = mod(invert(k, c.n) * (e + r * d), c.n);
      if (r !== 0n && s !== 0n) return encodeIntegerSequence([r, s]); // else a new k (SEC 1 §4.1.3 steps 4, 7)
    }
  } finally {
    kBytes.fill(0);
  }
}

/** (r, s) from a strict-DER ECDSA signature with both in [1, n-1], or `undefined`. Throws nothing. */
export function decodeEcdsaSignature(curve: EcdsaCurve, signature: Uint8Array): { r: bigint; s: bigint } | undefined {
  const { n } = ECDSA_CURVES[curve];
  const rs = decodeIntegerSequence(signature, 2);
  if (rs === undefined) return undefined;
  const [r, s] = rs as [bigint, bigint];
  return r >= 1n && r < n && s >= 1n && s < n ? { r, s } : undefined;
}

/**
 * Verifies a DER ECDSA `signature` over `digest` (already the message hash) with the EC public `key` on `curve`:
 * SEC 1 v2 §4.1.4. Returns false for any malformed or invalid signature; throws nothing.
 */
export function ecdsaVerifyDigest(curve: EcdsaCurve, key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const c: Curve = ECDSA_CURVES[curve];
  const rs = decodeEcdsaSignature(curve, signature);
  if (rs === undefined) return false;
  const jwk = key.export({ format: 'jwk' });
  const Q: Point = { x: bytesToBigInt(Buffer.from(jwk.x ?? '', 'base64url')), y: bytesToBigInt(Buffer.from(jwk.y ?? '', 'base64url')) };
  const w = invert(rs.s, c.n);
  const X = mulAdd(c, mod(digestToInteger(c, digest) * w, c.n), mod(rs.r * w, c.n), Q);
  return X !== undefined && mod(X.x, c.n) === rs.r;
}
