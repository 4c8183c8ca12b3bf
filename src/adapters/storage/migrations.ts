/**
 * The schema migrations, in code, for both engines. Column types differ only where the engines do:
 * identifier text (PostgreSQL uses the "C" collation so ordering and paging by id/name is by code point, as in SQLite),
 * blobs (BLOB vs BYTEA) and the audit sequence (INTEGER PRIMARY KEY AUTOINCREMENT vs BIGSERIAL).
 *
 * Invariant: migrations are append-only. Never edit a released migration; add the next one.
 * Concurrency: Kysely's Migrator runs them under its lock (PostgreSQL: an advisory lock; SQLite: the adapter is told
 * DDL is transactional so the run is one BEGIN IMMEDIATE transaction), so two processes opening one database at once
 * apply each migration exactly once.
 */
import { auditChain } from './migration-audit-chain.js';
import { auditArchive } from './migration-audit-archive.js';
import { rootRing } from './migration-root-ring.js';
import { pkiTables } from './migration-pki.js';
import { customKeyStores } from './migration-custom-key-stores.js';
import { jobLeases } from './migration-job-leases.js';
import { metadataChanges } from './migration-metadata-changes.js';
import { sql, type ColumnDataType, type CreateTableBuilder, type Expression, type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';

/** A column type: a Kysely type name or raw SQL (e.g. `text collate "C"`). */
export type DataTypeExpression = ColumnDataType | Expression<unknown>;

export interface MigrationDialect {
  /** The engine, for DDL that has no portable form (triggers, migration 0011). */
  kind: 'sqlite' | 'postgres';
  /** Type of id and name columns (ordered and compared byte-wise). */
  idText: DataTypeExpression;
  blob: DataTypeExpression;
  /** Adds the audit_events `sequence` column: an ever-increasing 64-bit primary key. */
  addSequenceColumn<T extends string>(table: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'sequence'>;
  /**
   * Replaces the CHECK constraints of keys.state and keys.current_version (migration 0003). PostgreSQL alters the
   * constraints; SQLite cannot, so it rebuilds the table (SQLite's documented 12-step procedure; the adapter runs
   * migrations with foreign keys off and checks them afterwards).
   */
  replaceKeyChecks(db: AnyDb, checks: { state: Expression<unknown>; currentVersion: Expression<unknown> }): Promise<void>;
  /**
   * Adds principals.kind (NOT NULL, CHECK `checks.kind`; existing rows get 'user'), principals.tags (NOT NULL,
   * default '{}') and principals.updated_at (NOT NULL; existing rows get their created_at) (migration 0004).
   * PostgreSQL alters the table; SQLite rebuilds it, as in replaceKeyChecks (a NOT NULL column added by ALTER TABLE
   * needs a constant default there).
   */
  extendPrincipals(db: AnyDb, checks: { kind: Expression<unknown> }): Promise<void>;
}

// Kysely migrations are written against an untyped database on purpose: the schema at migration N is not today's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;

function initialSchema(d: MigrationDialect): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('keys')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('key_spec', 'text', (c) => c.notNull())
        .addColumn('key_usage', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('Enabled', 'Disabled', 'PendingDeletion')`))
        .addColumn('current_version', 'integer', (c) => c.notNull().check(sql`current_version >= 1`))
        .addColumn('rotation_period_days', 'integer')
        .addColumn('next_rotation_at', 'bigint')
        .addColumn('deletion_at', 'bigint')
        .addColumn('pending_window_days', 'integer')
        .addColumn('tags', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('keys_due_for_rotation').on('keys').columns(['state', 'next_rotation_at']).execute();
      await db.schema.createIndex('keys_due_for_deletion').on('keys').columns(['state', 'deletion_at']).execute();

      await db.schema
        .createTable('key_versions')
        .addColumn('key_id', d.idText, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().check(sql`version >= 1`))
        .addColumn('material_id', 'text', (c) => c.notNull())
        .addColumn('wrapped', d.blob, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('rotation_type', 'text', (c) => c.notNull().check(sql`rotation_type in ('ORIGINAL', 'AUTOMATIC', 'ON_DEMAND')`))
        .addPrimaryKeyConstraint('key_versions_pk', ['key_id', 'version'])
        .addForeignKeyConstraint('key_versions_key_fk', ['key_id'], 'keys', ['id'], (fk) => fk.onDelete('cascade'))
        .execute();

      await db.schema
        .createTable('aliases')
        .addColumn('name', d.idText, (c) => c.primaryKey())
        .addColumn('key_id', d.idText, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addForeignKeyConstraint('aliases_key_fk', ['key_id'], 'keys', ['id'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('aliases_by_key').on('aliases').columns(['key_id', 'name']).execute();

      await db.schema
        .createTable('principals')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('name', d.idText, (c) => c.notNull().unique())
        .addColumn('arn', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().check(sql`disabled in (0, 1)`))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('hash', d.idText, (c) => c.primaryKey())
        .addColumn('accessor', d.idText, (c) => c.notNull().unique())
        .addColumn('principal_id', d.idText, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addForeignKeyConstraint('tokens_principal_fk', ['principal_id'], 'principals', ['id'])
        .execute();

      await db.schema
        .createTable('access_keys')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('principal_id', d.idText, (c) => c.notNull())
        .addColumn('secret_wrapped', d.blob, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('Active', 'Inactive')`))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addForeignKeyConstraint('access_keys_principal_fk', ['principal_id'], 'principals', ['id'])
        .execute();

      await d
        .addSequenceColumn(db.schema.createTable('audit_events'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_time', 'bigint', (c) => c.notNull())
        .addColumn('event_name', 'text', (c) => c.notNull())
        .addColumn('event_source', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('credential', 'text')
        .addColumn('source_ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('resource', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('attempt', 'success', 'failure', 'denied')`))
        .addColumn('error_code', 'text')
        .addColumn('read_only', 'integer', (c) => c.notNull().check(sql`read_only in (0, 1)`))
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
    },
  };
}

/** Key policies (a nullable column; null is the default policy) and grants (issue #3). */
function keyPoliciesAndGrants(d: MigrationDialect): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable('keys').addColumn('policy', 'text').execute();
      await db.schema
        .createTable('grants')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('key_id', d.idText, (c) => c.notNull().references('keys.id').onDelete('cascade'))
        .addColumn('name', d.idText)
        .addColumn('grantee_principal', d.idText, (c) => c.notNull())
        .addColumn('retiring_principal', d.idText)
        .addColumn('operations', 'text', (c) => c.notNull())
        .addColumn('constraints', 'text')
        .addColumn('issued_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // NULL names are distinct in both engines, so only named grants are unique per key.
      await db.schema.createIndex('grants_key_name').on('grants').columns(['key_id', 'name']).unique().execute();
      await db.schema.createIndex('grants_key_grantee').on('grants').columns(['key_id', 'grantee_principal']).execute();
      await db.schema.createIndex('grants_retiring').on('grants').columns(['retiring_principal', 'id']).execute();
    },
  };
}

/** Imported key material (issue #3): a key can be PendingImport, with no material yet (current_version 0). */
function importedKeyMaterial(d: MigrationDialect): Migration {
  return {
    async up(db: AnyDb) {
      await d.replaceKeyChecks(db, {
        state: sql`state in ('Enabled', 'Disabled', 'PendingDeletion', 'PendingImport')`,
        currentVersion: sql`current_version >= 0`,
      });
    },
  };
}

/**
 * Identity management and dual control (issue #4): principal kinds, tags and managed policies, access-key expiry,
 * client certificates mapped to principals, approval requests, and indexes for per-principal credential lists.
 * tokens.accessor is unique since 0001 (an inline UNIQUE constraint), so it needs no new index.
 */
function identityAndApprovals(d: MigrationDialect): Migration {
  return {
    async up(db: AnyDb) {
      await d.extendPrincipals(db, { kind: sql`kind in ('user', 'service')` });

      await db.schema.alterTable('access_keys').addColumn('expires_at', 'bigint').execute();
      await db.schema.createIndex('access_keys_by_principal').on('access_keys').column('principal_id').execute();
      await db.schema.createIndex('tokens_by_principal').on('tokens').column('principal_id').execute();

      await db.schema
        .createTable('policies')
        .addColumn('name', d.idText, (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      // Deleting a principal drops its attachments; deleting an attached policy fails (RESTRICT, checked at once).
      await db.schema
        .createTable('principal_policies')
        .addColumn('principal_id', d.idText, (c) => c.notNull())
        .addColumn('policy_name', d.idText, (c) => c.notNull())
        .addPrimaryKeyConstraint('principal_policies_pk', ['principal_id', 'policy_name'])
        .addForeignKeyConstraint('principal_policies_principal_fk', ['principal_id'], 'principals', ['id'], (fk) => fk.onDelete('cascade'))
        .addForeignKeyConstraint('principal_policies_policy_fk', ['policy_name'], 'policies', ['name'], (fk) => fk.onDelete('restrict'))
        .execute();
      await db.schema.createIndex('principal_policies_by_policy').on('principal_policies').column('policy_name').execute();

      await db.schema
        .createTable('client_certificates')
        .addColumn('fingerprint', d.idText, (c) => c.primaryKey())
        .addColumn('principal_id', d.idText, (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addForeignKeyConstraint('client_certificates_principal_fk', ['principal_id'], 'principals', ['id'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('client_certificates_by_principal').on('client_certificates').column('principal_id').execute();

      // No reference to principals: an approval stays on record after its requester or approver is deleted.
      await db.schema
        .createTable('approvals')
        .addColumn('id', d.idText, (c) => c.primaryKey())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('resource', 'text')
        .addColumn('request_digest', d.idText, (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('requester_id', d.idText, (c) => c.notNull())
        .addColumn('requester_arn', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('Pending', 'Approved', 'Rejected', 'Consumed')`))
        .addColumn('approver_id', d.idText)
        .addColumn('approver_arn', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .addColumn('consumed_at', 'bigint')
        .execute();
      await db.schema.createIndex('approvals_by_request').on('approvals').columns(['requester_id', 'request_digest']).execute();
      await db.schema.createIndex('approvals_by_creation').on('approvals').columns(['created_at', 'id']).execute();
    },
  };
}

/** Every migration, by name; names sort in the order they run. */
export function storageMigrations(d: MigrationDialect): Record<string, Migration> {
  return {
    '0001-initial-schema': initialSchema(d),
    '0002-key-policies-and-grants': keyPoliciesAndGrants(d),
    '0003-imported-key-material': importedKeyMaterial(d),
    '0004-identity-and-approvals': identityAndApprovals(d),
    '0005-root-ring': rootRing(d),
    '0006-custom-key-stores': customKeyStores(d),
    '0007-audit-chain': auditChain(d),
    '0008-pki': pkiTables(d),
    '0009-audit-archive': auditArchive(d),
    '0010-job-leases': jobLeases(d),
    '0011-metadata-changes': metadataChanges(d),
  };
}

export interface MigratorOptions {
  /** PostgreSQL: the schema that holds the migration tables. */
  migrationTableSchema?: string;
}

/**
 * The Migrator over every storage migration, with DataDefender's migration and lock table names. migrateToLatest is
 * the only caller in production; upgrade tests use it to stop at an older migration (`migrateTo(name)`).
 */
export function storageMigrator(db: AnyDb, d: MigrationDialect, options: MigratorOptions = {}): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => storageMigrations(d) };
  return new Migrator({
    db,
    provider,
    migrationTableName: 'datadefender_migration',
    migrationLockTableName: 'datadefender_migration_lock',
    ...(options.migrationTableSchema === undefined ? {} : { migrationTableSchema: options.migrationTableSchema }),
  });
}

/** Applies every pending migration; a no-op when the database is current. Throws the migration's error. */
export async function migrateToLatest(db: AnyDb, d: MigrationDialect, options: MigratorOptions = {}): Promise<void> {
  const { error } = await storageMigrator(db, d, options).migrateToLatest();
  if (error !== undefined) throw error;
}
