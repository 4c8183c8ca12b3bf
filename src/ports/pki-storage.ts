/**
 * What the built-in CA (pki/certificate-authority.ts) needs of storage: its CA generations and the inventory of
 * every certificate it issued (PCI DSS v4.0 4.2.1.1: an inventory of trusted keys and certificates).
 * Invariants: storage is untrusted for secrets — a CA private key is stored only wrapped by the root of trust
 * (AAD binds the CA id), never in clear; certificates and CSRs are public data; a revocation is one conditional
 * UPDATE (only a certificate not yet revoked), so a certificate is revoked at most once and never un-revoked.
 */

export const CA_KINDS = ['root', 'intermediate'] as const;
/** `root`: self-signed by DataDefender; `intermediate`: certified by an operator's root from our CSR. */
export type CaKind = (typeof CA_KINDS)[number];

export const CA_STATES = ['pending', 'active', 'retired'] as const;
/** `pending`: an intermediate waiting for its certificate; `active`: the CA that signs; `retired`: replaced, still trusted until it expires. */
export type CaState = (typeof CA_STATES)[number];

export interface CertificateAuthorityRecord {
  id: string;
  kind: CaKind;
  state: CaState;
  commonName: string;
  /** The CA certificate (PEM); null while pending. */
  certPem: string | null;
  /** Certificates above the CA up to the operator's root (intermediate only), PEM; empty for a root CA. */
  chainPem: string;
  /** The certificate signing request (intermediate only). */
  csrPem: string | null;
  /** Wrapped by the root of trust: the PKCS#8 private key, or (pkcs11 root) a reference to the key pair inside the HSM. */
  wrappedKey: Uint8Array;
  notAfter: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const CERTIFICATE_PROFILES = ['server', 'client'] as const;
export type CertificateProfile = (typeof CERTIFICATE_PROFILES)[number];

export interface IssuedCertificateRecord {
  /** Serial number, lowercase hex. */
  serial: string;
  caId: string;
  profile: CertificateProfile;
  commonName: string;
  /** Subject alternative names as `dns:name` / `ip:addr`. */
  subjectAltNames: string[];
  /** The principal a client certificate is bound to (its id), else null. */
  principalId: string | null;
  /** SHA-256 of the certificate's DER, lowercase hex. */
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  certPem: string;
  revokedAt: Date | null;
  /** RFC 5280 §5.3.1 reason name, e.g. `keyCompromise`. */
  revocationReason: string | null;
  createdAt: Date;
}

export interface PkiStorage {
  /** @throws AlreadyExistsError when the id is taken */
  createCertificateAuthority(ca: CertificateAuthorityRecord): Promise<void>;
  /** Replaces state, certificate, chain and notAfter of a CA; false when it does not exist. */
  updateCertificateAuthority(id: string, patch: Pick<CertificateAuthorityRecord, 'state' | 'certPem' | 'chainPem' | 'notAfter' | 'updatedAt'>): Promise<boolean>;
  /** Every CA, oldest first. */
  listCertificateAuthorities(): Promise<CertificateAuthorityRecord[]>;
  /** @throws AlreadyExistsError when the serial is taken */
  createIssuedCertificate(certificate: IssuedCertificateRecord): Promise<void>;
  getIssuedCertificate(serial: string): Promise<IssuedCertificateRecord | undefined>;
  /** Issued certificates, newest first, at most `limit`. */
  listIssuedCertificates(options: { limit: number; caId?: string; revokedOnly?: boolean }): Promise<IssuedCertificateRecord[]>;
  /** Marks a certificate revoked; false when it does not exist or is already revoked. */
  revokeIssuedCertificate(serial: string, at: Date, reason: string): Promise<boolean>;
}
