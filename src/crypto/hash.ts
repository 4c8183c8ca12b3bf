// SHA-256 digests for identifiers and fingerprints (not for passwords or keys: use HMAC/HKDF for those).
// Invariants: strings are hashed as their UTF-8 bytes. Spec: FIPS 180-4.
import { createHash } from 'node:crypto';

/** SHA-256 of `data` (strings are encoded as UTF-8). Throws nothing. */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).digest();
}

/** SHA-256 of `data` as 64 lower-case hex characters (strings are encoded as UTF-8). Throws nothing. */
export function sha256Hex(data: Uint8Array | string): string {
  return sha256(data).toString('hex');
}
