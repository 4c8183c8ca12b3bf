// Splitting the unseal key into Shamir shares and combining them again (shamir-secret-sharing, audited; GF(2^8),
// one polynomial per byte, x coordinates random and distinct in 1..255, the x byte last in each share).
// Invariants: every buffer of ours that holds the key or a share is zeroed once used (the library needs plain
// Uint8Arrays, so it gets copies that are zeroed afterwards; its own temporaries — polynomial coefficients — are
// left to the garbage collector and cannot be zeroed from here); 1 of 1 needs no polynomial: the single share is the
// key itself with a random non-zero x (a degree-0 polynomial), so every share has one layout; combining shares
// with a repeated x coordinate is refused before the library sees them.
import { combine, split } from 'shamir-secret-sharing';
import { SecretBytes, randomBytes } from '../../../crypto/index.js';
import { SHARE_BYTES, UNSEAL_KEY_BYTES } from './share-format.js';

/** The x coordinate of a share (its last byte). */
export const shareX = (share: Uint8Array): number => share[SHARE_BYTES - 1] as number;

/** `shares` shares of `secret` (32 bytes), `threshold` of which reconstruct it. The caller zeroes them. */
export async function splitSecret(secret: SecretBytes, shares: number, threshold: number): Promise<Buffer[]> {
  if (secret.length !== UNSEAL_KEY_BYTES) throw new RangeError('The unseal key must be 32 bytes.');
  if (shares === 1 && threshold === 1) {
    const share = Buffer.alloc(SHARE_BYTES);
    secret.reveal().copy(share);
    let x = 0;
    while (x === 0) x = randomBytes(1)[0] as number;
    share[UNSEAL_KEY_BYTES] = x;
    return [share];
  }
  const copy = new Uint8Array(secret.reveal());
  try {
    const parts = await split(copy, shares, threshold);
    return parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  } finally {
    copy.fill(0);
  }
}

/**
 * The secret that `shares` (at least `threshold`, distinct x coordinates) interpolate to, or null when they cannot
 * be combined. A wrong share still combines — into a wrong key; only the caller's GCM check tells.
 */
export async function combineShares(shares: readonly Buffer[], threshold: number): Promise<SecretBytes | null> {
  if (shares.length < threshold || shares.length === 0 || shares.some((s) => s.length !== SHARE_BYTES)) return null;
  if (new Set(shares.map(shareX)).size !== shares.length) return null;
  if (threshold === 1) return SecretBytes.copyOf(shares[0]!.subarray(0, UNSEAL_KEY_BYTES));
  const copies = shares.map((s) => new Uint8Array(s));
  try {
    const secret = await combine(copies);
    const bytes = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength);
    if (bytes.length !== UNSEAL_KEY_BYTES) {
      bytes.fill(0);
      return null;
    }
    return SecretBytes.adopt(bytes);
  } catch {
    return null;
  } finally {
    for (const c of copies) c.fill(0);
  }
}
