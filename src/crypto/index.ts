// The public face of crypto/. aead-fixed-iv.ts is deliberately absent: callers never supply a nonce.
export { SecretBytes } from './secret-bytes.js';
export { randomBytes, randomSecret, randomUuid } from './random.js';
export { aesGcmEncrypt, aesGcmDecrypt, type AesGcmSealed } from './aead.js';
export { hmac, constantTimeEqual, type HmacHash } from './hmac.js';
export { hkdf } from './hkdf.js';
export { sha256, sha256Hex } from './hash.js';
export { encodeEncryptionContext, type EncryptionContext } from './encryption-context.js';
export { BLOB_OVERHEAD, encryptBlob, parseBlobHeader, decryptBlob, type BlobHeader } from './ciphertext-blob.js';
export { wrapKey, unwrapKey } from './key-wrap.js';
export { deriveSigV4SigningKey } from './sigv4-key.js';
