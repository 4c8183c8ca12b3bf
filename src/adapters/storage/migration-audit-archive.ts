/**
 * Migration 0009: audit trail retention. audit_archives holds the signed record of each archived chain segment (chain,
 * first and last sequence, the hash before and at its end, the archive file's name and SHA-256, the signature), one
 * per (chain_id, first_sequence), so two archivers racing on one segment insert it once.
 * Invariant: append-only like every migration (never edit once released).
 */
import { sql, type ColumnDataType, type Expression, type Kysely, type Migration } from 'kysely';

/** The column types this migration needs (a slice of migrations.ts's MigrationDialect; not imported: no cycle). */
interface AuditArchiveColumnTypes {
  idText: ColumnDataType | Expression<unknown>;
}

export function auditArchive(d: AuditArchiveColumnTypes): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema at migration 0009 is not today's
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('audit_archives')
        .addColumn('chain_id', d.idText, (c) => c.notNull())
        .addColumn('first_sequence', 'bigint', (c) => c.notNull().check(sql`first_sequence >= 1`))
        .addColumn('last_sequence', 'bigint', (c) => c.notNull())
        .addColumn('previous_hash', 'text', (c) => c.notNull())
        .addColumn('last_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('file_sha256', 'text', (c) => c.notNull())
        .addColumn('key_id', d.idText, (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_archives_pk', ['chain_id', 'first_sequence'])
        .addCheckConstraint('audit_archives_range', sql`last_sequence >= first_sequence`)
        .execute();
    },
  };
}
