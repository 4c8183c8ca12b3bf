// SHA-256 digests for identifiers, fingerprints and the audit hash chain (not for passwords or keys: use HMAC/HKDF
// for those). Invariants: strings are hashed as their UTF-8 bytes. Spec: FIPS 180-4.
// node:crypto's one-shot `hash` (no Hash object per call) costs about half of createHash().update().digest() on a
// 1 KiB record, and the audit chain hashes one per request.
import { hash } from 'node:crypto';

/** SHA-256 of `data` (strings are encoded as UTF-8). Throws nothing. */
export function sha256(data: Uint8Array | string): Buffer {
  return hash('sha256', data, 'buffer');
}

/** SHA-256 of `data` as 64 lower-case hex characters (strings are encoded as UTF-8). Throws nothing. */
export function sha256Hex(data: Uint8Array | string): string {
  return hash('sha256', data, 'hex');
}
