/**
 * Migration 0005: the root ring (issue #5, root rotation, migration and break-glass recovery).
 * - root_ring: one row (id 1) — the registry's revision, its MAC, and the recovery (escrow) key record;
 * - root_generations: one row per root generation (adapter kind, non-secret descriptor JSON, state, the registry key
 *   wrapped by that generation's root, timestamps);
 * - root_migrations: re-wrap jobs (rotate-root, migrate-root, recover) with their keyset cursor and progress.
 * Invariant: append-only like every migration (never edit once released). Nothing here is trusted: the ring
 * authenticates the registry itself (core/root-registry.ts).
 */
import { sql, type ColumnDataType, type Expression, type Kysely, type Migration } from 'kysely';

/** The column types this migration needs (a slice of migrations.ts's MigrationDialect; not imported: no cycle). */
interface RootRingColumnTypes {
  idText: ColumnDataType | Expression<unknown>;
  blob: ColumnDataType | Expression<unknown>;
}

// Migrations are written against an untyped database on purpose: the schema at migration N is not today's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function rootRing(d: RootRingColumnTypes): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('root_ring')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('revision', 'integer', (c) => c.notNull().check(sql`revision >= 1`))
        .addColumn('mac', d.blob, (c) => c.notNull())
        .addColumn('recovery_public_key', d.blob)
        .addColumn('recovery_threshold', 'integer')
        .addColumn('recovery_shares', 'integer')
        .addColumn('recovery_auth_key', d.blob)
        .addColumn('recovery_created_at', 'bigint')
        .execute();

      await db.schema
        .createTable('root_generations')
        .addColumn('generation', 'integer', (c) => c.primaryKey().check(sql`generation >= 1`))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('descriptor', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('active', 'retiring', 'retired')`))
        .addColumn('registry_key', d.blob)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('root_migrations')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('operation', 'text', (c) => c.notNull().check(sql`operation in ('rotate', 'migrate', 'recover')`))
        .addColumn('target_generation', 'integer', (c) => c.notNull())
        .addColumn('target_kind', 'text', (c) => c.notNull())
        .addColumn('from_generations', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('running', 'done')`))
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('cursor', 'text')
        .addColumn('done', 'bigint', (c) => c.notNull())
        .addColumn('total', 'bigint', (c) => c.notNull())
        .addColumn('skipped', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('root_migrations_by_start').on('root_migrations').columns(['started_at', 'id']).execute();
    },
  };
}
