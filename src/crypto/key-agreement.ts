// ECDH key agreement (AWS KMS DeriveSharedSecret, KeyAgreementAlgorithm ECDH). Spec: NIST SP 800-56A Rev. 3 §5.7.1.2
// (ECC CDH primitive), SEC 1 v2 §3.3.1; peer keys as SubjectPublicKeyInfo DER (RFC 5480).
// Invariants:
// - only the AWS KEY_AGREEMENT specs: ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521 (not secp256k1, not Ed25519);
// - our private key and the peer's public key must both be of the expected spec; the peer point must be on the curve
//   (checked by OpenSSL when parsing), else ValidationError;
// - the shared secret is the raw x coordinate of d·Q, as many bytes as the field (leading zeros kept), as SecretBytes;
//   no KDF is applied (AWS returns the raw secret too).
import { diffieHellman } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import { parsePrivateKey, parsePublicKey } from './key-pairs.js';
import { SecretBytes } from './secret-bytes.js';

const KEY_AGREEMENT_SPECS = ['ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521'] as const;

/** The key specs that may be used for ECDH (AWS KeyUsage KEY_AGREEMENT). */
export type KeyAgreementSpec = (typeof KEY_AGREEMENT_SPECS)[number];

/** True when `spec` is one of the {@link KeyAgreementSpec}s. Throws nothing. */
export function isKeyAgreementSpec(spec: unknown): spec is KeyAgreementSpec {
  return (KEY_AGREEMENT_SPECS as readonly unknown[]).includes(spec);
}

/**
 * The ECDH shared secret of our PKCS#8 DER `privateKey` of `spec` and the peer's SubjectPublicKeyInfo DER
 * `peerPublicKey` of the same spec.
 * @throws ValidationError (ERR_VALIDATION) when `spec` is not a key agreement spec, our key is not of `spec`, or the
 * peer key is not a SubjectPublicKeyInfo DER key of `spec` (another curve, a point not on the curve, garbage).
 */
export function ecdhSharedSecret(spec: KeyAgreementSpec, privateKey: SecretBytes, peerPublicKey: Uint8Array): SecretBytes {
  if (!isKeyAgreementSpec(spec)) {
    throw new ValidationError(`The key spec must be one of ${KEY_AGREEMENT_SPECS.join(', ')} for key agreement.`);
  }
  const ours = parsePrivateKey(spec, privateKey);
  const peer = parsePublicKey(spec, peerPublicKey);
  return SecretBytes.adopt(diffieHellman({ privateKey: ours, publicKey: peer }));
}
