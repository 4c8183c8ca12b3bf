// HMAC and constant-time comparison.
// Invariants: only the SHA-2 hashes of the table are accepted; a MAC or tag is compared only with constantTimeEqual
// (timing depends on the length, never on the contents). Specs: RFC 2104, FIPS 198-1.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import { SecretBytes } from './secret-bytes.js';

/** The hash functions HMAC may use. */
export type HmacHash = 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** Output length in bytes of each allowed hash (the table is also the allow-list). */
const HMAC_OUTPUT_BYTES = { sha224: 28, sha256: 32, sha384: 48, sha512: 64 } as const satisfies Record<HmacHash, number>;

/**
 * HMAC-`hash` of `data` under `key` (the full, untruncated tag).
 * @throws ValidationError (ERR_VALIDATION) when `hash` is not one of {@link HmacHash}.
 */
export function hmac(hash: HmacHash, key: SecretBytes | Uint8Array, data: Uint8Array): Buffer {
  if (!Object.hasOwn(HMAC_OUTPUT_BYTES, hash)) {
    throw new ValidationError('The HMAC hash must be one of sha224, sha256, sha384, sha512.');
  }
  const raw = key instanceof SecretBytes ? key.reveal() : key;
  return createHmac(hash, raw).update(data).digest();
}

/**
 * Compares two byte strings in time that depends only on their lengths.
 * Returns false (never throws) when the lengths differ.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
