// MACs for the AWS KMS HMAC key specs (GenerateMac / VerifyMac; aws-kms-protocol.md §3). Spec: RFC 2104, FIPS 198-1.
// Invariants:
// - one table row per MacAlgorithmSpec says its hash, tag length, key spec and key lengths; an HMAC key spec allows
//   exactly its own algorithm;
// - tags are never truncated; verification recomputes the tag and compares it in constant time (hmac.ts);
// - key lengths follow AWS: generated keys are as long as the spec says (HMAC_256: 32 bytes), imported material
//   ranges over 28-64 / 32-64 / 48-128 / 64-128 bytes.
import { ValidationError } from '../errors/index.js';
import { constantTimeEqual, hmac, type HmacHash } from './hmac.js';
import type { SecretBytes } from './secret-bytes.js';

interface MacAlgorithmRow {
  hash: HmacHash;
  macBytes: number;
  keySpec: string;
  /** Length of generated key material. */
  keyBytes: number;
  /** Accepted lengths of imported key material. */
  importKeyBytes: readonly [min: number, max: number];
}

/** Everything about each AWS MacAlgorithmSpec (the table is also the allow-list). */
const MAC_ALGORITHMS = {
  HMAC_SHA_224: { hash: 'sha224', macBytes: 28, keySpec: 'HMAC_224', keyBytes: 28, importKeyBytes: [28, 64] },
  HMAC_SHA_256: { hash: 'sha256', macBytes: 32, keySpec: 'HMAC_256', keyBytes: 32, importKeyBytes: [32, 64] },
  HMAC_SHA_384: { hash: 'sha384', macBytes: 48, keySpec: 'HMAC_384', keyBytes: 48, importKeyBytes: [48, 128] },
  HMAC_SHA_512: { hash: 'sha512', macBytes: 64, keySpec: 'HMAC_512', keyBytes: 64, importKeyBytes: [64, 128] },
} as const satisfies Record<string, MacAlgorithmRow>;

/** The AWS MacAlgorithmSpec values. */
export type MacAlgorithm = keyof typeof MAC_ALGORITHMS;

/** The AWS HMAC key specs. */
export type HmacKeySpec = (typeof MAC_ALGORITHMS)[MacAlgorithm]['keySpec'];

/** Every {@link MacAlgorithm}, in table order. */
export const MAC_ALGORITHMS_LIST = Object.keys(MAC_ALGORITHMS) as readonly MacAlgorithm[];

/**
 * The row of `algorithm`: hash, tag length, key spec, generated and imported key lengths.
 * @throws ValidationError (ERR_VALIDATION) when the algorithm is unknown.
 */
export function macAlgorithm(algorithm: MacAlgorithm): Readonly<MacAlgorithmRow> {
  if (typeof algorithm !== 'string' || !Object.hasOwn(MAC_ALGORITHMS, algorithm)) {
    throw new ValidationError(`The MAC algorithm must be one of ${MAC_ALGORITHMS_LIST.join(', ')}.`);
  }
  return MAC_ALGORITHMS[algorithm];
}

/** The one MAC algorithm of an HMAC key spec, or `undefined` for any other spec. Throws nothing. */
export function macAlgorithmFor(spec: string): MacAlgorithm | undefined {
  return MAC_ALGORITHMS_LIST.find((alg) => MAC_ALGORITHMS[alg].keySpec === spec);
}

/**
 * The full-length MAC of `message` under `key` (AWS KMS GenerateMac).
 * @throws ValidationError (ERR_VALIDATION) when the algorithm is unknown.
 */
export function generateMac(algorithm: MacAlgorithm, key: SecretBytes, message: Uint8Array): Buffer {
  return hmac(macAlgorithm(algorithm).hash, key, message);
}

/**
 * True when `mac` is the MAC of `message` under `key` (AWS KMS VerifyMac; the caller raises InvalidMacError on
 * false). Compares in constant time; a MAC of another length is false.
 * @throws ValidationError (ERR_VALIDATION) when the algorithm is unknown.
 */
export function verifyMac(algorithm: MacAlgorithm, key: SecretBytes, message: Uint8Array, mac: Uint8Array): boolean {
  return constantTimeEqual(generateMac(algorithm, key, message), mac);
}
