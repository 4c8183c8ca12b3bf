/**
 * Migration 0007: the tamper-evident audit trail. audit_events gains its chain link (chain id, per-chain sequence,
 * previous hash, hash, and the canonical record that was hashed; null on events written before this migration),
 * unique per (chain_id, chain_seq); signed checkpoints; and the audit keys, stored only wrapped by the root of trust.
 * Invariant: append-only like every migration (never edit once released).
 */
import { sql, type ColumnDataType, type Expression, type Kysely, type Migration } from 'kysely';

/** The column types this migration needs (a slice of migrations.ts's MigrationDialect; not imported: no cycle). */
interface AuditChainColumnTypes {
  idText: ColumnDataType | Expression<unknown>;
  blob: ColumnDataType | Expression<unknown>;
}

export function auditChain(d: AuditChainColumnTypes): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema at migration 0007 is not today's
    async up(db: Kysely<any>) {
      // One column per statement: SQLite's ALTER TABLE adds one column at a time.
      await db.schema.alterTable('audit_events').addColumn('chain_id', d.idText).execute();
      await db.schema.alterTable('audit_events').addColumn('chain_seq', 'bigint').execute();
      await db.schema.alterTable('audit_events').addColumn('prev_hash', 'text').execute();
      await db.schema.alterTable('audit_events').addColumn('hash', 'text').execute();
      await db.schema.alterTable('audit_events').addColumn('record', 'text').execute();
      await db.schema.createIndex('audit_events_by_chain').unique().on('audit_events').columns(['chain_id', 'chain_seq']).execute();
      await db.schema.createIndex('audit_events_by_request').on('audit_events').column('request_id').execute();

      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('chain_id', d.idText, (c) => c.notNull())
        .addColumn('sequence', 'bigint', (c) => c.notNull().check(sql`sequence >= 1`))
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('key_id', d.idText, (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_checkpoints_pk', ['chain_id', 'sequence'])
        .execute();

      await db.schema
        .createTable('audit_keys')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('signing', 'hmac')`))
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('public_key', d.blob)
        .addColumn('wrapped', d.blob, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
