// RSAES-OAEP for the AWS KMS EncryptionAlgorithmSpec values RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256
// (aws-kms-protocol.md §3 and pitfall 10). Spec: RFC 8017 §7.1 (RSAES-OAEP), Appendix B.2.1 (MGF1).
// Invariants:
// - MGF1 uses the same hash as OAEP; the label is always empty (AWS sets none);
// - plaintext is limited to k - 2·hLen - 2 bytes (AWS: RSA_2048 214/190, RSA_3072 342/318, RSA_4096 470/446), and
//   encrypt refuses more with AWS's ValidationException text;
// - only keys of the RSA key specs (2048, 3072, 4096 bits) are used;
// - every decryption failure (wrong length, value not below n, bad padding, wrong key) is InvalidCiphertextError with
//   its one fixed message and no cause; OpenSSL checks the padding without branching on secret data.
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { InvalidCiphertextError, ValidationError } from '../errors/index.js';
import { parsePrivateKeyAnySpec, parsePublicKeyAnySpec, type AsymmetricKeySpec } from './key-pairs.js';
import type { SecretBytes } from './secret-bytes.js';

/** Everything about each OAEP algorithm (the table is also the allow-list). */
const OAEP_ALGORITHMS = {
  RSAES_OAEP_SHA_1: { hash: 'sha1', hashBytes: 20 },
  RSAES_OAEP_SHA_256: { hash: 'sha256', hashBytes: 32 },
} as const satisfies Record<string, { hash: string; hashBytes: number }>;

/** The AWS RSA EncryptionAlgorithmSpec values. */
export type RsaOaepAlgorithm = keyof typeof OAEP_ALGORITHMS;

const RSA_SPECS: readonly AsymmetricKeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096'];

function rowOf(algorithm: RsaOaepAlgorithm): (typeof OAEP_ALGORITHMS)[RsaOaepAlgorithm] {
  if (typeof algorithm !== 'string' || !Object.hasOwn(OAEP_ALGORITHMS, algorithm)) {
    throw new ValidationError('The encryption algorithm must be one of RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256.');
  }
  return OAEP_ALGORITHMS[algorithm];
}

function rsaKey(parsed: { key: KeyObject; spec: AsymmetricKeySpec }): KeyObject {
  if (!RSA_SPECS.includes(parsed.spec)) {
    throw new ValidationError(`RSAES_OAEP algorithms are incompatible with key spec ${parsed.spec}.`);
  }
  return parsed.key;
}

const modulusBytes = (key: KeyObject): number => Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);

/**
 * The largest plaintext, in bytes, that `algorithm` can encrypt under a `modulusBits` RSA key: k - 2·hLen - 2.
 * @throws ValidationError (ERR_VALIDATION) when the algorithm is unknown or `modulusBits` is not 2048, 3072 or 4096.
 */
export function rsaOaepMaxPlaintext(modulusBits: number, algorithm: RsaOaepAlgorithm): number {
  const { hashBytes } = rowOf(algorithm);
  if (modulusBits !== 2048 && modulusBits !== 3072 && modulusBits !== 4096) {
    throw new ValidationError('The RSA modulus must be 2048, 3072 or 4096 bits.');
  }
  return modulusBits / 8 - 2 * hashBytes - 2;
}

/**
 * Encrypts `plaintext` under the SubjectPublicKeyInfo DER RSA `publicKey` (AWS KMS Encrypt with an RSA key).
 * @throws ValidationError (ERR_VALIDATION) when the algorithm is unknown, the key is not an RSA key of an AWS key spec,
 * or the plaintext is too long (`Algorithm <ALG> and key spec RSA_<bits> cannot encrypt data larger than <n> bytes.`).
 */
export function rsaOaepEncrypt(algorithm: RsaOaepAlgorithm, publicKey: Uint8Array, plaintext: Uint8Array): Buffer {
  const { hash } = rowOf(algorithm);
  const parsed = parsePublicKeyAnySpec(publicKey);
  const key = rsaKey(parsed);
  const max = rsaOaepMaxPlaintext(modulusBytes(key) * 8, algorithm);
  if (plaintext.length > max) {
    throw new ValidationError(`Algorithm ${algorithm} and key spec ${parsed.spec} cannot encrypt data larger than ${max} bytes.`);
  }
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

/**
 * Decrypts `ciphertext` with the PKCS#8 DER RSA `privateKey` (AWS KMS Decrypt with an RSA key).
 * @throws ValidationError (ERR_VALIDATION) when the algorithm is unknown or the key is not an RSA key of an AWS key spec.
 * @throws InvalidCiphertextError (ERR_INVALID_CIPHERTEXT) on any decryption failure: a ciphertext that is not exactly
 * k bytes, not below the modulus, or whose OAEP padding or label hash does not check (wrong key or algorithm).
 */
export function rsaOaepDecrypt(algorithm: RsaOaepAlgorithm, privateKey: SecretBytes, ciphertext: Uint8Array): Buffer {
  const { hash } = rowOf(algorithm);
  const key = rsaKey(parsePrivateKeyAnySpec(privateKey));
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length !== modulusBytes(key)) throw new InvalidCiphertextError();
  try {
    return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    throw new InvalidCiphertextError();
  }
}
