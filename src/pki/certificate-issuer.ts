/**
 * A certificate authority able to sign: its certificate and its private key, checked to belong together.
 *
 * Invariants:
 * - An issuer is only built from a certificate with basicConstraints CA:true and keyCertSign in keyUsage
 *   (RFC 5280 §4.2.1.9, §4.2.1.3).
 * - The private key must be the one certified: a mismatched pair is refused, never used to sign.
 * - The private key is imported non-extractable; the PEM stays with the caller.
 */
import { X509Certificate as NodeX509Certificate, createPrivateKey } from 'node:crypto';
import { InvalidStateError } from '../errors/index.js';
import { importEcdsaPrivateKeyPem } from './key-pair.js';
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, X509Certificate } from './x509.js';

/** A CA that can sign certificates. */
export interface CertificateIssuer {
  /** The CA certificate, parsed. */
  readonly certificate: X509Certificate;
  /** The CA certificate as PEM. */
  readonly certificatePem: string;
  /** The CA's signing key (ECDSA P-256, non-extractable; a handle for a key in an HSM). */
  readonly privateKey: CryptoKey;
  /** The WebCrypto that signs with `privateKey` (hsm-signing-key.ts for an HSM key); Node's when absent. */
  readonly crypto?: Crypto;
}

/**
 * Builds an issuer from a CA certificate PEM and its PKCS#8 private key PEM.
 * @throws InvalidStateError (ERR_INVALID_STATE) when the certificate or key cannot be parsed, the certificate is not
 *   a CA certificate allowed to sign certificates, or the key does not match the certificate.
 */
export async function loadCertificateIssuer(certificatePem: string, privateKeyPem: string): Promise<CertificateIssuer> {
  try {
    const nodeCertificate = new NodeX509Certificate(certificatePem);
    if (!nodeCertificate.ca) throw new Error('not a CA certificate');
    if (!nodeCertificate.checkPrivateKey(createPrivateKey(privateKeyPem))) throw new Error('key does not match');
    const certificate = new X509Certificate(certificatePem);
    const keyUsage = certificate.getExtension(KeyUsagesExtension);
    const basic = certificate.getExtension(BasicConstraintsExtension);
    if (!basic?.ca || !keyUsage || (keyUsage.usages & KeyUsageFlags.keyCertSign) === 0) throw new Error('may not sign');
    const privateKey = await importEcdsaPrivateKeyPem(privateKeyPem);
    return { certificate, certificatePem: certificate.toString('pem'), privateKey };
  } catch (cause) {
    throw new InvalidStateError('The CA certificate and key are unusable: unreadable, not a CA, or not a matching pair.', { cause });
  }
}
