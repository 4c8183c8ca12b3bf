/**
 * The PkiStorage over Kysely (both engines): CA generations and the inventory of issued certificates.
 * Invariants: a revocation is one conditional UPDATE (`revoked_at is null`), so it happens at most once; wrapped CA
 * keys are stored as given (the root of trust authenticates them on unwrap); nothing here interprets a certificate.
 */
import type { Kysely } from 'kysely';
import { AlreadyExistsError, InternalError, ValidationError } from '../../errors/index.js';
import {
  CA_KINDS,
  CA_STATES,
  CERTIFICATE_PROFILES,
  type CaKind,
  type CaState,
  type CertificateAuthorityRecord,
  type CertificateProfile,
  type IssuedCertificateRecord,
  type PkiStorage,
} from '../../ports/pki-storage.js';
import type { PkiAuthoritiesTable, PkiCertificatesTable } from './migration-pki.js';
import type { StorageDatabase } from './schema.js';
import type { ConflictMapping } from './storage-dialect.js';

type Guard = <T>(work: () => Promise<T>, conflicts?: ConflictMapping) => Promise<T>;

const blob = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const date = (ms: number | string) => new Date(Number(ms));
const nullableDate = (ms: number | string | null) => (ms === null ? null : date(ms));

function oneOf<T extends string>(values: readonly T[], value: string, what: string): T {
  if (!(values as readonly string[]).includes(value)) throw new InternalError({ cause: new Error(`${what} is invalid`) });
  return value as T;
}

function rowToCa(row: PkiAuthoritiesTable): CertificateAuthorityRecord {
  return {
    id: row.id,
    kind: oneOf<CaKind>(CA_KINDS, row.kind, 'pki_authorities.kind'),
    state: oneOf<CaState>(CA_STATES, row.state, 'pki_authorities.state'),
    commonName: row.common_name,
    certPem: row.cert_pem,
    chainPem: row.chain_pem,
    csrPem: row.csr_pem,
    wrappedKey: Buffer.from(row.wrapped_key),
    notAfter: nullableDate(row.not_after),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

function rowToCertificate(row: PkiCertificatesTable): IssuedCertificateRecord {
  return {
    serial: row.serial,
    caId: row.ca_id,
    profile: oneOf<CertificateProfile>(CERTIFICATE_PROFILES, row.profile, 'pki_certificates.profile'),
    commonName: row.common_name,
    subjectAltNames: JSON.parse(row.subject_alt_names) as string[],
    principalId: row.principal_id,
    fingerprint: row.fingerprint,
    notBefore: date(row.not_before),
    notAfter: date(row.not_after),
    certPem: row.cert_pem,
    revokedAt: nullableDate(row.revoked_at),
    revocationReason: row.revocation_reason,
    createdAt: date(row.created_at),
  };
}

export function createPkiQueries(db: Kysely<StorageDatabase>, guard: Guard): PkiStorage {
  return {
    createCertificateAuthority(ca) {
      return guard(
        async () => {
          await db
            .insertInto('pki_authorities')
            .values({
              id: ca.id,
              kind: ca.kind,
              state: ca.state,
              common_name: ca.commonName,
              cert_pem: ca.certPem,
              chain_pem: ca.chainPem,
              csr_pem: ca.csrPem,
              wrapped_key: blob(ca.wrappedKey),
              not_after: ca.notAfter === null ? null : ca.notAfter.getTime(),
              created_at: ca.createdAt.getTime(),
              updated_at: ca.updatedAt.getTime(),
            })
            .execute();
        },
        { unique: (cause) => new AlreadyExistsError(`CA ${ca.id} already exists.`, { cause }) },
      );
    },

    updateCertificateAuthority(id, patch) {
      return guard(async () => {
        const result = await db
          .updateTable('pki_authorities')
          .set({
            state: patch.state,
            cert_pem: patch.certPem,
            chain_pem: patch.chainPem,
            not_after: patch.notAfter === null ? null : patch.notAfter.getTime(),
            updated_at: patch.updatedAt.getTime(),
          })
          .where('id', '=', id)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      });
    },

    listCertificateAuthorities() {
      return guard(async () => (await db.selectFrom('pki_authorities').selectAll().orderBy('created_at').orderBy('id').execute()).map(rowToCa));
    },

    createIssuedCertificate(c) {
      return guard(
        async () => {
          await db
            .insertInto('pki_certificates')
            .values({
              serial: c.serial,
              ca_id: c.caId,
              profile: c.profile,
              common_name: c.commonName,
              subject_alt_names: JSON.stringify(c.subjectAltNames),
              principal_id: c.principalId,
              fingerprint: c.fingerprint,
              not_before: c.notBefore.getTime(),
              not_after: c.notAfter.getTime(),
              cert_pem: c.certPem,
              revoked_at: c.revokedAt === null ? null : c.revokedAt.getTime(),
              revocation_reason: c.revocationReason,
              created_at: c.createdAt.getTime(),
            })
            .execute();
        },
        { unique: (cause) => new AlreadyExistsError(`Certificate ${c.serial} already exists.`, { cause }) },
      );
    },

    getIssuedCertificate(serial) {
      return guard(async () => {
        const row = await db.selectFrom('pki_certificates').selectAll().where('serial', '=', serial).executeTakeFirst();
        return row && rowToCertificate(row);
      });
    },

    listIssuedCertificates({ limit, caId, revokedOnly }) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('The limit must be a positive integer.');
      return guard(async () => {
        let query = db.selectFrom('pki_certificates').selectAll();
        if (caId !== undefined) query = query.where('ca_id', '=', caId);
        if (revokedOnly) query = query.where('revoked_at', 'is not', null);
        const rows = await query.orderBy('created_at', 'desc').orderBy('serial', 'desc').limit(limit).execute();
        return rows.map(rowToCertificate);
      });
    },

    revokeIssuedCertificate(serial, at, reason) {
      return guard(async () => {
        const result = await db
          .updateTable('pki_certificates')
          .set({ revoked_at: at.getTime(), revocation_reason: reason })
          .where('serial', '=', serial)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      });
    },
  };
}
