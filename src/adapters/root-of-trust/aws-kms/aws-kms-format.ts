// The bytes the aws-kms root of trust stores for wrapped key material, and the encryption context behind them.
//
// Format v1 (material of 1 to 4096 bytes, the limit of AWS KMS Encrypt):
//   [0x01][upstream CiphertextBlob]
//   The upstream Encrypt of the material itself, under the context { purpose: root-wrap, aad: H(aad) }.
// Format v2 (material of more than 4096 bytes, e.g. headroom for large private keys):
//   [0x02][upstream blob length, 2 bytes big-endian][upstream CiphertextBlob][crypto/key-wrap v1 output]
//   The upstream Encrypt of a fresh 256-bit data-encryption key under { purpose: root-wrap-dek, aad: H(aad) },
//   followed by the material wrapped locally under that key (AES-256-GCM, crypto/key-wrap) with AAD = 0x02 || aad.
//
// The encryption context (AWS KMS Encrypt/Decrypt `EncryptionContext`, authenticated by the upstream as AAD):
//   "datadefender:purpose": "root-wrap" | "root-wrap-dek"
//   "datadefender:aad":     base64url(SHA-256(caller aad)), no padding (43 characters)
// Why this shape: the upstream logs the context in clear (AWS CloudTrail records it on every Encrypt and Decrypt),
// so it carries no secret and no raw AAD — a fixed-length digest, which is also always valid UTF-8 whatever bytes
// the caller's AAD holds. The digest hides nothing from someone who can guess the AAD (it is a key id and version,
// not a secret); it is there to bind, not to conceal. The purpose value separates the two formats: a v1 blob
// (key material) can never be decrypted as a v2 data-encryption key, nor the reverse.
//
// Invariants: the version byte comes first and is checked before anything reaches the upstream; every parse failure
// is null (the adapter turns it into InvalidCiphertextError); an upstream blob is 1 to 6144 bytes (AWS KMS Decrypt's
// CiphertextBlob limit), so a blob the upstream would refuse as a ValidationException is refused here instead.
import { sha256 } from '../../../crypto/index.js';

export const FORMAT_DIRECT = 0x01;
export const FORMAT_ENVELOPE = 0x02;
/** AWS KMS Encrypt: Plaintext is 1 to 4096 bytes. */
export const MAX_DIRECT_PLAINTEXT = 4096;
/** AWS KMS Decrypt: CiphertextBlob is 1 to 6144 bytes. */
export const MAX_UPSTREAM_BLOB = 6144;
/** The data-encryption key of format v2: AES-256. */
export const DEK_BYTES = 32;

export const CONTEXT_PURPOSE = 'datadefender:purpose';
export const CONTEXT_AAD = 'datadefender:aad';
const PURPOSES = { [FORMAT_DIRECT]: 'root-wrap', [FORMAT_ENVELOPE]: 'root-wrap-dek' } as const;

export type Format = typeof FORMAT_DIRECT | typeof FORMAT_ENVELOPE;

/** The encryption context that binds an upstream ciphertext to the caller's AAD and to the format it serves. */
export function encryptionContextFor(format: Format, aad: Uint8Array): Record<string, string> {
  return { [CONTEXT_PURPOSE]: PURPOSES[format], [CONTEXT_AAD]: sha256(aad).toString('base64url') };
}

/** The AAD of format v2's local wrap: the version byte, then the caller's AAD. */
export function envelopeAad(aad: Uint8Array): Buffer {
  const out = Buffer.alloc(1 + aad.length);
  out[0] = FORMAT_ENVELOPE;
  out.set(aad, 1);
  return out;
}

export function encodeDirect(upstreamBlob: Uint8Array): Buffer {
  const out = Buffer.alloc(1 + upstreamBlob.length);
  out[0] = FORMAT_DIRECT;
  out.set(upstreamBlob, 1);
  return out;
}

export function encodeEnvelope(upstreamBlob: Uint8Array, localWrap: Uint8Array): Buffer {
  const out = Buffer.alloc(3 + upstreamBlob.length + localWrap.length);
  out[0] = FORMAT_ENVELOPE;
  out.writeUInt16BE(upstreamBlob.length, 1);
  out.set(upstreamBlob, 3);
  out.set(localWrap, 3 + upstreamBlob.length);
  return out;
}

export type ParsedWrap =
  | { format: typeof FORMAT_DIRECT; upstreamBlob: Uint8Array }
  | { format: typeof FORMAT_ENVELOPE; upstreamBlob: Uint8Array; localWrap: Uint8Array };

const blobLengthOk = (n: number) => n >= 1 && n <= MAX_UPSTREAM_BLOB;

/** Splits stored bytes into their parts (views, no copy), or null when they are not a well-formed v1 or v2. */
export function parseWrapped(wrapped: Uint8Array): ParsedWrap | null {
  if (!(wrapped instanceof Uint8Array) || wrapped.length < 2) return null;
  if (wrapped[0] === FORMAT_DIRECT) {
    const upstreamBlob = wrapped.subarray(1);
    return blobLengthOk(upstreamBlob.length) ? { format: FORMAT_DIRECT, upstreamBlob } : null;
  }
  if (wrapped[0] === FORMAT_ENVELOPE && wrapped.length > 3) {
    const n = (wrapped[1]! << 8) | wrapped[2]!;
    if (!blobLengthOk(n) || wrapped.length <= 3 + n) return null;
    return { format: FORMAT_ENVELOPE, upstreamBlob: wrapped.subarray(3, 3 + n), localWrap: wrapped.subarray(3 + n) };
  }
  return null;
}
