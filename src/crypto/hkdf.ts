// HKDF key derivation (extract-then-expand).
// Invariants: output length is 1..255*HashLen (RFC 5869 §2.3); the output is key material and is returned as
// SecretBytes; an empty salt means HashLen zero bytes (RFC 5869 §2.2). Spec: RFC 5869.
import { hkdfSync } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import { SecretBytes } from './secret-bytes.js';

/** Digest length in bytes of each allowed hash (the table is also the allow-list). */
const HKDF_HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const;

/**
 * HKDF-`hash`(ikm, salt, info) of `length` bytes, as defined in RFC 5869.
 * @throws ValidationError (ERR_VALIDATION) when `hash` is not sha256/sha384/sha512 or `length` is not an integer
 * in [1, 255 * HashLen].
 */
export function hkdf(
  hash: 'sha256' | 'sha384' | 'sha512',
  ikm: SecretBytes | Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): SecretBytes {
  if (!Object.hasOwn(HKDF_HASH_BYTES, hash)) {
    throw new ValidationError('The HKDF hash must be one of sha256, sha384, sha512.');
  }
  const max = 255 * HKDF_HASH_BYTES[hash];
  if (!Number.isSafeInteger(length) || length < 1 || length > max) {
    throw new ValidationError(`The HKDF output length must be an integer between 1 and ${max}.`);
  }
  const raw = ikm instanceof SecretBytes ? ikm.reveal() : ikm;
  return SecretBytes.adopt(Buffer.from(hkdfSync(hash, raw, salt, info, length)));
}
