/**
 * The self-describing format of blobs wrapped by the root ring (core/root-ring.ts).
 *
 *   legacy (first byte < 0x10):  an adapter's own blob (local, local-sealed, pkcs11 0x01; aws-kms 0x01/0x02),
 *                                 written before the ring existed: it belongs to generation 1.
 *   v1      [0x10][generation, uint32 BE][inner adapter blob]
 *   v1+escrow [0x11][generation, uint32 BE][inner length, uint32 BE][inner adapter blob]
 *                   [recovery key id, 8 bytes][escrow (crypto/recovery-escrow.ts)]
 *
 * Invariants: the header is not itself authenticated, and needs not be: the inner blob is authenticated by the
 * named generation's root with the caller's AAD, so a blob moved to another generation fails to unwrap there; the
 * escrow is authenticated by the escrow key (an attacker can strip it, which only loses the break-glass copy, but
 * cannot forge one); every parse failure is null (the ring answers InvalidCiphertextError).
 */
import { MIN_ESCROW_BYTES } from '../crypto/index.js';

export const RING_V1 = 0x10;
export const RING_V1_ESCROW = 0x11;
/** Bytes naming the recovery key an escrow was made for (the start of SHA-256 of its public key). */
export const ESCROW_KEY_ID_BYTES = 8;
const MAX_GENERATION = 0xffff_ffff;

export interface ParsedRingBlob {
  generation: number;
  inner: Uint8Array;
  escrow: { keyId: Buffer; sealed: Uint8Array } | null;
  legacy: boolean;
}

/** A v1 (or v1+escrow) blob. */
export function encodeRingBlob(generation: number, inner: Uint8Array, escrow?: { keyId: Uint8Array; sealed: Uint8Array }): Buffer {
  if (!Number.isSafeInteger(generation) || generation < 1 || generation > MAX_GENERATION) throw new RangeError('generation out of range');
  if (!escrow) {
    const out = Buffer.alloc(5 + inner.length);
    out[0] = RING_V1;
    out.writeUInt32BE(generation, 1);
    out.set(inner, 5);
    return out;
  }
  const out = Buffer.alloc(9 + inner.length + ESCROW_KEY_ID_BYTES + escrow.sealed.length);
  out[0] = RING_V1_ESCROW;
  out.writeUInt32BE(generation, 1);
  out.writeUInt32BE(inner.length, 5);
  out.set(inner, 9);
  out.set(escrow.keyId.subarray(0, ESCROW_KEY_ID_BYTES), 9 + inner.length);
  out.set(escrow.sealed, 9 + inner.length + ESCROW_KEY_ID_BYTES);
  return out;
}

/** Splits a stored blob into its generation, inner adapter blob and escrow (views, no copy); null when malformed. */
export function parseRingBlob(blob: Uint8Array): ParsedRingBlob | null {
  if (!(blob instanceof Uint8Array) || blob.length < 2) return null;
  const view = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const first = view[0]!;
  if (first < RING_V1) return { generation: 1, inner: view, escrow: null, legacy: true };
  if (first === RING_V1) {
    if (view.length < 6) return null;
    const generation = view.readUInt32BE(1);
    return generation < 1 ? null : { generation, inner: view.subarray(5), escrow: null, legacy: false };
  }
  if (first === RING_V1_ESCROW) {
    if (view.length < 10) return null;
    const generation = view.readUInt32BE(1);
    const innerLength = view.readUInt32BE(5);
    const escrowStart = 9 + innerLength;
    if (generation < 1 || innerLength < 1 || view.length < escrowStart + ESCROW_KEY_ID_BYTES + MIN_ESCROW_BYTES) return null;
    return {
      generation,
      inner: view.subarray(9, escrowStart),
      escrow: { keyId: view.subarray(escrowStart, escrowStart + ESCROW_KEY_ID_BYTES), sealed: view.subarray(escrowStart + ESCROW_KEY_ID_BYTES) },
      legacy: false,
    };
  }
  return null;
}
