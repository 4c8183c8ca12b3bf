// AES-GCM authenticated encryption. Spec: NIST SP 800-38D.
// Invariants:
// - the IV is 12 bytes from the CSPRNG, generated here for every call and never supplied by the caller
//   (random-IV construction, NIST SP 800-38D §8.2.2; callers keep a key under 2^32 encryptions, §8.3);
// - the tag is always the full 16 bytes; decrypt requires exactly a 12-byte IV and a 16-byte tag, so truncated
//   tags and GHASH-derived IVs are refused;
// - every decryption failure throws InvalidCiphertextError with its one fixed message and no cause, and
//   unauthenticated plaintext is zeroed, never returned.
import { createDecipheriv } from 'node:crypto';
import { InvalidCiphertextError } from '../errors/index.js';
import { GCM_IV_BYTES, GCM_TAG_BYTES, aesGcmEncryptWithFixedIv, gcmCipherFor } from './aead-fixed-iv.js';
import { randomBytes } from './random.js';
import type { SecretBytes } from './secret-bytes.js';

/** The parts of one AES-GCM encryption. */
export interface AesGcmSealed {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * Encrypts `plaintext` under `key` (16, 24 or 32 bytes) with a fresh random 12-byte IV, authenticating `aad`.
 * @throws ValidationError (ERR_VALIDATION) when the key is not 16, 24 or 32 bytes long.
 */
export function aesGcmEncrypt(key: SecretBytes, plaintext: Uint8Array, aad: Uint8Array): AesGcmSealed {
  return aesGcmEncryptWithFixedIv(key, randomBytes(GCM_IV_BYTES), plaintext, aad);
}

/**
 * Decrypts and authenticates one AES-GCM ciphertext.
 * @throws InvalidCiphertextError (ERR_INVALID_CIPHERTEXT) on any failure: wrong key length, IV not 12 bytes,
 * tag not 16 bytes, or authentication failure (wrong key, IV, ciphertext, tag or AAD).
 */
export function aesGcmDecrypt(
  key: SecretBytes,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Buffer {
  const cipherName = gcmCipherFor(key.length);
  if (cipherName === undefined || iv.length !== GCM_IV_BYTES || tag.length !== GCM_TAG_BYTES) {
    throw new InvalidCiphertextError();
  }
  let head: Buffer | undefined;
  try {
    const decipher = createDecipheriv(cipherName, key.reveal(), iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    head = decipher.update(ciphertext);
    const tail = decipher.final(); // verifies the tag
    const plaintext = Buffer.concat([head, tail]);
    head.fill(0);
    return plaintext;
  } catch {
    head?.fill(0);
    throw new InvalidCiphertextError();
  }
}
