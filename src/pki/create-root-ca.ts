/**
 * Self-signed root CA certificates.
 *
 * Invariants:
 * - The key pair is fresh ECDSA P-256 (made here, or in the HSM by the caller); the certificate is signed with
 *   ECDSA-SHA256.
 * - basicConstraints CA:true is critical (RFC 5280 §4.2.1.9); keyUsage is keyCertSign + cRLSign only and critical
 *   (§4.2.1.3), so the CA key cannot serve as a TLS key.
 * - The serial number is random (serial-number.ts); the subjectKeyIdentifier is the SHA-1 of the public key
 *   (§4.2.1.2 method 1), which leaf certificates repeat as their authorityKeyIdentifier.
 */
import type { SigningKey } from './hsm-signing-key.js';
import { exportPrivateKeyPem, generateEcdsaKeyPair, ECDSA_SHA256 } from './key-pair.js';
import { randomSerialNumber } from './serial-number.js';
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from './x509.js';

/** What a new root CA looks like. */
export interface RootCaParams {
  /** The subject and issuer CN. */
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Largest number of intermediate CAs below this one; 0 lets it sign end-entity certificates only. */
  readonly pathLength?: number;
}

/** A new root CA: the certificate and its private key (PKCS#8), both PEM. */
export interface RootCa {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Creates a self-signed root CA with a fresh ECDSA P-256 key. Throws only on a WebCrypto failure. */
export async function createRootCa(params: RootCaParams): Promise<RootCa> {
  const keys = await generateEcdsaKeyPair();
  const certPem = await createRootCaCertificate(params, keys.publicKey, { privateKey: keys.privateKey, crypto: globalThis.crypto });
  return { certPem, keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/**
 * The self-signed root CA certificate of an existing key pair (PEM): `signing` may be a key in an HSM.
 * Throws what the signer throws (DependencyError from the HSM).
 */
export async function createRootCaCertificate(params: RootCaParams, publicKey: CryptoKey, signing: SigningKey): Promise<string> {
  const keys = { publicKey, privateKey: signing.privateKey };
  const certificate = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [params.commonName] }],
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new BasicConstraintsExtension(true, params.pathLength, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  }, signing.crypto);
  return certificate.toString('pem');
}
