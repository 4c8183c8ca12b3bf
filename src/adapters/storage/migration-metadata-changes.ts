/**
 * Migration 0011: the metadata change feed (issue #8). One row per change to a key record or an alias, written by
 * triggers in the transaction that makes the change, read by every server process to drop what it has cached.
 * Invariants: append-only like every migration (never edit once released); the triggers fire on UPDATE and DELETE
 * (a process caches only records it found, so an INSERT invalidates nothing); on PostgreSQL a statement trigger takes
 * a transaction-level advisory lock (one per schema) before any row is locked and holds it to commit, so
 * sequence numbers (drawn by the AFTER trigger) follow commit order there too (SQLite serializes every write
 * transaction already), and no transaction waits for that lock while holding a watched row; the PostgreSQL trigger
 * functions keep the migration's search_path, so they write to their own schema's feed whatever the session's
 * search_path (an operator's `update myschema.keys ...`). A migration that rebuilds `keys` or `aliases` on SQLite
 * must create these triggers again (SQLite drops a table's triggers with the table); test/storage/metadata-changes
 * .test.ts checks that they fire.
 */
import { sql, type ColumnDataType, type CreateTableBuilder, type Expression, type Kysely, type Migration } from 'kysely';

/** metadata_changes rows. */
export interface MetadataChangesTable {
  sequence: number;
  kind: string;
  name: string;
  /** Epoch milliseconds, the database's clock. */
  changed_at: number;
}

/** The slice of migrations.ts's MigrationDialect this migration needs (not imported: no cycle). */
interface FeedDialect {
  kind: 'sqlite' | 'postgres';
  idText: ColumnDataType | Expression<unknown>;
  addSequenceColumn<T extends string>(table: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'sequence'>;
}

/** The tables whose changes the feed records: feed kind and the column that names the record. */
const WATCHED = [
  { table: 'keys', kind: 'key', column: 'id' },
  { table: 'aliases', kind: 'alias', column: 'name' },
] as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema at migration 0011 is not today's
type AnyDb = Kysely<any>;

const CREATE_TRIGGERS: Record<FeedDialect['kind'], (db: AnyDb) => Promise<void>> = {
  async sqlite(db) {
    for (const { table, kind, column } of WATCHED) {
      for (const event of ['update', 'delete']) {
        await sql
          .raw(
            `create trigger metadata_changes_${table}_${event} after ${event} on ${table} begin ` +
              `insert into metadata_changes (kind, name, changed_at) values ('${kind}', old.${column}, cast(unixepoch('subsec') * 1000 as integer)); end`,
          )
          .execute(db);
      }
    }
  },
  async postgres(db) {
    // The lock is taken before each statement (a row trigger would run with its row already locked), so a transaction
    // never holds a watched row while it waits for the lock — which could deadlock with the holder wanting that row;
    // each changed row is recorded after the change, under the lock.
    await sql`
      create function metadata_change_lock() returns trigger language plpgsql set search_path from current as $$
      begin
        perform pg_advisory_xact_lock(hashtext(current_schema() || '.metadata_changes'));
        return null;
      end $$`.execute(db);
    await sql`
      create function metadata_changed() returns trigger language plpgsql set search_path from current as $$
      begin
        insert into metadata_changes (kind, name, changed_at)
          values (tg_argv[0], to_jsonb(old) ->> tg_argv[1], (extract(epoch from clock_timestamp()) * 1000)::bigint);
        return null;
      end $$`.execute(db);
    for (const { table, kind, column } of WATCHED) {
      await sql.raw(`create trigger metadata_changes_${table}_lock before update or delete on ${table} for each statement execute function metadata_change_lock()`).execute(db);
      await sql
        .raw(`create trigger metadata_changes_${table} after update or delete on ${table} for each row execute function metadata_changed('${kind}', '${column}')`)
        .execute(db);
    }
  },
};

export function metadataChanges(d: FeedDialect): Migration {
  return {
    async up(db: AnyDb) {
      await d
        .addSequenceColumn(db.schema.createTable('metadata_changes'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('key', 'alias')`))
        .addColumn('name', d.idText, (c) => c.notNull())
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .execute();
      await CREATE_TRIGGERS[d.kind](db);
    },
  };
}
