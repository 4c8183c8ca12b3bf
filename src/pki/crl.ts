/**
 * Certificate revocation lists of the built-in CA (RFC 5280 §5).
 *
 * Invariants:
 * - Signed by the CA's own key (in software or in the HSM, through `issuer.crypto`) with ECDSA-SHA256; the issuer name is the CA certificate's subject byte for byte.
 * - Carries the cRLNumber (§5.2.3, strictly increasing: the signing time in seconds, never lower than a previous
 *   one of the same process) and authorityKeyIdentifier (§5.2.1) extensions, and a nextUpdate (§5.1.2.5):
 *   {@link CRL_VALIDITY_MS} after thisUpdate; the CA reissues it long before then, and on every revocation.
 * - Every revoked certificate of the CA appears, with its revocation date and reason, until the CA expires.
 */
import type { CertificateIssuer } from './certificate-issuer.js';
import { ECDSA_SHA256 } from './key-pair.js';
import { AuthorityKeyIdentifierExtension, Extension, SubjectKeyIdentifierExtension, X509CrlGenerator, X509CrlReason } from './x509.js';

/** How long a CRL is valid for. */
export const CRL_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

/** RFC 5280 §5.3.1 reason codes the CLI accepts. */
export const REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
  reason: string;
}

const CRL_NUMBER_OID = '2.5.29.20';

/** DER INTEGER of a non-negative safe integer. */
function derInteger(value: number): Uint8Array<ArrayBuffer> {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  const body = Buffer.from(hex, 'hex');
  return new Uint8Array(Buffer.concat([Buffer.from([0x02, body.length]), body]));
}

let lastNumber = 0;

/** Signs a CRL listing `revoked`, valid from `now`. Returns DER and PEM. */
export async function createCrl(issuer: CertificateIssuer, revoked: readonly RevokedEntry[], now: Date): Promise<{ der: Buffer; pem: string; nextUpdate: Date }> {
  const number = Math.max(Math.floor(now.getTime() / 1000), lastNumber + 1);
  lastNumber = number;
  const keyId = issuer.certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  const nextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
  const crl = await X509CrlGenerator.create({
    issuer: issuer.certificate.subjectName,
    thisUpdate: now,
    nextUpdate,
    signingKey: issuer.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new Extension(CRL_NUMBER_OID, false, derInteger(number)),
      keyId ? new AuthorityKeyIdentifierExtension(keyId) : await AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey),
    ],
    entries: revoked.map((r) => ({
      serialNumber: r.serial,
      revocationDate: r.revokedAt,
      reason: (X509CrlReason as unknown as Record<string, number>)[r.reason] ?? X509CrlReason.unspecified,
    })),
  }, issuer.crypto);
  const der = Buffer.from(crl.rawData);
  // OpenSSL reads only the RFC 7468 label `X509 CRL` (the library writes `CRL`).
  const base64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return { der, pem: `-----BEGIN X509 CRL-----\n${base64}-----END X509 CRL-----\n`, nextUpdate };
}
