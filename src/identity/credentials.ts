/**
 * Credential formats. Invariants: tokens and secret access keys come from the CSPRNG with at least 256 bits;
 * a token is stored only as its SHA-256 hash; a secret access key only wrapped by the root of trust.
 */
import { randomBytes, sha256Hex } from '../crypto/index.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

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
  const secret = randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
  return { id, secret };
}

/** AAD binding a wrapped secret access key to its id. */
export function accessKeyAad(id: string): Buffer {
  return Buffer.from(`datadefender/access-key/v1/${id}`, 'utf8');
}
