// Unwrapping of imported key material (AWS KMS ImportKeyMaterial, "wrapping algorithms"):
// - RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256: the material is RSA-OAEP-encrypted under the wrapping public key;
// - RSA_AES_KEY_WRAP_SHA_1 / _SHA_256: an ephemeral AES-256 key, RSA-OAEP-encrypted (modulus-length bytes), followed
//   by the material wrapped under that key with AES Key Wrap with Padding (RFC 5649, IV A65959A6).
// Invariants: every failure is InvalidCiphertextError with its one message; the ephemeral AES key is zeroed; the
// material is returned only as SecretBytes.
import { createDecipheriv, createPrivateKey, timingSafeEqual } from 'node:crypto';
import { InvalidCiphertextError } from '../errors/index.js';
import { rsaOaepDecrypt, type RsaOaepAlgorithm } from './rsa-oaep.js';
import { SecretBytes } from './secret-bytes.js';

const KWP_IV = Buffer.from('A65959A6', 'hex');

/** Everything about each wrapping algorithm (the table is also the allow-list). */
const WRAPPING_ALGORITHMS = {
  RSAES_OAEP_SHA_1: { oaep: 'RSAES_OAEP_SHA_1', aesKeyWrap: false },
  RSAES_OAEP_SHA_256: { oaep: 'RSAES_OAEP_SHA_256', aesKeyWrap: false },
  RSA_AES_KEY_WRAP_SHA_1: { oaep: 'RSAES_OAEP_SHA_1', aesKeyWrap: true },
  RSA_AES_KEY_WRAP_SHA_256: { oaep: 'RSAES_OAEP_SHA_256', aesKeyWrap: true },
} as const satisfies Record<string, { oaep: RsaOaepAlgorithm; aesKeyWrap: boolean }>;

export type WrappingAlgorithm = keyof typeof WRAPPING_ALGORITHMS;

export function isWrappingAlgorithm(value: string): value is WrappingAlgorithm {
  return Object.hasOwn(WRAPPING_ALGORITHMS, value);
}

/** AES Key Wrap with Padding (RFC 5649) unwrap under a 256-bit key. @throws InvalidCiphertextError */
export function aesKeyWrapPadUnwrap(kek: Uint8Array, wrapped: Uint8Array): SecretBytes {
  try {
    if (kek.length !== 32) throw new Error('KEK must be 32 bytes');
    const decipher = createDecipheriv('id-aes256-wrap-pad', kek, KWP_IV);
    return SecretBytes.adopt(Buffer.concat([decipher.update(wrapped), decipher.final()]));
  } catch {
    throw new InvalidCiphertextError();
  }
}

/**
 * The key material in `encrypted`, wrapped for import under the RSA key whose PKCS#8 DER is `wrappingPrivateKey`.
 * @throws InvalidCiphertextError
 */
export function unwrapImportedMaterial(algorithm: WrappingAlgorithm, wrappingPrivateKey: SecretBytes, encrypted: Uint8Array): SecretBytes {
  const row = WRAPPING_ALGORITHMS[algorithm];
  if (!row) throw new InvalidCiphertextError();
  if (!row.aesKeyWrap) return SecretBytes.adopt(rsaOaepDecrypt(row.oaep, wrappingPrivateKey, encrypted));
  const modulusBytes = Math.ceil((createPrivateKey({ key: wrappingPrivateKey.reveal(), format: 'der', type: 'pkcs8' }).asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (encrypted.length <= modulusBytes) throw new InvalidCiphertextError();
  const aesKey = rsaOaepDecrypt(row.oaep, wrappingPrivateKey, encrypted.subarray(0, modulusBytes));
  try {
    return aesKeyWrapPadUnwrap(aesKey, encrypted.subarray(modulusBytes));
  } finally {
    aesKey.fill(0);
  }
}

const PARAMETERS_FORMAT = 0x01;
const ALGORITHM_CODES = Object.keys(WRAPPING_ALGORITHMS) as WrappingAlgorithm[];

/**
 * The secret half of an import token: format ‖ algorithm code ‖ validTo (u64 ms) ‖ wrapping private key (PKCS#8).
 * The caller wraps it with the root of trust, binding the key id, so the token is self-contained and unforgeable.
 */
export function encodeImportParameters(p: { algorithm: WrappingAlgorithm; validTo: Date; wrappingPrivateKey: SecretBytes }): SecretBytes {
  const head = Buffer.alloc(10);
  head[0] = PARAMETERS_FORMAT;
  head[1] = ALGORITHM_CODES.indexOf(p.algorithm);
  head.writeBigUInt64BE(BigInt(p.validTo.getTime()), 2);
  return SecretBytes.adopt(Buffer.concat([head, p.wrappingPrivateKey.reveal()]));
}

/** @throws InvalidCiphertextError when `secret` is not encoded parameters */
export function decodeImportParameters(secret: SecretBytes): { algorithm: WrappingAlgorithm; validTo: Date; wrappingPrivateKey: SecretBytes } {
  const bytes = secret.reveal();
  const algorithm = ALGORITHM_CODES[bytes[1] ?? -1];
  if (bytes.length <= 10 || bytes[0] !== PARAMETERS_FORMAT || algorithm === undefined) throw new InvalidCiphertextError();
  return {
    algorithm,
    validTo: new Date(Number(bytes.readBigUInt64BE(2))),
    wrappingPrivateKey: SecretBytes.copyOf(bytes.subarray(10)),
  };
}

/** Whether two pieces of key material are the same, in time that depends only on their lengths. */
export function sameKeyMaterial(a: SecretBytes, b: SecretBytes): boolean {
  return a.length === b.length && timingSafeEqual(a.reveal(), b.reveal());
}
