/**
 * The TLS server certificate profile: a fresh ECDSA P-256 key, serverAuth, SANs for every host.
 *
 * Invariants:
 * - Every call makes a new key pair: a server key is never reused across certificates.
 * - SANs are exactly `hosts` (already normalized, see subject-alt-names.ts); the CN repeats the first host that fits
 *   in 64 characters, for humans only: clients match SANs.
 * - Validity is at most {@link SERVER_CERTIFICATE_VALIDITY_DAYS} days (CA/Browser Forum BR §6.3.2 allows 398) and never
 *   beyond the issuer's notAfter.
 */
import { ValidationError } from '../errors/index.js';
import type { CertificateIssuer } from './certificate-issuer.js';
import { EXTENDED_KEY_USAGE, issueCertificate } from './issue-certificate.js';
import { exportPrivateKeyPem, generateEcdsaKeyPair } from './key-pair.js';
import { subjectAltNames, type CertificateHost } from './subject-alt-names.js';
import { addDays, backdated } from './validity.js';

/** How long a server certificate is valid. */
export const SERVER_CERTIFICATE_VALIDITY_DAYS = 397;

/** A server certificate and its private key (PKCS#8), both PEM. */
export interface IssuedKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * Issues a server certificate for `hosts`, valid from `now` (backdated for clock skew) for 397 days.
 * @throws ValidationError (ERR_VALIDATION) when `hosts` is empty or the issuer expires before `now`.
 */
export async function issueServerCertificate(issuer: CertificateIssuer, hosts: readonly CertificateHost[], now: Date): Promise<IssuedKeyPair> {
  if (hosts.length === 0) throw new ValidationError('A server certificate needs at least one host.');
  const keys = await generateEcdsaKeyPair();
  const commonName = hosts.find((host) => host.value.length <= 64)?.value ?? 'localhost';
  const certPem = await issueCertificate({
    issuer,
    subjectPublicKey: keys.publicKey,
    commonName,
    subjectAltNames: subjectAltNames(hosts),
    extendedKeyUsages: [EXTENDED_KEY_USAGE.serverAuth],
    notBefore: backdated(now),
    notAfter: addDays(now, SERVER_CERTIFICATE_VALIDITY_DAYS),
  });
  return { certPem, keyPem: await exportPrivateKeyPem(keys.privateKey) };
}
