/**
 * End-entity certificates signed by a CA (server and, later, client certificates).
 *
 * Invariants:
 * - Signed with the issuer's key (in software or in the HSM, through `issuer.crypto`) using ECDSA-SHA256; the issuer name is the issuer certificate's subject, byte for
 *   byte, so path building matches it (RFC 5280 §4.1.2.4).
 * - basicConstraints CA:false (critical) and keyUsage digitalSignature only (critical): the subject key can never sign
 *   certificates or CRLs (RFC 5280 §4.2.1.9, §4.2.1.3).
 * - extendedKeyUsage names exactly the purposes asked for (§4.2.1.12).
 * - subjectKeyIdentifier is derived from the subject key; authorityKeyIdentifier repeats the issuer's
 *   subjectKeyIdentifier (or is derived from the issuer key when it has none) (§4.2.1.1, §4.2.1.2).
 * - A certificate never outlives its issuer: notAfter is clamped to the issuer's notAfter.
 * - The serial number is random (serial-number.ts).
 */
import { ValidationError } from '../errors/index.js';
import type { CertificateIssuer } from './certificate-issuer.js';
import { ECDSA_SHA256 } from './key-pair.js';
import { randomSerialNumber } from './serial-number.js';
import { earliest } from './validity.js';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  type Extension,
  type JsonGeneralNames,
} from './x509.js';

/** Extended key usage OIDs (RFC 5280 §4.2.1.12). */
export const EXTENDED_KEY_USAGE = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** One extended key usage OID from {@link EXTENDED_KEY_USAGE}. */
export type ExtendedKeyUsageOid = (typeof EXTENDED_KEY_USAGE)[keyof typeof EXTENDED_KEY_USAGE];

/** What to certify and for how long. */
export interface IssueCertificateParams {
  readonly issuer: CertificateIssuer;
  /** The subject's public key (ECDSA P-256). */
  readonly subjectPublicKey: CryptoKey;
  /** The subject CN: 1 to 64 characters (RFC 5280 ub-common-name). */
  readonly commonName: string;
  /** subjectAltName entries; omitted when empty. */
  readonly subjectAltNames?: JsonGeneralNames;
  readonly extendedKeyUsages: readonly ExtendedKeyUsageOid[];
  readonly notBefore: Date;
  /** Clamped to the issuer's notAfter. */
  readonly notAfter: Date;
}

/**
 * Issues an end-entity certificate and returns it as PEM.
 * @throws ValidationError (ERR_VALIDATION) when the common name is empty or longer than 64 characters, or when no
 *   extended key usage is given, or when the validity period is empty once clamped to the issuer's.
 */
export async function issueCertificate(params: IssueCertificateParams): Promise<string> {
  const { issuer } = params;
  if (params.commonName.length < 1 || params.commonName.length > 64) {
    throw new ValidationError('A certificate common name must have 1 to 64 characters.');
  }
  if (params.extendedKeyUsages.length === 0) throw new ValidationError('A certificate needs at least one extended key usage.');
  const notAfter = earliest(params.notAfter, issuer.certificate.notAfter);
  if (notAfter.getTime() <= params.notBefore.getTime()) {
    throw new ValidationError('The certificate validity period is empty (the issuer expires too soon).');
  }

  const issuerKeyId = issuer.certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  const extensions: Extension[] = [
    new BasicConstraintsExtension(false, undefined, true),
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
    new ExtendedKeyUsageExtension([...params.extendedKeyUsages], false),
    await SubjectKeyIdentifierExtension.create(params.subjectPublicKey),
    issuerKeyId
      ? new AuthorityKeyIdentifierExtension(issuerKeyId)
      : await AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey),
  ];
  if (params.subjectAltNames && params.subjectAltNames.length > 0) {
    extensions.push(new SubjectAlternativeNameExtension(params.subjectAltNames, false));
  }

  const certificate = await X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [{ CN: [params.commonName] }],
    issuer: issuer.certificate.subjectName,
    notBefore: params.notBefore,
    notAfter,
    publicKey: params.subjectPublicKey,
    signingKey: issuer.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions,
  }, issuer.crypto);
  return certificate.toString('pem');
}
