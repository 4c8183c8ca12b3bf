/**
 * The break-glass recovery key's Shamir shares (shamir-secret-sharing, GF(2^8), as the local-sealed unseal shares)
 * and their text form for custodians.
 *
 * Format v1:  ddr1.<key>.<payload>
 *   key      8 hex digits: the start of SHA-256 of the recovery public key (shares of another recovery key are refused)
 *   payload  base64url, no padding, of 37 bytes: the share (32 bytes of y, then the x coordinate 1..255) and a 4-byte
 *            checksum, the first bytes of SHA-256("ddr1.<key>." || share) — it catches typing mistakes, proves nothing
 *
 * Invariants: threshold >= 2 and threshold <= shares <= 255 (one custodian alone never holds the key); the split is
 * checked to recombine before any share leaves; combining refuses too few shares, duplicates (same x), shares of
 * another key, and any set that does not reconstruct the private key of the stored public key (a wrong share) — with
 * messages that never repeat share bytes; every buffer holding a share or the key is zeroed after use.
 */
import { combine, split } from 'shamir-secret-sharing';
import { RECOVERY_KEY_BYTES, SecretBytes, constantTimeEqual, recoveryPublicKey, sha256 } from '../crypto/index.js';
import { InternalError, ValidationError } from '../errors/index.js';

const PREFIX = 'ddr1';
const SHARE_BYTES = RECOVERY_KEY_BYTES + 1;
const CHECKSUM_BYTES = 4;
const PAYLOAD_CHARS = Math.ceil(((SHARE_BYTES + CHECKSUM_BYTES) * 4) / 3);
const KEY_TAG = /^[0-9a-f]{8}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
export const MAX_RECOVERY_SHARES = 255;

/** The 8 hex digits naming a recovery key in its shares. */
export function recoveryKeyTag(publicKey: Uint8Array): string {
  return sha256(publicKey).subarray(0, 4).toString('hex');
}

const checksum = (header: string, share: Uint8Array): Buffer => sha256(Buffer.concat([Buffer.from(header, 'utf8'), share])).subarray(0, CHECKSUM_BYTES);

/** @throws ValidationError unless 2 <= threshold <= shares <= 255. */
export function validateRecoveryShareOptions(options: { shares: number; threshold: number }): { shares: number; threshold: number } {
  const { shares, threshold } = options ?? ({} as { shares: number; threshold: number });
  if (!Number.isInteger(shares) || shares < 2 || shares > MAX_RECOVERY_SHARES) {
    throw new ValidationError(`The number of recovery shares must be an integer between 2 and ${MAX_RECOVERY_SHARES}.`);
  }
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > shares) {
    throw new ValidationError(`The recovery threshold must be an integer between 2 and the number of shares (${shares}).`);
  }
  return { shares, threshold };
}

function encode(tag: string, share: Uint8Array): string {
  const header = `${PREFIX}.${tag}.`;
  const payload = Buffer.concat([share, checksum(header, share)]);
  const text = header + payload.toString('base64url');
  payload.fill(0);
  return text;
}

/** Parses one share's text. @throws ValidationError for anything but a well-formed v1 recovery share. */
export function parseRecoveryShare(text: string): { tag: string; bytes: Buffer } {
  if (typeof text !== 'string') throw new ValidationError('A recovery share must be a string.');
  const parts = text.trim().split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) {
    throw new ValidationError(`This is not a DataDefender recovery share (they look like "${PREFIX}.<key>.<data>").`);
  }
  const [, tag = '', payloadText = ''] = parts;
  if (!KEY_TAG.test(tag) || payloadText.length !== PAYLOAD_CHARS || !BASE64URL.test(payloadText)) {
    throw new ValidationError('The recovery share is malformed; check that it was copied whole.');
  }
  const payload = Buffer.from(payloadText, 'base64url');
  const bytes = Buffer.from(payload.subarray(0, SHARE_BYTES));
  const ok =
    payload.length === SHARE_BYTES + CHECKSUM_BYTES &&
    payload.toString('base64url') === payloadText &&
    bytes[SHARE_BYTES - 1] !== 0 &&
    checksum(`${PREFIX}.${tag}.`, bytes).equals(payload.subarray(SHARE_BYTES));
  payload.fill(0);
  if (!ok) {
    bytes.fill(0);
    throw new ValidationError('The recovery share is mistyped or damaged: its checksum does not match. Check that it was copied exactly.');
  }
  return { tag, bytes };
}

/**
 * Splits the recovery private key into `shares` texts, `threshold` of which reconstruct it.
 * @throws ValidationError for options out of range; InternalError if the split fails its self-check.
 */
export async function splitRecoveryKey(privateKey: SecretBytes, options: { shares: number; threshold: number }): Promise<string[]> {
  const { shares, threshold } = validateRecoveryShareOptions(options);
  const publicKey = recoveryPublicKey(privateKey);
  const tag = recoveryKeyTag(publicKey);
  const copy = new Uint8Array(privateKey.reveal());
  let parts: Uint8Array[];
  try {
    parts = await split(copy, shares, threshold);
  } finally {
    copy.fill(0);
  }
  const texts = parts.map((p) => encode(tag, p));
  for (const p of parts) p.fill(0);
  // Self-check: windows of `threshold` shares covering every share reconstruct the key.
  for (let i = 0; i < shares; i += threshold) {
    const start = Math.min(i, shares - threshold);
    const recovered = await combineRecoveryShares(texts.slice(start, start + threshold), { publicKey, threshold }).catch(() => null);
    const same = recovered !== null && constantTimeEqual(recovered.reveal(), privateKey.reveal());
    recovered?.destroy();
    if (!same) throw new InternalError({ cause: new Error('recovery shares do not recombine') });
  }
  return texts;
}

/**
 * Reconstructs the recovery private key from share texts and checks it against `publicKey` (the stored one).
 * @throws ValidationError (ERR_VALIDATION) for too few, malformed, duplicate or foreign shares, or shares that do not
 * reconstruct the key of `publicKey`.
 */
export async function combineRecoveryShares(texts: readonly string[], expected: { publicKey: Uint8Array; threshold: number }): Promise<SecretBytes> {
  if (!Array.isArray(texts)) throw new ValidationError('The recovery shares must be a list of strings.');
  const tag = recoveryKeyTag(expected.publicKey);
  if (texts.length < expected.threshold) {
    throw new ValidationError(`Recovery needs ${expected.threshold} recovery shares; ${texts.length} were given.`);
  }
  const parsed: Buffer[] = [];
  try {
    for (const text of texts) {
      const share = parseRecoveryShare(text);
      parsed.push(share.bytes);
      if (share.tag !== tag) throw new ValidationError(`A recovery share belongs to another recovery key (${share.tag}); this deployment's is ${tag}.`);
    }
    const xs = new Set(parsed.map((b) => b[SHARE_BYTES - 1]));
    if (xs.size !== parsed.length) throw new ValidationError('The same recovery share was given twice; give different shares.');
    const copies = parsed.map((b) => new Uint8Array(b));
    let secret: Uint8Array;
    try {
      secret = await combine(copies);
    } catch {
      throw new ValidationError('The recovery shares cannot be combined; check that each was copied exactly.');
    } finally {
      for (const c of copies) c.fill(0);
    }
    const key = SecretBytes.adopt(Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength));
    let matches = false;
    try {
      matches = key.length === RECOVERY_KEY_BYTES && constantTimeEqual(recoveryPublicKey(key), expected.publicKey);
    } catch {
      matches = false;
    }
    if (!matches) {
      key.destroy();
      throw new ValidationError(
        `The ${texts.length} recovery shares given do not reconstruct the recovery key: at least one of them is wrong (which one cannot be told).`,
      );
    }
    return key;
  } finally {
    for (const b of parsed) b.fill(0);
  }
}
