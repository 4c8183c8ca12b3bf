/**
 * Key pairs for certificates: ECDSA P-256 through WebCrypto, private keys stored as PKCS#8 PEM.
 *
 * Invariants:
 * - Every generated key is ECDSA over P-256 (NIST FIPS 186-5, RFC 5480); signatures use SHA-256.
 * - A private key PEM is accepted only if it is PKCS#8 and holds a P-256 ECDSA key; anything else throws.
 * - The returned PEM is the private key in clear: callers write it only to 0600 files.
 */
import { createPrivateKey } from 'node:crypto';

/** The key algorithm of every certificate key pki/ creates. */
export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const satisfies EcKeyImportParams;

/** The signature algorithm of every certificate pki/ signs: ECDSA with SHA-256 (RFC 5758 ecdsa-with-SHA256). */
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const satisfies EcdsaParams;

/** Generates an ECDSA P-256 key pair. The private key is extractable so that it can be written as PKCS#8. */
export async function generateEcdsaKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
}

/** Encodes a private key as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Throws if the key is not extractable. */
export async function exportPrivateKeyPem(privateKey: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', privateKey));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * Imports a PKCS#8 PEM holding an ECDSA P-256 private key, as a non-extractable signing key.
 * Throws (a plain Error from WebCrypto or the PEM decoder) when the PEM is not such a key.
 */
export async function importEcdsaPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey({ key: pem, format: 'pem' }).export({ type: 'pkcs8', format: 'der' });
  return crypto.subtle.importKey('pkcs8', der, ECDSA_P256, false, ['sign']);
}
