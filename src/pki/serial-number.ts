/**
 * Certificate serial numbers.
 *
 * Invariants (RFC 5280 §4.1.2.2, CA/Browser Forum BR §7.1):
 * - 16 random bytes from the CSPRNG; at least 64 bits of entropy (here 126).
 * - Positive and minimally encoded: the top bit of the first byte is 0 and the next bit is 1, so the DER INTEGER is
 *   exactly 16 bytes, never negative, never zero, and never needs a leading 0x00.
 */
import { randomBytes } from 'node:crypto';

/** Returns a fresh random serial number as 32 lowercase hex digits (the form @peculiar/x509 expects). */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}
