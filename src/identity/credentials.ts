/**
 * Credential formats. Invariants: tokens (256 bits) and secret access keys (40 letters and digits, each drawn
 * uniformly: 238 bits) come from the CSPRNG; a token is stored only as its SHA-256 hash; a secret access key only
 * wrapped by the root of trust.
 */
import { randomBytes, sha256Hex } from '../crypto/index.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Bytes at or above this are rejected, so every character is equally likely (248 = 4 × 62). */
const UNBIASED_BELOW = 256 - (256 % ALPHANUMERIC.length);

/** `length` characters drawn uniformly from ALPHANUMERIC (rejection sampling). */
function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length)) if (b < UNBIASED_BELOW && out.length < length) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
  }
  return out;
}

/** A bearer token (`ddt_` + 43 base64url chars), its storage hash and its public accessor. */
export function newBearerToken(): { token: string; hash: string; accessor: string } {
  const token = `ddt_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token), accessor: randomBytes(12).toString('base64url') };
}

export function hashToken(token: string): string {
  return sha256Hex(token);
}

/** An AWS-style access key pair: 20-char id `DDAK...`, 40-char secret. */
export function newAccessKeyPair(): { id: string; secret: string } {
  const id = `DDAK${Array.from(randomBytes(16), (b) => BASE32[b & 31]).join('')}`;
  const secret = randomAlphanumeric(40);
  return { id, secret };
}

/** AAD binding a wrapped secret access key to its id. */
export function accessKeyAad(id: string): Buffer {
  return Buffer.from(`datadefender/access-key/v1/${id}`, 'utf8');
}
