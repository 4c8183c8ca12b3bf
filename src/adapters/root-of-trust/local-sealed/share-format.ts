// The text form of one unseal share, as handed to an operator.
//
// Format v1:  dds1.<seal>.<generation>.<payload>
//   seal        the first 8 hex digits of the seal id (shares of another seal are recognized and refused)
//   generation  the share set (1 at init, +1 per rekey), decimal (shares replaced by a rekey are recognized)
//   payload     base64url, no padding, of 37 bytes: the Shamir share (32 bytes of y, then the x coordinate, 1..255,
//               as the shamir-secret-sharing library lays it out) and a 4-byte checksum, the first bytes of
//               SHA-256("dds1.<seal>.<generation>." || share)
//
// Invariants: the checksum only catches typing and copying mistakes — it is computed from the share alone, so it
// tells nothing to anyone who does not hold the share, and it proves nothing (a wrong share with a right checksum is
// caught by the GCM tag of the sealed root); parse errors never repeat any part of the share's secret bytes.
import { sha256 } from '../../../crypto/index.js';
import { ValidationError } from '../../../errors/index.js';

const PREFIX = 'dds1';
export const UNSEAL_KEY_BYTES = 32;
/** y (one byte per byte of the unseal key) and x. */
export const SHARE_BYTES = UNSEAL_KEY_BYTES + 1;
const CHECKSUM_BYTES = 4;
const PAYLOAD_CHARS = Math.ceil(((SHARE_BYTES + CHECKSUM_BYTES) * 4) / 3);
const SEAL_PREFIX = /^[0-9a-f]{8}$/;
const GENERATION = /^[1-9][0-9]{0,14}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A share as parsed from its text: `bytes` is y || x and is owned by the caller, who zeroes it. */
export interface ParsedShare {
  sealPrefix: string;
  generation: number;
  bytes: Buffer;
}

/** The 8 hex digits that name a seal in its shares. Throws nothing. */
export function sealPrefixOf(sealId: string): string {
  return sealId.replace(/-/g, '').slice(0, 8).toLowerCase();
}

const checksum = (header: string, share: Uint8Array): Buffer =>
  sha256(Buffer.concat([Buffer.from(header, 'utf8'), share])).subarray(0, CHECKSUM_BYTES);

/**
 * The text of one share of seal `sealId`, share set `generation`.
 * @throws ValidationError (ERR_VALIDATION) when `share` is not 33 bytes with an x coordinate in 1..255.
 */
export function encodeShare(sealId: string, generation: number, share: Uint8Array): string {
  if (share.length !== SHARE_BYTES || share[SHARE_BYTES - 1] === 0) throw new ValidationError('An unseal share must be 33 bytes with a non-zero x coordinate.');
  const header = `${PREFIX}.${sealPrefixOf(sealId)}.${generation}.`;
  const payload = Buffer.concat([share, checksum(header, share)]);
  const text = header + payload.toString('base64url');
  payload.fill(0);
  return text;
}

/**
 * Parses the text of a share (surrounding white space is ignored).
 * @throws ValidationError (ERR_VALIDATION) when it is not a v1 share or its checksum does not match (a mistyped share).
 */
export function parseShare(text: string): ParsedShare {
  if (typeof text !== 'string') throw new ValidationError('An unseal share must be a string.');
  const parts = text.trim().split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX) {
    throw new ValidationError(`This is not a DataDefender unseal share (they look like "${PREFIX}.<seal>.<set>.<data>").`);
  }
  const [, sealPrefix = '', generationText = '', payloadText = ''] = parts;
  if (!SEAL_PREFIX.test(sealPrefix) || !GENERATION.test(generationText) || payloadText.length !== PAYLOAD_CHARS || !BASE64URL.test(payloadText)) {
    throw new ValidationError('The unseal share is malformed; check that it was copied whole.');
  }
  const payload = Buffer.from(payloadText, 'base64url');
  const header = `${PREFIX}.${sealPrefix}.${generationText}.`;
  const bytes = Buffer.from(payload.subarray(0, SHARE_BYTES));
  const ok =
    payload.length === SHARE_BYTES + CHECKSUM_BYTES &&
    payload.toString('base64url') === payloadText &&
    bytes[SHARE_BYTES - 1] !== 0 &&
    checksum(header, bytes).equals(payload.subarray(SHARE_BYTES));
  payload.fill(0);
  if (!ok) {
    bytes.fill(0);
    throw new ValidationError('The unseal share is mistyped or damaged: its checksum does not match. Check that it was copied exactly.');
  }
  return { sealPrefix, generation: Number(generationText), bytes };
}
