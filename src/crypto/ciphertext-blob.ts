// The versioned ciphertext blob (DESIGN §2), sealed here or (blobSealingInput / blobOpeningInput) by an HSM.
// Format v1: [0x01 format version][16 bytes key id = UUID bytes][u32 BE key version][12 bytes IV][ciphertext][16 bytes tag]
// Cipher: AES-256-GCM (NIST SP 800-38D) with AAD = the 21 header bytes || encodeEncryptionContext(ec).
// Invariants:
// - the format byte comes first and the key id and version sit in the header, never after the ciphertext;
// - the whole header and the canonical encryption context are authenticated, so editing any byte, or presenting
//   a different context, fails;
// - the IV is random and generated inside aesGcmEncrypt; callers never supply it;
// - every parse or decrypt failure is InvalidCiphertextError with one fixed message.
import { InvalidCiphertextError, ValidationError } from '../errors/index.js';
import { aesGcmDecrypt, aesGcmEncrypt } from './aead.js';
import { encodeEncryptionContext, type EncryptionContext } from './encryption-context.js';
import type { SecretBytes } from './secret-bytes.js';

/** What the blob header says: which KMS key and which version of its material encrypted it. */
export interface BlobHeader {
  /** The KMS key id, a lower-case dashed UUID. */
  keyId: string;
  /** The key material version, an integer in [1, 2^32 - 1]. */
  version: number;
}

const FORMAT_V1 = 0x01;
const KEY_ID_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + 4; // 21
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32; // AES-256
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Bytes a v1 blob adds to the plaintext: 21 header + 12 IV + 16 tag = 49. */
export const BLOB_OVERHEAD = HEADER_BYTES + IV_BYTES + TAG_BYTES;

function encodeHeader(header: BlobHeader): Buffer {
  const { keyId, version } = header;
  if (typeof keyId !== 'string' || !UUID.test(keyId)) {
    throw new ValidationError('The blob key id must be a lower-case dashed UUID.');
  }
  if (!Number.isInteger(version) || version < 1 || version > 0xffffffff) {
    throw new ValidationError('The blob key version must be an integer between 1 and 4294967295.');
  }
  const out = Buffer.alloc(HEADER_BYTES);
  out[0] = FORMAT_V1;
  out.write(keyId.replace(/-/g, ''), 1, KEY_ID_BYTES, 'hex');
  out.writeUInt32BE(version, 1 + KEY_ID_BYTES);
  return out;
}

function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Encrypts `plaintext` under the AES-256 `key` of key `header.keyId`, version `header.version`, binding `ec`.
 * @throws ValidationError (ERR_VALIDATION) when the key is not 32 bytes, the key id is not a lower-case dashed UUID,
 * the version is not an integer in [1, 2^32 - 1], or `ec` is not a valid encryption context.
 */
export function encryptBlob(key: SecretBytes, header: BlobHeader, plaintext: Uint8Array, ec?: EncryptionContext): Buffer {
  if (key.length !== KEY_BYTES) throw new ValidationError('The blob key must be 32 bytes long (AES-256).');
  const head = encodeHeader(header);
  const { iv, ciphertext, tag } = aesGcmEncrypt(key, plaintext, Buffer.concat([head, encodeEncryptionContext(ec)]));
  return Buffer.concat([head, iv, ciphertext, tag]);
}

/**
 * Reads the (not yet authenticated) header of a blob, to find the key and version that can decrypt it.
 * @throws InvalidCiphertextError (ERR_INVALID_CIPHERTEXT) when the blob is shorter than {@link BLOB_OVERHEAD},
 * its format byte is not 0x01, or its version is 0.
 */
export function parseBlobHeader(blob: Uint8Array): BlobHeader {
  if (!(blob instanceof Uint8Array) || blob.length < BLOB_OVERHEAD || blob[0] !== FORMAT_V1) {
    throw new InvalidCiphertextError();
  }
  const b = view(blob);
  const version = b.readUInt32BE(1 + KEY_ID_BYTES);
  if (version === 0) throw new InvalidCiphertextError();
  const hex = b.toString('hex', 1, 1 + KEY_ID_BYTES);
  const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { keyId, version };
}

/**
 * Authenticates and decrypts a v1 blob with the 32-byte `key` of the key and version its header names.
 * The caller picks the key from {@link parseBlobHeader}; a wrong key fails like any other tampering.
 * @throws InvalidCiphertextError (ERR_INVALID_CIPHERTEXT) on any failure: malformed or truncated blob, wrong key,
 * edited byte, or an encryption context that differs from (or is not a valid context like) the one used to encrypt.
 */
export function decryptBlob(key: SecretBytes, blob: Uint8Array, ec?: EncryptionContext): Buffer {
  parseBlobHeader(blob);
  if (key.length !== KEY_BYTES) throw new InvalidCiphertextError();
  let context: Buffer;
  try {
    context = encodeEncryptionContext(ec);
  } catch {
    throw new InvalidCiphertextError();
  }
  const b = view(blob);
  const head = b.subarray(0, HEADER_BYTES);
  const iv = b.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
  const ciphertext = b.subarray(HEADER_BYTES + IV_BYTES, b.length - TAG_BYTES);
  const tag = b.subarray(b.length - TAG_BYTES);
  return aesGcmDecrypt(key, iv, ciphertext, tag, Buffer.concat([head, context]));
}

/**
 * For an AES-256-GCM engine outside this process (an HSM holding the key, core/hsm-keys.ts): the blob header and the
 * associated data to seal under. The engine must use a fresh 12-byte IV and a 16-byte tag; {@link blobFromSealed}
 * then assembles the same v1 blob {@link encryptBlob} produces, so Decrypt finds key and version in it.
 * @throws ValidationError (ERR_VALIDATION) as encryptBlob does for a bad header or encryption context.
 */
export function blobSealingInput(header: BlobHeader, ec?: EncryptionContext): { head: Buffer; aad: Buffer } {
  const head = encodeHeader(header);
  return { head, aad: Buffer.concat([head, encodeEncryptionContext(ec)]) };
}

/**
 * The v1 blob from `head` (blobSealingInput), the IV the engine used and its ciphertext || tag output.
 * @throws ValidationError (ERR_VALIDATION) when the IV is not 12 bytes or the output is shorter than a tag.
 */
export function blobFromSealed(head: Uint8Array, iv: Uint8Array, sealed: Uint8Array): Buffer {
  if (head.length !== HEADER_BYTES || iv.length !== IV_BYTES || sealed.length < TAG_BYTES) {
    throw new ValidationError('AES-GCM output does not fit the v1 ciphertext blob.');
  }
  return Buffer.concat([head, iv, sealed]);
}

/**
 * For an external AES-256-GCM engine: the header, IV, ciphertext || tag and associated data of a v1 blob.
 * @throws InvalidCiphertextError (ERR_INVALID_CIPHERTEXT) when the blob does not parse or `ec` is not a valid context.
 */
export function blobOpeningInput(blob: Uint8Array, ec?: EncryptionContext): { header: BlobHeader; iv: Buffer; sealed: Buffer; aad: Buffer } {
  const header = parseBlobHeader(blob);
  let context: Buffer;
  try {
    context = encodeEncryptionContext(ec);
  } catch {
    throw new InvalidCiphertextError();
  }
  const b = view(blob);
  return {
    header,
    iv: Buffer.from(b.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES)),
    sealed: Buffer.from(b.subarray(HEADER_BYTES + IV_BYTES)),
    aad: Buffer.concat([b.subarray(0, HEADER_BYTES), context]),
  };
}
