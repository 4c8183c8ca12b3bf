/**
 * An intermediate CA under an operator's existing root: DataDefender makes the key and a PKCS#10 request; the
 * operator's root signs it; DataDefender checks what comes back before it signs anything with it.
 *
 * Invariants:
 * - The request carries basicConstraints CA:true pathLen 0 and keyUsage keyCertSign + cRLSign as requested
 *   extensions; the operator's CA decides what it certifies, and the checks below refuse anything unfit.
 * - An installed certificate must: be a CA certificate allowed to sign certificates, certify exactly our key, and
 *   chain (issuer name and signature, certificate by certificate) through `chainPem` to a self-signed root.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import type { SigningKey } from './hsm-signing-key.js';
import { ECDSA_SHA256, exportPrivateKeyPem, generateEcdsaKeyPair } from './key-pair.js';
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, Pkcs10CertificateRequestGenerator, X509Certificate } from './x509.js';

/** A fresh intermediate key and its certificate request. */
export async function createIntermediateRequest(commonName: string): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await generateEcdsaKeyPair();
  const csrPem = await createIntermediateRequestFor(commonName, keys.publicKey, { privateKey: keys.privateKey, crypto: globalThis.crypto });
  return { csrPem, keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** The certificate request (PEM) of an existing intermediate key pair: `signing` may be a key in an HSM. */
export async function createIntermediateRequestFor(commonName: string, publicKey: CryptoKey, signing: SigningKey): Promise<string> {
  const csr = await Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName] }],
    keys: { publicKey, privateKey: signing.privateKey },
    signingAlgorithm: ECDSA_SHA256,
    extensions: [new BasicConstraintsExtension(true, 0, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)],
  }, signing.crypto);
  return csr.toString('pem');
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in order. */
export function splitPemBundle(pem: string): string[] {
  return pem.match(PEM_BLOCK) ?? [];
}

/**
 * Checks an intermediate certificate signed by the operator's root against our (non-extractable) key and its chain.
 * @throws ValidationError (ERR_VALIDATION) with the first reason it is unfit.
 */
export async function checkIntermediateCertificate(certPem: string, chainPem: string, key: SigningKey): Promise<{ notAfter: Date }> {
  let certificate: X509Certificate;
  let child: NodeX509Certificate;
  let chain: NodeX509Certificate[];
  try {
    certificate = new X509Certificate(certPem);
    child = new NodeX509Certificate(certPem);
    chain = splitPemBundle(chainPem).map((pem) => new NodeX509Certificate(pem));
  } catch {
    throw new ValidationError('The certificate and the chain must be PEM-encoded X.509 certificates.');
  }
  const keyUsage = certificate.getExtension(KeyUsagesExtension);
  if (!child.ca || !certificate.getExtension(BasicConstraintsExtension)?.ca || !keyUsage || (keyUsage.usages & KeyUsageFlags.keyCertSign) === 0) {
    throw new ValidationError('The certificate is not a CA certificate allowed to sign certificates.');
  }
  // It must certify our key, which never leaves: sign a challenge with it, verify with the certified public key.
  const challenge = new TextEncoder().encode('datadefender intermediate key check');
  let matches = false;
  try {
    const signature = await key.crypto.subtle.sign(ECDSA_SHA256, key.privateKey, challenge);
    const publicKey = await certificate.publicKey.export({ name: 'ECDSA', namedCurve: 'P-256' }, ['verify']);
    matches = await crypto.subtle.verify(ECDSA_SHA256, publicKey, signature, challenge);
  } catch {
    matches = false;
  }
  if (!matches) throw new ValidationError('The certificate does not certify the pending intermediate key.');
  if (chain.length === 0) throw new ValidationError('Give the chain up to the root (at least the certificate that signed the intermediate).');
  for (const parent of chain) {
    if (!parent.ca || !child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new ValidationError(`The chain is broken at ${parent.subject.replace(/\n/g, ', ')}.`);
    }
    child = parent;
  }
  if (!(child.checkIssued(child) && child.verify(child.publicKey))) throw new ValidationError('The chain must end with a self-signed root.');
  return { notAfter: certificate.notAfter };
}
