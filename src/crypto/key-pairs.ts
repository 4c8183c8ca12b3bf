// Asymmetric key pairs for the AWS KMS key specs (KeySpec and DataKeyPairSpec, aws-kms-protocol.md §3).
// Invariants:
// - one table row per spec is the allow-list: RSA with a 2048, 3072 or 4096-bit modulus (generated with e = 65537),
//   ECDSA/ECDH keys on a named curve (P-256, P-384, P-521, secp256k1; never explicit curve parameters), Ed25519;
// - private keys travel as PKCS#8 DER inside SecretBytes, public keys as SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7,
//   RFC 5480 for EC, RFC 8410 for Ed25519, RFC 8017 Appendix A.1 for RSA);
// - parsing accepts exactly one DER SEQUENCE with nothing after it, and only a key of the expected spec
//   (RSA-PSS-only keys, other curves and other sizes are refused with ValidationError);
// - key generation is asynchronous (node's thread pool), so a 4096-bit RSA key never blocks the event loop.
// Node's KeyObjects hold their own copy of the key inside OpenSSL, which is freed but not zeroed by us.
import { createPrivateKey, createPublicKey, generateKeyPair as nodeGenerateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { ValidationError } from '../errors/index.js';
import { isOneDerSequence } from './der.js';
import { SecretBytes } from './secret-bytes.js';

type KeyPairParams =
  | { readonly type: 'rsa'; readonly modulusBits: 2048 | 3072 | 4096 }
  | { readonly type: 'ec'; readonly curve: 'prime256v1' | 'secp384r1' | 'secp521r1' | 'secp256k1' }
  | { readonly type: 'ed25519' };

/** Everything about each asymmetric AWS key spec (the table is also the allow-list). OpenSSL curve names. */
const KEY_PAIR_SPECS = {
  RSA_2048: { type: 'rsa', modulusBits: 2048 },
  RSA_3072: { type: 'rsa', modulusBits: 3072 },
  RSA_4096: { type: 'rsa', modulusBits: 4096 },
  ECC_NIST_P256: { type: 'ec', curve: 'prime256v1' },
  ECC_NIST_P384: { type: 'ec', curve: 'secp384r1' },
  ECC_NIST_P521: { type: 'ec', curve: 'secp521r1' },
  ECC_SECG_P256K1: { type: 'ec', curve: 'secp256k1' },
  ECC_NIST_EDWARDS25519: { type: 'ed25519' },
} as const satisfies Record<string, KeyPairParams>;

/** The asymmetric AWS key specs (RSA, ECC and Edwards curves; SM2 and ML-DSA are not supported). */
export type AsymmetricKeySpec = keyof typeof KEY_PAIR_SPECS;

/** Every {@link AsymmetricKeySpec}, in table order. */
export const ASYMMETRIC_KEY_SPECS = Object.keys(KEY_PAIR_SPECS) as readonly AsymmetricKeySpec[];

/** A freshly generated key pair. */
export interface KeyPair {
  /** PKCS#8 DER (RFC 5208). */
  privateKey: SecretBytes;
  /** SubjectPublicKeyInfo DER (RFC 5280). */
  publicKey: Buffer;
}

/** True when `spec` is one of {@link ASYMMETRIC_KEY_SPECS}. Throws nothing. */
export function isAsymmetricKeySpec(spec: unknown): spec is AsymmetricKeySpec {
  return typeof spec === 'string' && Object.hasOwn(KEY_PAIR_SPECS, spec);
}

function paramsOf(spec: AsymmetricKeySpec): KeyPairParams {
  if (!isAsymmetricKeySpec(spec)) throw new ValidationError(`The key spec ${String(spec)} is not an asymmetric key spec.`);
  return KEY_PAIR_SPECS[spec];
}

const generate = promisify(nodeGenerateKeyPair);

/**
 * Generates a key pair of `spec` with the CSPRNG (RSA public exponent 65537).
 * @throws ValidationError (ERR_VALIDATION) when `spec` is not an {@link AsymmetricKeySpec}.
 */
export async function generateKeyPair(spec: AsymmetricKeySpec): Promise<KeyPair> {
  const params = paramsOf(spec);
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  if (params.type === 'rsa') {
    pair = await generate('rsa', { modulusLength: params.modulusBits, publicExponent: 0x10001 });
  } else if (params.type === 'ec') {
    pair = await generate('ec', { namedCurve: params.curve });
  } else {
    pair = await generate('ed25519', {});
  }
  return {
    privateKey: SecretBytes.adopt(pair.privateKey.export({ type: 'pkcs8', format: 'der' })),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'der' }),
  };
}

/** The spec of a parsed key, or `undefined` when the key fits no row of the table. Throws nothing. */
export function keySpecOf(key: KeyObject): AsymmetricKeySpec | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  return ASYMMETRIC_KEY_SPECS.find((spec) => {
    const params: KeyPairParams = KEY_PAIR_SPECS[spec];
    if (params.type !== key.asymmetricKeyType) return false;
    if (params.type === 'rsa') return details.modulusLength === params.modulusBits;
    if (params.type === 'ec') return details.namedCurve === params.curve;
    return true;
  });
}

/**
 * Parses a private key given as PKCS#8 DER and returns it with its spec.
 * @throws ValidationError (ERR_VALIDATION) when the bytes are not one PKCS#8 DER structure or hold a key of no
 * supported spec.
 */
export function parsePrivateKeyAnySpec(pkcs8Der: SecretBytes): { key: KeyObject; spec: AsymmetricKeySpec } {
  const der = pkcs8Der.reveal();
  let key: KeyObject | undefined;
  try {
    if (isOneDerSequence(der)) key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    // reported below, without node's message
  }
  const spec = key === undefined ? undefined : keySpecOf(key);
  if (key === undefined || spec === undefined) {
    throw new ValidationError('The private key is not a PKCS#8 DER key of a supported key spec.');
  }
  return { key, spec };
}

/**
 * Parses a public key given as SubjectPublicKeyInfo DER and returns it with its spec.
 * @throws ValidationError (ERR_VALIDATION) when the bytes are not one SubjectPublicKeyInfo DER structure (including
 * EC points that are not on the curve) or hold a key of no supported spec.
 */
export function parsePublicKeyAnySpec(spkiDer: Uint8Array): { key: KeyObject; spec: AsymmetricKeySpec } {
  let key: KeyObject | undefined;
  try {
    if (spkiDer instanceof Uint8Array && isOneDerSequence(spkiDer)) {
      key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
    }
  } catch {
    // reported below, without node's message
  }
  const spec = key === undefined ? undefined : keySpecOf(key);
  if (key === undefined || spec === undefined) {
    throw new ValidationError('The public key is not a DER-encoded SubjectPublicKeyInfo of a supported key spec.');
  }
  return { key, spec };
}

function expectSpec(expected: AsymmetricKeySpec, actual: AsymmetricKeySpec, what: string): void {
  if (actual !== expected) throw new ValidationError(`The ${what} key has key spec ${actual}, not ${expected}.`);
}

/**
 * Parses and checks a SubjectPublicKeyInfo DER public key that must be of `spec` (e.g. a DeriveSharedSecret peer
 * key, or a key to verify with).
 * @throws ValidationError (ERR_VALIDATION) when `spec` is unknown, the bytes are not one SubjectPublicKeyInfo DER
 * structure of a supported spec (EC points must lie on the curve), or the key is of another spec.
 */
export function parsePublicKey(spec: AsymmetricKeySpec, spkiDer: Uint8Array): KeyObject {
  paramsOf(spec);
  const parsed = parsePublicKeyAnySpec(spkiDer);
  expectSpec(spec, parsed.spec, 'public');
  return parsed.key;
}

/**
 * Parses and checks a PKCS#8 DER private key that must be of `spec` (e.g. imported key material).
 * @throws ValidationError (ERR_VALIDATION) when `spec` is unknown, the bytes are not one PKCS#8 DER structure of a
 * supported spec, or the key is of another spec.
 */
export function parsePrivateKey(spec: AsymmetricKeySpec, pkcs8Der: SecretBytes): KeyObject {
  paramsOf(spec);
  const parsed = parsePrivateKeyAnySpec(pkcs8Der);
  expectSpec(spec, parsed.spec, 'private');
  return parsed.key;
}

/**
 * The SubjectPublicKeyInfo DER public key of a PKCS#8 DER private key (AWS GetPublicKey).
 * @throws ValidationError (ERR_VALIDATION) when the bytes are not a PKCS#8 DER key of a supported spec.
 */
export function publicKeyFromPrivate(privateKeyDer: SecretBytes): Buffer {
  const { key } = parsePrivateKeyAnySpec(privateKeyDer);
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}
