/**
 * Migration 0008: the built-in CA (issue #7).
 * - pki_authorities: one row per CA generation (root or intermediate), its certificate, CSR and its private key
 *   wrapped by the root of trust;
 * - pki_certificates: the inventory of every certificate issued (PCI DSS 4.2.1.1), with revocation state.
 * Invariant: append-only like every migration (never edit once released). Table types live here, beside the DDL.
 */
import { sql, type ColumnDataType, type Expression, type Kysely, type Migration } from 'kysely';

/** pki_authorities rows. */
export interface PkiAuthoritiesTable {
  id: string;
  kind: string;
  state: string;
  common_name: string;
  cert_pem: string | null;
  chain_pem: string;
  csr_pem: string | null;
  wrapped_key: Buffer;
  not_after: number | null;
  created_at: number;
  updated_at: number;
}

/** pki_certificates rows. */
export interface PkiCertificatesTable {
  serial: string;
  ca_id: string;
  profile: string;
  common_name: string;
  subject_alt_names: string;
  principal_id: string | null;
  fingerprint: string;
  not_before: number;
  not_after: number;
  cert_pem: string;
  revoked_at: number | null;
  revocation_reason: string | null;
  created_at: number;
}

interface PkiColumnTypes {
  idText: ColumnDataType | Expression<unknown>;
  blob: ColumnDataType | Expression<unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function pkiTables(d: PkiColumnTypes): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('pki_authorities')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('root', 'intermediate')`))
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'active', 'retired')`))
        .addColumn('common_name', 'text', (c) => c.notNull())
        .addColumn('cert_pem', 'text')
        .addColumn('chain_pem', 'text', (c) => c.notNull())
        .addColumn('csr_pem', 'text')
        .addColumn('wrapped_key', d.blob, (c) => c.notNull())
        .addColumn('not_after', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('pki_certificates')
        .addColumn('serial', d.idText, (c) => c.primaryKey())
        .addColumn('ca_id', d.idText, (c) => c.notNull().references('pki_authorities.id'))
        .addColumn('profile', 'text', (c) => c.notNull().check(sql`profile in ('server', 'client')`))
        .addColumn('common_name', 'text', (c) => c.notNull())
        .addColumn('subject_alt_names', 'text', (c) => c.notNull())
        .addColumn('principal_id', d.idText)
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('not_before', 'bigint', (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('cert_pem', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('revocation_reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pki_certificates_by_creation').on('pki_certificates').columns(['created_at', 'serial']).execute();
    },
  };
}
