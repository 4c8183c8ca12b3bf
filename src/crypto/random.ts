// Random bytes, secrets and identifiers.
// Invariants: every byte comes from the operating system's CSPRNG via node:crypto (never Math.random);
// sizes are validated before any allocation; key material is returned as SecretBytes, never as a bare Buffer.
// Spec: RFC 9562 §5.4 (UUID version 4) and §5.7 (UUID version 7).
import { randomBytes as nodeRandomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import { SecretBytes } from './secret-bytes.js';

/** The largest request node:crypto serves in one call (2^31 - 1 bytes). */
const MAX_RANDOM_BYTES = 2 ** 31 - 1;

function checkSize(n: number, min: number): void {
  if (!Number.isSafeInteger(n) || n < min || n > MAX_RANDOM_BYTES) {
    throw new ValidationError(`The number of random bytes must be an integer between ${min} and ${MAX_RANDOM_BYTES}.`);
  }
}

/**
 * Small requests (IVs, ids) are served from a pool refilled from the CSPRNG 4 KiB at a time: one RNG call per
 * ~340 IVs instead of one per IV. Every pooled byte is handed out once, copied, and zeroed in the pool.
 */
const POOL_BYTES = 4096;
const POOLED_MAX = 64;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

function fromPool(n: number): Buffer {
  if (poolOffset + n > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + n));
  pool.fill(0, poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

/**
 * `n` bytes from the CSPRNG, for values that are not secret keys (tokens, identifiers, IVs).
 * @throws ValidationError (ERR_VALIDATION) when `n` is not an integer in [0, 2^31 - 1].
 */
export function randomBytes(n: number): Buffer {
  checkSize(n, 0);
  return n <= POOLED_MAX ? fromPool(n) : nodeRandomBytes(n);
}

/**
 * `n` bytes of fresh key material from the CSPRNG, owned by the returned SecretBytes.
 * @throws ValidationError (ERR_VALIDATION) when `n` is not an integer in [1, 2^31 - 1].
 */
export function randomSecret(n: number): SecretBytes {
  checkSize(n, 1);
  return SecretBytes.adopt(nodeRandomBytes(n));
}

/** A random (version 4) UUID in lower-case dashed form, e.g. `1b4e28ba-2fa1-4d2c-883f-0016d3cca427`. Throws nothing. */
export function randomUuid(): string {
  return randomUUID();
}

/**
 * A time-ordered (version 7) UUID: 48 bits of Unix milliseconds, then 74 random bits (RFC 9562 §5.7). Used for
 * request ids: ids issued later sort later, so the audit trail's request-id index grows at its right edge instead
 * of touching a random page per event. Not for anything that must hide its creation time.
 */
export function timeOrderedUuid(nowMs: number = Date.now()): string {
  const b = fromPool(16);
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
