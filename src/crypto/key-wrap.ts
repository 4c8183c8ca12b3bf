// Wrapping of key material under a key-encryption key (root-of-trust adapters; DESIGN §2).
// Format v1: [0x01 format version][12 bytes IV][ciphertext][16 bytes tag], AES-256-GCM (NIST SP 800-38D) with
// AAD = 0x01 || caller AAD, so the format byte is authenticated too.
// Invariants: the KEK is 32 bytes; the IV is random and generated inside aesGcmEncrypt; the caller's AAD binds
// the wrapped material to its owner (key id and version), so moved or edited material fails to unwrap; every unwrap
// failure is InvalidCiphertextError; unwrapped material is returned only as SecretBytes.
import { InvalidCiphertextError, ValidationError } from '../errors/index.js';
import { aesGcmDecrypt, aesGcmEncrypt } from './aead.js';
import { SecretBytes } from './secret-bytes.js';

const FORMAT_V1 = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEK_BYTES = 32; // AES-256
const VERSION = Buffer.from([FORMAT_V1]);

/**
 * Wraps `plaintext` key material under the 32-byte `kek`, authenticating `aad`.
 * @throws ValidationError (ERR_VALIDATION) when the KEK is not 32 bytes or `plaintext` is empty.
 */
export function wrapKey(kek: SecretBytes, plaintext: SecretBytes, aad: Uint8Array): Buffer {
  if (kek.length !== KEK_BYTES) throw new ValidationError('The key-encryption key must be 32 bytes long (AES-256).');
  if (plaintext.length === 0) throw new ValidationError('The key material to wrap must not be empty.');
  const { iv, ciphertext, tag } = aesGcmEncrypt(kek, plaintext.reveal(), Buffer.concat([VERSION, aad]));
  return Buffer.concat([VERSION, iv, ciphertext, tag]);
}

/**
 * Unwraps key material wrapped by {@link wrapKey} under the same `kek` and `aad`.
 * @throws InvalidCiphertextError (ERR_INVALID_CIPHERTEXT) on any failure: wrong KEK, wrong AAD, unknown format,
 * truncated or edited input.
 */
export function unwrapKey(kek: SecretBytes, wrapped: Uint8Array, aad: Uint8Array): SecretBytes {
  if (
    !(wrapped instanceof Uint8Array) ||
    wrapped.length <= 1 + IV_BYTES + TAG_BYTES ||
    wrapped[0] !== FORMAT_V1 ||
    kek.length !== KEK_BYTES
  ) {
    throw new InvalidCiphertextError();
  }
  const iv = wrapped.subarray(1, 1 + IV_BYTES);
  const ciphertext = wrapped.subarray(1 + IV_BYTES, wrapped.length - TAG_BYTES);
  const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
  return SecretBytes.adopt(aesGcmDecrypt(kek, iv, ciphertext, tag, Buffer.concat([VERSION, aad])));
}
