// The public face of crypto/. aead-fixed-iv.ts is deliberately absent: callers never supply a nonce.
export { SecretBytes } from './secret-bytes.js';
export { randomBytes, randomSecret, randomUuid, timeOrderedUuid } from './random.js';
export { aesGcmEncrypt, aesGcmDecrypt, type AesGcmSealed } from './aead.js';
export { hmac, constantTimeEqual, type HmacHash } from './hmac.js';
export { hkdf } from './hkdf.js';
export { sha256, sha256Hex } from './hash.js';
export { encodeEncryptionContext, type EncryptionContext } from './encryption-context.js';
export { BLOB_OVERHEAD, encryptBlob, parseBlobHeader, decryptBlob, blobSealingInput, blobFromSealed, blobOpeningInput, type BlobHeader } from './ciphertext-blob.js';
export { wrapKey, unwrapKey } from './key-wrap.js';
export { deriveSigV4SigningKey } from './sigv4-key.js';
export {
  ASYMMETRIC_KEY_SPECS,
  generateKeyPair,
  isAsymmetricKeySpec,
  parsePrivateKey,
  parsePublicKey,
  publicKeyFromPrivate,
  type AsymmetricKeySpec,
  type KeyPair,
} from './key-pairs.js';
export {
  SIGNING_ALGORITHMS_LIST,
  sign,
  signingAlgorithmsFor,
  verify,
  type MessageType,
  type SigningAlgorithm,
} from './signatures.js';
export { rsaOaepDecrypt, rsaOaepEncrypt, rsaOaepMaxPlaintext, type RsaOaepAlgorithm } from './rsa-oaep.js';
export { ecdhSharedSecret, isKeyAgreementSpec, type KeyAgreementSpec } from './key-agreement.js';
export {
  MAC_ALGORITHMS_LIST,
  generateMac,
  macAlgorithm,
  macAlgorithmFor,
  verifyMac,
  type HmacKeySpec,
  type MacAlgorithm,
} from './mac.js';
export { generateDataKeyPair, sharedSecretForCaller } from './caller-secrets.js';
export {
  aesKeyWrapPadUnwrap,
  decodeImportParameters,
  encodeImportParameters,
  isWrappingAlgorithm,
  sameKeyMaterial,
  unwrapImportedMaterial,
  type WrappingAlgorithm,
} from './import-unwrap.js';
export {
  MIN_ESCROW_BYTES,
  RECOVERY_KEY_BYTES,
  deriveEscrowAuthKey,
  escrowOpen,
  escrowSeal,
  generateRecoveryKeyPair,
  recoveryPublicKey,
} from './recovery-escrow.js';
export { isPemCertificate } from './certificate-pem.js';
