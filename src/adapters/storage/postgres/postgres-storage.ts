/**
 * The storage at scale: PostgreSQL through a pg Pool and the shared Kysely storage.
 *
 * Invariants:
 * - Every connection starts with search_path = the configured schema (created if missing), so several
 *   deployments or test runs can share one database in separate schemas.
 * - int8 (BIGINT/BIGSERIAL: epoch-millisecond times and the audit sequence) is parsed as a JS number, per pool.
 * - Audit appends take no table lock: each server process appends its own hash chain (one appender per chain,
 *   audit-log.ts), so servers on one database never wait for each other; the global `sequence` orders events for
 *   search but a reader paging by it may see a later commit with a smaller sequence; the verifier and exports read
 *   per chain, by (chain_id, chain_seq), which is gap-free in commit order.
 * - Migrations run under Kysely's advisory lock: servers starting together apply each migration once.
 * - An idle client's connection error never crashes the process; the next query reconnects or fails
 *   with DependencyError.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type SqlBool } from 'kysely';
import { DependencyError, ValidationError } from '../../../errors/index.js';
import type { Storage } from '../../../ports/storage.js';
import { createKyselyStorage } from '../kysely-storage.js';
import { migrateToLatest, type MigrationDialect } from '../migrations.js';
import type { StorageDatabase } from '../schema.js';
import { STORAGE_UNAVAILABLE, isSystemErrorCode, type DriverErrorClass, type StorageDialect } from '../storage-dialect.js';

export interface PostgresStorageOptions {
  connectionString: string;
  /** Schema for every table, created when missing; default `public`. Lower-case identifier, as in config. */
  schema?: string;
  /** Maximum pool connections; default 10. */
  poolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const INT8_OID = 20;
const CONNECT_TIMEOUT_MS = 10_000;

/** PostgreSQL column types and DDL for the shared migrations (exported for upgrade tests; not part of the index). */
export const POSTGRES_MIGRATION_DIALECT: MigrationDialect = {
  kind: 'postgres',
  idText: sql`text collate "C"`,
  blob: 'bytea',
  addSequenceColumn: (table) => table.addColumn('sequence', 'bigserial', (c) => c.primaryKey()),
  async replaceKeyChecks(db, checks) {
    // CREATE TABLE named the inline checks <table>_<column>_check.
    await sql`alter table keys drop constraint keys_state_check, drop constraint keys_current_version_check`.execute(db);
    await db.schema.alterTable('keys').addCheckConstraint('keys_state_check', checks.state).execute();
    await db.schema.alterTable('keys').addCheckConstraint('keys_current_version_check', checks.currentVersion).execute();
  },
  async extendPrincipals(db, checks) {
    // The defaults fill existing rows; kind keeps none afterwards (every insert names it), tags keeps '{}'.
    await sql`alter table principals
      add column kind text not null default 'user',
      add column tags text not null default '{}',
      add column updated_at bigint`.execute(db);
    await sql`alter table principals alter column kind drop default`.execute(db);
    await db.schema.alterTable('principals').addCheckConstraint('principals_kind_check', checks.kind).execute();
    await sql`update principals set updated_at = created_at`.execute(db);
    await sql`alter table principals alter column updated_at set not null`.execute(db);
  },
};

/**
 * SQLSTATE classes that mean the database cannot serve us now: 08 connection exception, 28 invalid authorization,
 * 3D invalid catalog (no such database), 40 transaction rollback (serialization failure, deadlock), 53 insufficient
 * resources, 55 object not in prerequisite state (lock not available), 57 operator intervention (shutdown,
 * statement timeout), 58 system error, XX internal error.
 */
const UNAVAILABLE_SQLSTATE_CLASSES = new Set(['08', '28', '3D', '40', '53', '55', '57', '58', 'XX']);
/** pg and pg-pool connection failures that carry no code. */
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection refused/i;

function classifyPostgresError(err: unknown): DriverErrorClass {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (code === '23505') return 'unique';
    if (code === '23503') return 'foreign-key';
    return UNAVAILABLE_SQLSTATE_CLASSES.has(code.slice(0, 2)) ? 'unavailable' : 'other';
  }
  if (isSystemErrorCode(code)) return 'unavailable';
  if (err instanceof AggregateError && err.errors.some((e) => classifyPostgresError(e) === 'unavailable')) return 'unavailable';
  if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return 'unavailable';
  return 'other';
}

const parseInt8 = (value: string): number => Number(value);

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Creates the schema unless it exists; tolerates another process creating it at the same moment. */
async function ensureSchema(db: Kysely<StorageDatabase>, schema: string): Promise<void> {
  const exists = async () =>
    (await sql<{ found: number }>`select 1 as found from pg_namespace where nspname = ${schema}`.execute(db)).rows.length > 0;
  if (await exists()) return;
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (err) {
    if (!(await exists())) throw err;
  }
}

/** SQLSTATEs of objects vanishing under a catalog query: invalid_schema_name, undefined_table. */
const VANISHED = new Set(['3F000', '42P01']);
const MIGRATION_ATTEMPTS = 10;

/**
 * Runs the migrations, retrying when they fail because *another* schema's objects vanished mid-query: Kysely's
 * migrator introspects every schema of the database (`has_schema_privilege` per schema, then its tables), so a
 * concurrent DROP SCHEMA elsewhere in the database can fail it with invalid_schema_name or undefined_table although
 * ours is fine. A genuine error of our own migration still fails after the last attempt.
 */
async function migrateWithRetry(db: Kysely<StorageDatabase>, schema: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateToLatest(db, POSTGRES_MIGRATION_DIALECT, { migrationTableSchema: schema });
      return;
    } catch (err) {
      if (!VANISHED.has(String((err as { code?: unknown }).code)) || attempt === MIGRATION_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

/**
 * Connects to PostgreSQL, creates `schema` when missing and migrates it.
 * @throws ValidationError (ERR_VALIDATION) for a schema name that is not a lower-case identifier;
 *         DependencyError (ERR_DEPENDENCY) when the database cannot be reached or migrated (cause: the driver error).
 */
export async function openPostgresStorage(options: PostgresStorageOptions): Promise<Storage> {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new ValidationError('The database schema must be a lower-case SQL identifier.');
  const poolSize = options.poolSize ?? 10;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new ValidationError('The pool size must be a positive integer.');

  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    options: `-c search_path=${schema}`,
    types,
  });
  // A client losing its connection emits 'error' (on the pool while idle, on the client while checked out);
  // unhandled, that would end the process. The failing query rejects on its own (-> DependencyError), the pool
  // drops the broken client, and the next query opens a new connection.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));

  const dialect: StorageDialect = {
    kind: 'postgres',
    classifyError: classifyPostgresError,
    // No lock: one appender per chain (see the header).
    lockAuditAppend: async () => {},
    lockPrincipal: async (trx, id) =>
      (await trx.selectFrom('principals').select('id').where('id', '=', id).forUpdate().executeTakeFirst()) !== undefined,
    jsonTextArray: (column) => sql<string>`coalesce(json_agg(${column})::text, '[]')`,
    containsText: (column, needle) => sql<SqlBool>`strpos(${column}, ${needle}) > 0`,
  };
  const db = new Kysely<StorageDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    await ensureSchema(db, schema);
    await migrateWithRetry(db, schema);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw new DependencyError(STORAGE_UNAVAILABLE, { cause: err });
  }
  return createKyselyStorage(db, dialect);
}
