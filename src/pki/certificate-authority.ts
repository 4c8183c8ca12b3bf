/**
 * The built-in CA as use cases: init (root, or an intermediate under an operator's root), issue server and client
 * certificates, revoke, list, status (the inventory of PCI DSS 4.2.1.1), the CRL, and the server's own certificate.
 *
 * Invariants:
 * - Every operation but the CRL (public by design, RFC 5280 §5) runs through the operation runner: authorized as
 *   `datadefender:<Operation>` (administrators; the renewal job as `system` for RenewServerCertificate only) and
 *   audited, an attempt recorded before any change; issuance and revocation events carry serial and fingerprint.
 * - With an HSM (`signingKeys`, the pkcs11 root) a new CA's key pair is generated and used inside it and the CA row
 *   holds only a wrapped reference; otherwise the CA private key is stored only wrapped by the root of trust
 *   (ca-key.ts) and in memory it is a non-extractable WebCrypto key, forgotten when the root is sealed (`forget`).
 *   Both kinds load, whatever the root is now. An HSM key signs only if its public key is the certified one.
 * - One CA is `active` (it signs); replaced CAs are `retired` and stay trusted (TLS bundle, CRL) until they expire.
 * - A client certificate is bound to one principal: issuing maps its fingerprint to the principal
 *   (identity/client-certificates.ts); revoking removes the mapping at once, so a revoked certificate stops
 *   authenticating at its next request even where the handshake does not check the CRL.
 * - Generated private keys are returned once to the caller and never stored; a caller may send a CSR instead.
 * - Short lifetimes by default: 30 days for server and client certificates (at most 397), CA 5 years.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { randomUuid } from '../crypto/index.js';
import { ConflictError, InvalidStateError, NotFoundError, ValidationError } from '../errors/index.js';
import type { RunOperation } from '../core/audited-operation.js';
import type { RequestContext } from '../core/request-context.js';
import type { Clock } from '../ports/clock.js';
import type { CertificateAuthorityRecord, IssuedCertificateRecord, PkiStorage } from '../ports/pki-storage.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { SigningKeyStore } from '../ports/signing-key-store.js';
import type { Storage } from '../ports/storage.js';
import { generateHsmCaKey, openCaKey, wrapCaKey, wrapCaKeyReference } from './ca-key.js';
import { loadCertificateIssuer, type CertificateIssuer } from './certificate-issuer.js';
import { createRootCa, createRootCaCertificate } from './create-root-ca.js';
import { createCrl, REVOCATION_REASONS } from './crl.js';
import { checkIntermediateCertificate, createIntermediateRequest, createIntermediateRequestFor } from './intermediate-ca.js';
import { EXTENDED_KEY_USAGE, issueCertificate } from './issue-certificate.js';
import { ECDSA_P256, exportPrivateKeyPem, generateEcdsaKeyPair } from './key-pair.js';
import { normalizeHost, serverCertificateHosts, subjectAltNames, type CertificateHost } from './subject-alt-names.js';
import { addDays, backdated } from './validity.js';
import { Pkcs10CertificateRequest, X509Certificate } from './x509.js';

export const DEFAULT_CERTIFICATE_DAYS = 30;
export const MAX_CERTIFICATE_DAYS = 397;
export const DEFAULT_CA_DAYS = 5 * 365;
const INVENTORY_LIMIT = 10_000;
const MAX_PEM_CHARS = 16_384;

type CaStorage = PkiStorage & Pick<Storage, 'getPrincipalByName' | 'getPrincipal' | 'createClientCertificate' | 'deleteClientCertificate'>;

export interface CertificateAuthorityDeps {
  storage: CaStorage;
  root: RootOfTrust;
  /** Where new CA keys are generated and used (the pkcs11 root's token); absent: software keys wrapped by `root`. */
  signingKeys?: SigningKeyStore;
  run: RunOperation;
  clock: Clock;
}

export interface InitCaRequest {
  kind: 'root' | 'intermediate';
  commonName: string;
  /** Root CA lifetime in days. */
  validityDays?: number;
  /**
   * Internal: take over an existing file-based root CA (the bootstrap or pre-#7 dev CA), so clients that trust its
   * certificate keep working; its key is then stored only wrapped and the caller removes the key file. Ignored when
   * CA keys live in an HSM: a key that was in a file cannot become HSM-resident, so a new CA is made there (the
   * caller still removes the key file, and serves and publishes the new CA certificate).
   */
  adopt?: { certPem: string; keyPem: string };
}

export interface IssueRequest {
  profile: 'server' | 'client';
  /** Server: DNS names and IP addresses (at least one). */
  hosts?: string[];
  /** Client: the principal the certificate authenticates as. */
  principal?: string;
  validityDays?: number;
  /** A PKCS#10 request holding the subject's ECDSA P-256 public key; without it a key pair is generated and returned once. */
  csrPem?: string;
}

/** A certificate the server presents: leaf followed by the CA chain, its key, and when it was issued. */
export interface ServerTlsCertificate {
  certPem: string;
  keyPem: string;
  serial: string;
  issuedAt: Date;
  notAfter: Date;
}

/** What TLS listeners trust for client certificates: every unexpired CA (with chains) and their CRLs. */
export interface ClientTrust {
  caPem: string;
  crlPems: string[];
  withCrls: boolean;
}

export const caView = (ca: CertificateAuthorityRecord) => ({
  id: ca.id,
  kind: ca.kind,
  state: ca.state,
  commonName: ca.commonName,
  notAfter: ca.notAfter?.toISOString() ?? null,
  createdAt: ca.createdAt.toISOString(),
  ...(ca.certPem ? { certificatePem: ca.certPem } : {}),
  ...(ca.csrPem && ca.state === 'pending' ? { csrPem: ca.csrPem } : {}),
});

export const certificateView = (c: IssuedCertificateRecord, principal?: string) => ({
  serial: c.serial,
  profile: c.profile,
  commonName: c.commonName,
  subjectAltNames: c.subjectAltNames,
  ...(principal ? { principal } : {}),
  fingerprint: c.fingerprint,
  notBefore: c.notBefore.toISOString(),
  notAfter: c.notAfter.toISOString(),
  status: c.revokedAt ? 'revoked' : 'valid',
  ...(c.revokedAt ? { revokedAt: c.revokedAt.toISOString(), revocationReason: c.revocationReason } : {}),
});

const ddAction = (operation: string) => `datadefender:${operation}`;
/** PEM blocks joined one per line, ending with a newline (OpenSSL and PostgreSQL refuse a glued `-----END...-----BEGIN`). */
const pemJoin = (...parts: string[]) => `${parts.map((p) => p.trim()).filter((p) => p !== '').join('\n')}\n`;
const fingerprintOf = (pem: string) => new NodeX509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

function checkDays(days: number | undefined, fallback: number, max: number): number {
  const value = days ?? fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new ValidationError(`The validity must be 1 to ${max} days.`);
  return value;
}

function checkCommonName(name: string): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 64 || /[\u0000-\u001f]/.test(name)) {
    throw new ValidationError('A CA common name must have 1 to 64 printable characters.');
  }
  return name;
}

/** A WebCrypto verifying key from SubjectPublicKeyInfo DER (an HSM key's public half). */
const importPublicKey = (spki: Uint8Array): Promise<CryptoKey> => crypto.subtle.importKey('spki', new Uint8Array(spki), ECDSA_P256, true, ['verify']);

async function publicKeyFromCsr(csrPem: string): Promise<CryptoKey> {
  let csr: Pkcs10CertificateRequest;
  try {
    if (csrPem.length > MAX_PEM_CHARS) throw new Error('too long');
    csr = new Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new ValidationError('The certificate request must be one PEM-encoded PKCS#10 request.');
  }
  if (!(await csr.verify())) throw new ValidationError('The certificate request is not signed by its own key.');
  try {
    return await csr.publicKey.export({ name: 'ECDSA', namedCurve: 'P-256' }, ['verify']);
  } catch {
    throw new ValidationError('The certificate request must hold an ECDSA P-256 public key.');
  }
}

export function createCertificateAuthority(deps: CertificateAuthorityDeps) {
  const { storage, root, signingKeys, run, clock } = deps;
  const issuers = new Map<string, Promise<CertificateIssuer>>();
  const crls = new Map<string, { der: Buffer; pem: string; nextUpdate: Date }>();
  const listeners = new Set<() => void>();
  const changed = () => {
    crls.clear();
    for (const listener of listeners) listener();
  };

  const authorities = () => storage.listCertificateAuthorities();
  const activeCa = async (): Promise<CertificateAuthorityRecord> => {
    const active = (await authorities()).filter((ca) => ca.state === 'active').at(-1);
    if (!active?.certPem) throw new InvalidStateError('The built-in CA is not initialized: run datadefender pki init.');
    return active;
  };
  const issuerOf = (ca: CertificateAuthorityRecord): Promise<CertificateIssuer> => {
    let issuer = issuers.get(ca.id);
    if (!issuer) {
      issuer = (async () => {
        const key = await openCaKey(root, signingKeys, ca.id, ca.wrappedKey);
        const certificate = new X509Certificate(ca.certPem!);
        if (key.hsmPublicKey && !Buffer.from(certificate.publicKey.rawData).equals(key.hsmPublicKey)) {
          throw new InvalidStateError('The CA certificate does not certify the CA key in the HSM.');
        }
        return { certificate, certificatePem: ca.certPem!, privateKey: key.privateKey, crypto: key.crypto };
      })();
      issuer.catch(() => issuers.delete(ca.id));
      issuers.set(ca.id, issuer);
    }
    return issuer;
  };
  const chainOf = (ca: CertificateAuthorityRecord) => pemJoin(ca.certPem ?? '', ca.chainPem);

  /** Signs one end-entity certificate with the active CA and records it in the inventory. */
  const sign = async (params: {
    profile: 'server' | 'client';
    commonName: string;
    sans: CertificateHost[];
    principalId: string | null;
    days: number;
    publicKey: CryptoKey;
  }) => {
    const ca = await activeCa();
    const issuer = await issuerOf(ca);
    const now = clock.now();
    const certPem = pemJoin(await issueCertificate({
      issuer,
      subjectPublicKey: params.publicKey,
      commonName: params.commonName,
      ...(params.sans.length > 0 ? { subjectAltNames: subjectAltNames(params.sans) } : {}),
      extendedKeyUsages: [params.profile === 'server' ? EXTENDED_KEY_USAGE.serverAuth : EXTENDED_KEY_USAGE.clientAuth],
      notBefore: backdated(now),
      notAfter: addDays(now, params.days),
    }));
    const parsed = new X509Certificate(certPem);
    const record: IssuedCertificateRecord = {
      serial: parsed.serialNumber.toLowerCase(),
      caId: ca.id,
      profile: params.profile,
      commonName: params.commonName,
      subjectAltNames: params.sans.map((h) => `${h.type}:${h.value}`),
      principalId: params.principalId,
      fingerprint: fingerprintOf(certPem),
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      certPem,
      revokedAt: null,
      revocationReason: null,
      createdAt: now,
    };
    return { ca, record, chainPem: chainOf(ca) };
  };

  const crlFor = async (ca: CertificateAuthorityRecord) => {
    const cached = crls.get(ca.id);
    const now = clock.now();
    // Reissued when half its validity has passed, so a relying party never holds an expired one.
    if (cached && cached.nextUpdate.getTime() - now.getTime() > 3.5 * 86_400_000) return cached;
    const revoked = (await storage.listIssuedCertificates({ limit: INVENTORY_LIMIT, caId: ca.id, revokedOnly: true })).map((c) => ({
      serial: c.serial,
      revokedAt: c.revokedAt!,
      reason: c.revocationReason ?? 'unspecified',
    }));
    const crl = await createCrl(await issuerOf(ca), revoked, now);
    crls.set(ca.id, crl);
    return crl;
  };

  return {
    /** Called after every change of what TLS listeners must trust (a new CA, a revocation). */
    onChange(listener: () => void): void {
      listeners.add(listener);
    },

    /** Drops unwrapped CA keys (call when the root of trust is sealed). */
    forget(): void {
      issuers.clear();
    },

    /**
     * Creates a root CA (active at once; a previous active CA is retired) or a pending intermediate whose CSR the
     * operator's root signs.
     * @throws ValidationError, ConflictError (an intermediate is already pending), AccessDeniedError
     */
    init(ctx: RequestContext, request: InitCaRequest) {
      return run(ctx, 'InitCertificateAuthority', { readOnly: false, action: ddAction('InitCertificateAuthority') }, async (op) => {
        await op.authorize(null);
        const commonName = checkCommonName(request.commonName);
        if (request.kind !== 'root' && request.kind !== 'intermediate') throw new ValidationError('The CA kind must be root or intermediate.');
        const existing = await authorities();
        if (request.kind === 'intermediate' && existing.some((ca) => ca.state === 'pending')) {
          throw new ConflictError('An intermediate CA is already waiting for its certificate: install it first.');
        }
        const now = clock.now();
        const id = randomUuid();
        Object.assign(op.details, { caId: id, kind: request.kind, commonName });
        op.details.keyStorage = signingKeys ? signingKeys.kind : 'wrapped';
        const days = request.kind === 'root' ? checkDays(request.validityDays, DEFAULT_CA_DAYS, 20 * 365) : 0;
        let record: CertificateAuthorityRecord;
        const hsm = signingKeys ? await generateHsmCaKey(signingKeys, id) : undefined;
        try {
          if (request.kind === 'root') {
            const params = { commonName, notBefore: backdated(now), notAfter: addDays(now, days), pathLength: 0 };
            let certPem: string;
            let wrappedKey: Uint8Array;
            if (hsm) {
              certPem = await createRootCaCertificate(params, await importPublicKey(hsm.reference.publicKey), hsm.key);
              wrappedKey = await wrapCaKeyReference(root, id, hsm.reference);
            } else {
              const created = request.adopt ?? (await createRootCa(params));
              if (request.adopt) {
                await loadCertificateIssuer(request.adopt.certPem, request.adopt.keyPem);
                op.details.adopted = true;
              }
              certPem = created.certPem;
              wrappedKey = await wrapCaKey(root, id, created.keyPem);
            }
            record = {
              id, kind: 'root', state: 'active', commonName, certPem: pemJoin(certPem), chainPem: '', csrPem: null,
              wrappedKey, notAfter: new Date(new NodeX509Certificate(certPem).validTo), createdAt: now, updatedAt: now,
            };
            op.details.fingerprint = fingerprintOf(certPem);
          } else {
            let csrPem: string;
            let wrappedKey: Uint8Array;
            if (hsm) {
              csrPem = await createIntermediateRequestFor(commonName, await importPublicKey(hsm.reference.publicKey), hsm.key);
              wrappedKey = await wrapCaKeyReference(root, id, hsm.reference);
            } else {
              const created = await createIntermediateRequest(commonName);
              csrPem = created.csrPem;
              wrappedKey = await wrapCaKey(root, id, created.keyPem);
            }
            record = {
              id, kind: 'intermediate', state: 'pending', commonName, certPem: null, chainPem: '', csrPem,
              wrappedKey, notAfter: null, createdAt: now, updatedAt: now,
            };
          }
          await op.beforeChange();
          await storage.createCertificateAuthority(record);
        } catch (err) {
          // Nothing refers to the new HSM key: leave no orphan in the token (best effort; the error is what counts).
          if (hsm && signingKeys) await signingKeys.destroy(hsm.reference.label).catch(() => false);
          throw err;
        }
        if (record.state === 'active') await retireOthers(existing, id, now);
        changed();
        return caView(record);
      });
    },

    /**
     * Installs the operator-signed certificate of the pending intermediate; it becomes the active CA.
     * @throws NotFoundError (none pending), ValidationError (unfit certificate or chain)
     */
    installIntermediate(ctx: RequestContext, certificatePem: string, chainPem: string) {
      return run(ctx, 'InitCertificateAuthority', { readOnly: false, action: ddAction('InitCertificateAuthority') }, async (op) => {
        await op.authorize(null);
        const existing = await authorities();
        const pending = existing.find((ca) => ca.state === 'pending');
        if (!pending) throw new NotFoundError('No intermediate CA is waiting for its certificate.');
        if (typeof certificatePem !== 'string' || typeof chainPem !== 'string' || certificatePem.length + chainPem.length > 8 * MAX_PEM_CHARS) {
          throw new ValidationError('Give the certificate and its chain as PEM.');
        }
        const key = await openCaKey(root, signingKeys, pending.id, pending.wrappedKey);
        const { notAfter } = await checkIntermediateCertificate(certificatePem, chainPem, key);
        const now = clock.now();
        Object.assign(op.details, { caId: pending.id, kind: 'intermediate', fingerprint: fingerprintOf(certificatePem) });
        await op.beforeChange();
        await storage.updateCertificateAuthority(pending.id, { state: 'active', certPem: pemJoin(certificatePem), chainPem: pemJoin(chainPem), notAfter, updatedAt: now });
        await retireOthers(existing, pending.id, now);
        changed();
        return caView({ ...pending, state: 'active', certPem: certificatePem, chainPem, notAfter });
      });
    },

    /**
     * Issues a server certificate (hosts) or a client certificate bound to a principal (mapped for mTLS).
     * @throws ValidationError, NotFoundError (principal), InvalidStateError (no CA), AccessDeniedError
     */
    issue(ctx: RequestContext, request: IssueRequest) {
      return run(ctx, 'IssueCertificate', { readOnly: false, action: ddAction('IssueCertificate') }, async (op) => {
        const principal = request.profile === 'client' ? await principalNamed(request.principal) : undefined;
        await op.authorize(null);
        if (request.profile !== 'server' && request.profile !== 'client') throw new ValidationError('The profile must be server or client.');
        const days = checkDays(request.validityDays, DEFAULT_CERTIFICATE_DAYS, MAX_CERTIFICATE_DAYS);
        const sans = request.profile === 'server' ? serverHosts(request.hosts) : [];
        const generated = request.csrPem === undefined ? await generateEcdsaKeyPair() : undefined;
        const publicKey = generated ? generated.publicKey : await publicKeyFromCsr(request.csrPem!);
        const commonName = principal ? principal.name : sans[0]!.value.slice(0, 64);
        const { record, chainPem } = await sign({ profile: request.profile, commonName, sans, principalId: principal?.id ?? null, days, publicKey });
        Object.assign(op.details, { profile: record.profile, serial: record.serial, fingerprint: record.fingerprint, notAfter: record.notAfter.toISOString(), ...(principal ? { principal: principal.arn } : {}) });
        await op.beforeChange();
        await storage.createIssuedCertificate(record);
        if (principal) {
          await storage.createClientCertificate({ fingerprint: record.fingerprint, principalId: principal.id, subject: `CN=${record.commonName}`, notAfter: record.notAfter, createdAt: record.createdAt });
        }
        return {
          certificate: certificateView(record, principal?.name),
          certificatePem: record.certPem,
          chainPem,
          ...(generated ? { privateKeyPem: await exportPrivateKeyPem(generated.privateKey) } : {}),
        };
      });
    },

    /**
     * Revokes a certificate: listed in the CRL from now on, and a client certificate's mapping is removed.
     * @throws NotFoundError, ConflictError (already revoked), ValidationError (reason)
     */
    revoke(ctx: RequestContext, serial: string, reason = 'unspecified') {
      return run(ctx, 'RevokeCertificate', { readOnly: false, action: ddAction('RevokeCertificate') }, async (op) => {
        await op.authorize(null);
        if (!(REVOCATION_REASONS as readonly string[]).includes(reason)) throw new ValidationError(`The reason must be one of ${REVOCATION_REASONS.join(', ')}.`);
        const normalized = typeof serial === 'string' ? serial.replace(/:/g, '').toLowerCase() : '';
        const record = /^[0-9a-f]{1,40}$/.test(normalized) ? await storage.getIssuedCertificate(normalized) : undefined;
        if (!record) throw new NotFoundError(`No certificate with serial ${String(serial).slice(0, 64)} was issued here.`);
        Object.assign(op.details, { serial: record.serial, fingerprint: record.fingerprint, profile: record.profile, reason });
        await op.beforeChange();
        if (!(await storage.revokeIssuedCertificate(record.serial, clock.now(), reason))) throw new ConflictError(`Certificate ${record.serial} is already revoked.`);
        if (record.profile === 'client') await storage.deleteClientCertificate(record.fingerprint);
        changed();
        return certificateView({ ...record, revokedAt: clock.now(), revocationReason: reason });
      });
    },

    /** Every issued certificate, newest first. */
    list(ctx: RequestContext) {
      return run(ctx, 'ListCertificates', { readOnly: true, action: ddAction('ListCertificates') }, async (op) => {
        await op.authorize(null);
        return listViews();
      });
    },

    /**
     * The inventory (PCI DSS 4.2.1.1): every CA and every certificate with its expiry, plus the certificate the
     * server presents now.
     */
    status(ctx: RequestContext, serving: () => { serial: string; notAfter: Date; renewAt: Date | null; source: string } | undefined) {
      return run(ctx, 'GetPkiStatus', { readOnly: true, whileSealed: true, action: ddAction('GetPkiStatus') }, async (op) => {
        await op.authorize(null);
        const now = clock.now();
        const daysLeft = (d: Date | null) => (d ? Math.floor((d.getTime() - now.getTime()) / 86_400_000) : null);
        const cas = (await authorities()).map((ca) => ({ ...caView(ca), certificatePem: undefined, csrPem: undefined, daysLeft: daysLeft(ca.notAfter) }));
        const certificates = (await listViews()).map((c) => ({ ...c, daysLeft: daysLeft(new Date(c.notAfter)), expired: new Date(c.notAfter) <= now }));
        const current = serving();
        return {
          authorities: cas,
          certificates,
          serverCertificate: current
            ? { serial: current.serial, source: current.source, notAfter: current.notAfter.toISOString(), renewAt: current.renewAt?.toISOString() ?? null, daysLeft: daysLeft(current.notAfter) }
            : null,
        };
      });
    },

    /** The active CA's CRL (DER and PEM); public. @throws InvalidStateError (no CA), SealedError */
    async crl(): Promise<{ der: Buffer; pem: string }> {
      return crlFor(await activeCa());
    },

    /**
     * CA certificates (with chains) and CRLs of every unexpired, initialized CA; empty when there is none.
     * `withCrls` is false when an intermediate's chain leads to an operator's root whose CRL is not held here.
     * @throws SealedError (the CRLs need the CA keys)
     */
    async clientTrust(): Promise<ClientTrust> {
      const cas = await trusted();
      const crlPems: string[] = [];
      for (const ca of cas) crlPems.push((await crlFor(ca)).pem);
      return { caPem: cas.map(chainOf).join(''), crlPems, withCrls: cas.every((ca) => ca.kind === 'root') };
    },

    /** The PEM bundle of every unexpired, initialized CA with its chain (what clients and relying parties trust). */
    async caBundle(): Promise<string> {
      return (await trusted()).map(chainOf).join('');
    },

    /** Whether an active CA exists. */
    async initialized(): Promise<boolean> {
      return (await authorities()).some((ca) => ca.state === 'active');
    },

    /**
     * Issues the certificate the server presents (a fresh P-256 key each time), as the renewal job, audited.
     * @throws InvalidStateError (no CA), SealedError
     */
    issueServerCertificate(ctx: RequestContext, hosts: string[], lifetimeSeconds: number): Promise<ServerTlsCertificate> {
      return run(ctx, 'RenewServerCertificate', { readOnly: false, action: ddAction('RenewServerCertificate') }, async (op) => {
        await op.authorize(null);
        const keys = await generateEcdsaKeyPair();
        const sans = serverCertificateHosts(hosts);
        const ca = await activeCa();
        const issuer = await issuerOf(ca);
        const now = clock.now();
        const certPem = await issueCertificate({
          issuer,
          subjectPublicKey: keys.publicKey,
          commonName: sans[0]!.value.slice(0, 64),
          subjectAltNames: subjectAltNames(sans),
          extendedKeyUsages: [EXTENDED_KEY_USAGE.serverAuth],
          notBefore: backdated(now),
          notAfter: new Date(now.getTime() + lifetimeSeconds * 1000),
        });
        const parsed = new X509Certificate(certPem);
        const record: IssuedCertificateRecord = {
          serial: parsed.serialNumber.toLowerCase(), caId: ca.id, profile: 'server', commonName: sans[0]!.value.slice(0, 64),
          subjectAltNames: sans.map((h) => `${h.type}:${h.value}`), principalId: null, fingerprint: fingerprintOf(certPem),
          notBefore: parsed.notBefore, notAfter: parsed.notAfter, certPem, revokedAt: null, revocationReason: null, createdAt: now,
        };
        Object.assign(op.details, { profile: 'server', serial: record.serial, fingerprint: record.fingerprint, notAfter: record.notAfter.toISOString() });
        await op.beforeChange();
        await storage.createIssuedCertificate(record);
        return { certPem: pemJoin(certPem, chainOf(ca)), keyPem: await exportPrivateKeyPem(keys.privateKey), serial: record.serial, issuedAt: now, notAfter: record.notAfter };
      });
    },
  };

  async function trusted() {
    const now = clock.now();
    return (await authorities()).filter((ca) => ca.certPem && ca.state !== 'pending' && ca.notAfter && ca.notAfter > now);
  }

  async function listViews() {
    const records = await storage.listIssuedCertificates({ limit: INVENTORY_LIMIT });
    const names = new Map<string, string>();
    for (const id of new Set(records.map((r) => r.principalId).filter((id): id is string => id !== null))) {
      const principal = await storage.getPrincipal(id);
      names.set(id, principal?.name ?? `(deleted ${id})`);
    }
    return records.map((r) => certificateView(r, r.principalId ? names.get(r.principalId) : undefined));
  }

  async function retireOthers(existing: CertificateAuthorityRecord[], activeId: string, now: Date) {
    for (const ca of existing) {
      if (ca.id !== activeId && ca.state === 'active') {
        await storage.updateCertificateAuthority(ca.id, { state: 'retired', certPem: ca.certPem, chainPem: ca.chainPem, notAfter: ca.notAfter, updatedAt: now });
      }
    }
  }

  async function principalNamed(name: string | undefined) {
    if (typeof name !== 'string' || !/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(name)) throw new ValidationError('A client certificate needs the name of the principal it authenticates.');
    const principal = await storage.getPrincipalByName(name);
    if (!principal) throw new NotFoundError(`Principal '${name}' does not exist.`);
    return principal;
  }
}

function serverHosts(hosts: string[] | undefined): CertificateHost[] {
  if (!Array.isArray(hosts) || hosts.length === 0 || hosts.length > 100) throw new ValidationError('A server certificate needs 1 to 100 hosts.');
  const seen = new Set<string>();
  const result: CertificateHost[] = [];
  for (const host of hosts) {
    const normalized = typeof host === 'string' ? normalizeHost(host) : undefined;
    if (!normalized) throw new ValidationError('A server certificate host must be a DNS name or a specific IP address.');
    if (!seen.has(`${normalized.type}:${normalized.value}`)) result.push(normalized);
    seen.add(`${normalized.type}:${normalized.value}`);
  }
  return result;
}

export type CertificateAuthority = ReturnType<typeof createCertificateAuthority>;
