// Asymmetric signatures for the AWS KMS SigningAlgorithmSpec values (aws-kms-protocol.md §3, pitfall 6).
// Specs: RFC 8017 §8.1 (RSASSA-PSS), §8.2 (RSASSA-PKCS1-v1_5); SEC 1 v2 §4.1 and FIPS 186-5 §6 (ECDSA);
// RFC 8032 §5.1 (Ed25519, pure).
// Invariants:
// - one table row per algorithm is the allow-list and says everything about it: hash, digest length, scheme, and
//   the key specs that may use it (AWS pairs ECDSA_SHA_384 with P-384 only, and so on);
// - MessageType RAW: the message is hashed with the algorithm's hash, then signed; DIGEST: the message is that hash,
//   its length must be the hash length, and it is never hashed again; so Sign(RAW, m) verifies as
//   Verify(DIGEST, H(m)) and the other way round. ED25519_SHA_512 (pure Ed25519) takes RAW only;
// - RSA-PSS uses MGF1 with the same hash and a salt as long as the digest; ECDSA signatures are DER (r, s);
// - RAW signing and verifying run in OpenSSL; DIGEST mode uses rsa-digest.ts and ecdsa-digest.ts (see their notes:
//   DIGEST-mode ECDSA signing does BigInt arithmetic on the private key, which is not constant time);
// - verify returns false for every wrong or malformed signature and throws only for a caller error (unknown
//   algorithm or message type, a key that cannot use the algorithm, a digest of the wrong length).
import { sign as nodeSign, verify as nodeVerify, constants, type KeyObject } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import { decodeEcdsaSignature, ecdsaSignDigest, ecdsaVerifyDigest, type EcdsaCurve } from './ecdsa-digest.js';
import { parsePrivateKeyAnySpec, parsePublicKeyAnySpec, type AsymmetricKeySpec } from './key-pairs.js';
import { pkcs1SignDigest, pkcs1VerifyDigest, pssSignDigest, pssVerifyDigest } from './rsa-digest.js';
import type { SecretBytes } from './secret-bytes.js';

/** How the message of Sign and Verify is given (AWS MessageType; EXTERNAL_MU is for ML-DSA, not supported). */
export type MessageType = 'RAW' | 'DIGEST';

type Hash = 'sha256' | 'sha384' | 'sha512';
type Scheme = 'rsa-pss' | 'rsa-pkcs1' | 'ecdsa' | 'ed25519';

interface SigningAlgorithmRow {
  scheme: Scheme;
  hash: Hash;
  digestBytes: number;
  /** node:crypto padding for RSA (RAW mode). */
  padding?: number;
  keySpecs: readonly AsymmetricKeySpec[];
}

const RSA_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
const PSS = constants.RSA_PKCS1_PSS_PADDING;
const PKCS1 = constants.RSA_PKCS1_PADDING;

/** Everything about each signing algorithm (the table is also the allow-list). */
const SIGNING_ALGORITHMS = {
  RSASSA_PSS_SHA_256: { scheme: 'rsa-pss', hash: 'sha256', digestBytes: 32, padding: PSS, keySpecs: RSA_SPECS },
  RSASSA_PSS_SHA_384: { scheme: 'rsa-pss', hash: 'sha384', digestBytes: 48, padding: PSS, keySpecs: RSA_SPECS },
  RSASSA_PSS_SHA_512: { scheme: 'rsa-pss', hash: 'sha512', digestBytes: 64, padding: PSS, keySpecs: RSA_SPECS },
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: 'rsa-pkcs1', hash: 'sha256', digestBytes: 32, padding: PKCS1, keySpecs: RSA_SPECS },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: 'rsa-pkcs1', hash: 'sha384', digestBytes: 48, padding: PKCS1, keySpecs: RSA_SPECS },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: 'rsa-pkcs1', hash: 'sha512', digestBytes: 64, padding: PKCS1, keySpecs: RSA_SPECS },
  ECDSA_SHA_256: { scheme: 'ecdsa', hash: 'sha256', digestBytes: 32, keySpecs: ['ECC_NIST_P256', 'ECC_SECG_P256K1'] },
  ECDSA_SHA_384: { scheme: 'ecdsa', hash: 'sha384', digestBytes: 48, keySpecs: ['ECC_NIST_P384'] },
  ECDSA_SHA_512: { scheme: 'ecdsa', hash: 'sha512', digestBytes: 64, keySpecs: ['ECC_NIST_P521'] },
  ED25519_SHA_512: { scheme: 'ed25519', hash: 'sha512', digestBytes: 64, keySpecs: ['ECC_NIST_EDWARDS25519'] },
} as const satisfies Record<string, SigningAlgorithmRow>;

/** The AWS SigningAlgorithmSpec values supported (not ED25519_PH_SHA_512, SM2DSA or ML_DSA_SHAKE_256). */
export type SigningAlgorithm = keyof typeof SIGNING_ALGORITHMS;

/** Every {@link SigningAlgorithm}, in table order. */
export const SIGNING_ALGORITHMS_LIST = Object.keys(SIGNING_ALGORITHMS) as readonly SigningAlgorithm[];

/** The signing algorithms a key of `spec` may use, in table order (AWS KeyMetadata.SigningAlgorithms). */
export function signingAlgorithmsFor(spec: AsymmetricKeySpec): SigningAlgorithm[] {
  return SIGNING_ALGORITHMS_LIST.filter((alg) => (SIGNING_ALGORITHMS[alg].keySpecs as readonly string[]).includes(spec));
}

/** How a scheme signs and verifies a digest (DIGEST mode; RAW mode runs in OpenSSL). */
interface DigestOps {
  sign(row: SigningAlgorithmRow, key: KeyObject, digest: Uint8Array): Buffer;
  verify(row: SigningAlgorithmRow, key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean;
}

interface SchemeOps {
  /** Absent: the scheme takes RAW messages only. */
  digest?: DigestOps;
  /** Extra strictness before OpenSSL sees a RAW-mode signature (false = reject). */
  wellFormed?: (key: KeyObject, signature: Uint8Array) => boolean;
}

const curveOf = (key: KeyObject): EcdsaCurve => key.asymmetricKeyDetails?.namedCurve as EcdsaCurve;

const SCHEMES: Record<Scheme, SchemeOps> = {
  'rsa-pss': {
    digest: {
      sign: (row, key, digest) => pssSignDigest(row.hash, key, digest),
      verify: (row, key, digest, sig) => pssVerifyDigest(row.hash, key, digest, sig),
    },
  },
  'rsa-pkcs1': {
    digest: {
      sign: (row, key, digest) => pkcs1SignDigest(row.hash, key, digest),
      verify: (row, key, digest, sig) => pkcs1VerifyDigest(row.hash, key, digest, sig),
    },
  },
  ecdsa: {
    digest: {
      sign: (_row, key, digest) => ecdsaSignDigest(curveOf(key), key, digest),
      verify: (_row, key, digest, sig) => ecdsaVerifyDigest(curveOf(key), key, digest, sig),
    },
    wellFormed: (key, sig) => decodeEcdsaSignature(curveOf(key), sig) !== undefined,
  },
  ed25519: {},
};

function rowOf(algorithm: SigningAlgorithm): SigningAlgorithmRow {
  if (typeof algorithm !== 'string' || !Object.hasOwn(SIGNING_ALGORITHMS, algorithm)) {
    throw new ValidationError(`The signing algorithm must be one of ${SIGNING_ALGORITHMS_LIST.join(', ')}.`);
  }
  return SIGNING_ALGORITHMS[algorithm];
}

function checkKeySpec(algorithm: SigningAlgorithm, row: SigningAlgorithmRow, spec: AsymmetricKeySpec): void {
  if (!row.keySpecs.includes(spec)) {
    throw new ValidationError(`Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
  }
}

/** The DIGEST-mode operations of the row, after the message type and digest-length checks. */
function digestOps(algorithm: SigningAlgorithm, row: SigningAlgorithmRow, digest: Uint8Array): DigestOps {
  const ops = SCHEMES[row.scheme].digest;
  if (ops === undefined) throw new ValidationError(`The message type DIGEST is not valid for algorithm ${algorithm}.`);
  if (digest.length !== row.digestBytes) throw new ValidationError(`Digest is invalid length for algorithm ${algorithm}.`);
  return ops;
}

function checkMessageType(messageType: MessageType): void {
  if (messageType !== 'RAW' && messageType !== 'DIGEST') {
    throw new ValidationError('The message type must be RAW or DIGEST.');
  }
}

/** node:crypto sign/verify options for RAW mode: PSS salt length = digest length; ECDSA in DER. */
function nodeKeyOptions(row: SigningAlgorithmRow, key: KeyObject) {
  return { key, padding: row.padding, saltLength: row.digestBytes, dsaEncoding: 'der' as const };
}

/**
 * Signs `message` with the PKCS#8 DER `privateKey` (AWS KMS Sign).
 * RAW: `message` is hashed with the algorithm's hash; DIGEST: `message` is that hash.
 * @throws ValidationError (ERR_VALIDATION) when the algorithm or message type is unknown, the key is not a PKCS#8 key
 * of a spec that may use the algorithm, DIGEST is used with ED25519_SHA_512, or a digest has the wrong length
 * (`Digest is invalid length for algorithm <ALG>.`).
 */
export function sign(
  algorithm: SigningAlgorithm,
  privateKey: SecretBytes,
  message: Uint8Array,
  messageType: MessageType,
): Buffer {
  const row = rowOf(algorithm);
  checkMessageType(messageType);
  const { key, spec } = parsePrivateKeyAnySpec(privateKey);
  checkKeySpec(algorithm, row, spec);
  if (messageType === 'DIGEST') return digestOps(algorithm, row, message).sign(row, key, message);
  return nodeSign(row.scheme === 'ed25519' ? null : row.hash, message, nodeKeyOptions(row, key));
}

/**
 * Verifies `signature` over `message` with the SubjectPublicKeyInfo DER `publicKey` (AWS KMS Verify).
 * Returns false when the signature is wrong or malformed (the caller raises InvalidSignatureError).
 * @throws ValidationError (ERR_VALIDATION) when the algorithm or message type is unknown, the key is not a
 * SubjectPublicKeyInfo of a spec that may use the algorithm, DIGEST is used with ED25519_SHA_512, or a digest has the
 * wrong length (`Digest is invalid length for algorithm <ALG>.`).
 */
export function verify(
  algorithm: SigningAlgorithm,
  publicKey: Uint8Array,
  message: Uint8Array,
  messageType: MessageType,
  signature: Uint8Array,
): boolean {
  const row = rowOf(algorithm);
  checkMessageType(messageType);
  const { key, spec } = parsePublicKeyAnySpec(publicKey);
  checkKeySpec(algorithm, row, spec);
  if (messageType === 'DIGEST') return digestOps(algorithm, row, message).verify(row, key, message, signature);
  if (SCHEMES[row.scheme].wellFormed?.(key, signature) === false) return false;
  // OpenSSL returns false (node does not throw) for a wrong, short, long or out-of-range signature
  return nodeVerify(row.scheme === 'ed25519' ? null : row.hash, message, nodeKeyOptions(row, key), signature);
}

