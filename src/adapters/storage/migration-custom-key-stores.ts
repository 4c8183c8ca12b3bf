/**
 * Migration 0006: custom key stores (issue #5 item 6, the AWS CloudHSM key store model over PKCS#11 tokens).
 * - custom_key_stores: one row per store — unique name, unique cluster id (the token label), the trust anchor PEM,
 *   the token PIN wrapped by the root of trust, the connection state and error code, a revision for
 *   compare-and-swap updates;
 * - custom_key_store_keys: the link from a KMS key to its store. No reference to keys on purpose: the link outlives
 *   the key record until the token object is destroyed (an orphan), and it keeps the store from being deleted.
 * Invariant: append-only like every migration (never edit once released).
 */
import { sql, type ColumnDataType, type Expression, type Kysely, type Migration } from 'kysely';

/** The column types this migration needs (a slice of migrations.ts's MigrationDialect; not imported: no cycle). */
interface ColumnTypes {
  idText: ColumnDataType | Expression<unknown>;
  blob: ColumnDataType | Expression<unknown>;
}

/** Migration 0006 tables, as Kysely sees them (schema.ts). */
export interface CustomKeyStoresTable {
  id: string;
  name: string;
  type: string;
  cluster_id: string;
  trust_anchor: string;
  pin_wrapped: Uint8Array;
  connection_state: string;
  connection_error: string | null;
  revision: number;
  created_at: number;
  updated_at: number;
}

export interface CustomKeyStoreKeysTable {
  key_id: string;
  store_id: string;
  created_at: number;
}

// Migrations are written against an untyped database on purpose: the schema at migration N is not today's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function customKeyStores(d: ColumnTypes): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('custom_key_stores')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('name', d.idText, (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('AWS_CLOUDHSM')`))
        .addColumn('cluster_id', d.idText, (c) => c.notNull().unique())
        .addColumn('trust_anchor', 'text', (c) => c.notNull())
        .addColumn('pin_wrapped', d.blob, (c) => c.notNull())
        .addColumn('connection_state', 'text', (c) =>
          c.notNull().check(sql`connection_state in ('CONNECTED', 'CONNECTING', 'FAILED', 'DISCONNECTED', 'DISCONNECTING')`),
        )
        .addColumn('connection_error', 'text')
        .addColumn('revision', 'integer', (c) => c.notNull().check(sql`revision >= 1`))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('custom_key_store_keys')
        .addColumn('key_id', d.idText, (c) => c.primaryKey())
        .addColumn('store_id', d.idText, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addForeignKeyConstraint('custom_key_store_keys_store_fk', ['store_id'], 'custom_key_stores', ['id'], (fk) => fk.onDelete('restrict'))
        .execute();
      await db.schema.createIndex('custom_key_store_keys_by_store').on('custom_key_store_keys').columns(['store_id', 'created_at']).execute();
    },
  };
}
