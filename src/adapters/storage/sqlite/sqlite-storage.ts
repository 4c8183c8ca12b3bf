/**
 * The embedded storage: one SQLite file through better-sqlite3 and the shared Kysely storage.
 *
 * Invariants:
 * - WAL mode. Audit appends are committed with synchronous=FULL by a writer thread (audit-writer.ts): a resolved
 *   append is on disk, and its fsync never blocks the event loop. The serving connection commits with
 *   synchronous=NORMAL (no fsync on the event loop): its changes are on disk once the next audit commit has fsynced
 *   the WAL — and every change made for a request or a job is followed by its audit outcome event before anyone is
 *   answered — or after the next checkpoint, at most `walCheckpointMs` later. The WAL is copied into the database
 *   file by a checkpointer thread (wal-checkpointer.ts), not inside whichever commit fills it.
 * - secure_delete=ON, and a TRUNCATE checkpoint after destroyKey (on the checkpointer's thread): destroyed key
 *   material is overwritten in the database file and not left behind in the WAL (crypto-shredding).
 * - foreign_keys=ON; processes sharing the file queue on its lock instead of failing, and this connection waits
 *   for the lock asynchronously (serialized-sqlite-dialect.ts), never blocking the event loop.
 * - A new file is created with mode 0600 (the WAL and shared-memory files inherit it).
 */
import { closeSync, constants, openSync, realpathSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, sql, type SqlBool } from 'kysely';
import { DependencyError } from '../../../errors/index.js';
import type { Storage } from '../../../ports/storage.js';
import { createKyselyStorage } from '../kysely-storage.js';
import { migrateToLatest, type MigrationDialect } from '../migrations.js';
import type { StorageDatabase } from '../schema.js';
import { STORAGE_UNAVAILABLE, isSystemErrorCode, type DriverErrorClass, type StorageDialect } from '../storage-dialect.js';
import { acquireFileMutex, retryWhileBusy, SerializedSqliteDialect } from './serialized-sqlite-dialect.js';
import { withStatementCache } from './statement-cache.js';
import { AUTOCHECKPOINT_SAFETY_PAGES, startWalCheckpointer } from './wal-checkpointer.js';
import { startAuditWriter } from './audit-writer.js';
import { auditEventToRow } from '../rows.js';

export const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** How often the WAL is copied into the database file, off the commit path (wal-checkpointer.ts). */
const WAL_CHECKPOINT_MS = 1_000;

/** SQLite column types and DDL for the shared migrations (exported for upgrade tests; not part of the index). */
export const SQLITE_MIGRATION_DIALECT: MigrationDialect = {
  kind: 'sqlite',
  idText: 'text',
  blob: 'blob',
  addSequenceColumn: (table) => table.addColumn('sequence', 'integer', (c) => c.primaryKey().autoIncrement()),
  async replaceKeyChecks(db, checks) {
    // SQLite cannot alter a CHECK: rebuild keys under the same name (https://sqlite.org/lang_altertable.html §7).
    // Runs with foreign_keys off (see openSqliteStorage), so dropping the old table cascades nothing.
    await db.schema
      .createTable('keys_rebuilt')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('key_spec', 'text', (c) => c.notNull())
      .addColumn('key_usage', 'text', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().check(checks.state))
      .addColumn('current_version', 'integer', (c) => c.notNull().check(checks.currentVersion))
      .addColumn('rotation_period_days', 'integer')
      .addColumn('next_rotation_at', 'bigint')
      .addColumn('deletion_at', 'bigint')
      .addColumn('pending_window_days', 'integer')
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('policy', 'text')
      .execute();
    await sql`insert into keys_rebuilt select id, created_at, description, key_spec, key_usage, origin, state, current_version,
      rotation_period_days, next_rotation_at, deletion_at, pending_window_days, tags, policy from keys`.execute(db);
    await db.schema.dropTable('keys').execute();
    await db.schema.alterTable('keys_rebuilt').renameTo('keys').execute();
    await db.schema.createIndex('keys_due_for_rotation').on('keys').columns(['state', 'next_rotation_at']).execute();
    await db.schema.createIndex('keys_due_for_deletion').on('keys').columns(['state', 'deletion_at']).execute();
  },
  async extendPrincipals(db, checks) {
    // A NOT NULL column added by ALTER TABLE needs a constant default, and updated_at's comes from created_at:
    // rebuild principals under the same name, as replaceKeyChecks does (foreign keys are off while it runs).
    await db.schema
      .createTable('principals_rebuilt')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull().check(checks.kind))
      .addColumn('arn', 'text', (c) => c.notNull())
      .addColumn('roles', 'text', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('disabled', 'integer', (c) => c.notNull().check(sql`disabled in (0, 1)`))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into principals_rebuilt (id, name, kind, arn, roles, tags, disabled, created_at, updated_at)
      select id, name, 'user', arn, roles, '{}', disabled, created_at, created_at from principals`.execute(db);
    await db.schema.dropTable('principals').execute();
    await db.schema.alterTable('principals_rebuilt').renameTo('principals').execute();
  },
};

/** SQLite result codes that mean the database file cannot be used right now (as opposed to a bug). */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|CORRUPT|NOTADB|PROTOCOL|NOMEM|PERM|AUTH|NOLFS)/;

function classifySqliteError(err: unknown): DriverErrorClass {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'other';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign-key';
  // An ON DELETE RESTRICT action fails as SQLite's built-in foreign-key trigger (we define no triggers of our own).
  if (code === 'SQLITE_CONSTRAINT_TRIGGER' && (err as { message?: unknown }).message === 'FOREIGN KEY constraint failed') return 'foreign-key';
  if (UNAVAILABLE.test(code) || isSystemErrorCode(code)) return 'unavailable';
  return 'other';
}

/** Creates the file with mode 0600 unless it exists; never changes an existing file. */
function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

async function openDatabase(file: string): Promise<Database.Database> {
  createPrivateFile(file);
  const database = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS, fileMustExist: true });
  try {
    database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    // Switching a fresh file to WAL upgrades a shared lock to an exclusive one; when another process is doing the
    // same, SQLite answers SQLITE_BUSY at once (its busy handler would deadlock), so the switch is retried here.
    const mode = await retryWhileBusy(async () => database.pragma('journal_mode = WAL', { simple: true }), SQLITE_BUSY_TIMEOUT_MS);
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`SQLite refused WAL mode (journal_mode=${String(mode)})`);
    // No fsync per commit on the serving thread (SQLite's NORMAL in WAL mode): every answered change is followed by
    // its audit outcome event, whose commit (synchronous=FULL, audit-writer.ts) fsyncs the WAL — the whole file,
    // this connection's earlier frames included — before the answer is sent; the checkpointer's PASSIVE checkpoint
    // syncs the WAL every second as well. A commit here stalled every request for one fsync (0.5–15 ms).
    database.pragma('synchronous = NORMAL');
    database.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_SAFETY_PAGES}`);
    database.pragma('foreign_keys = ON');
    database.pragma('secure_delete = ON');
    return database;
  } catch (err) {
    database.close();
    throw err;
  }
}

/**
 * Opens (creating if needed, mode 0600) and migrates the SQLite database at `file`.
 * Several instances, in one process or several, may open the same file.
 * @throws DependencyError (ERR_DEPENDENCY) when the file cannot be opened, configured or migrated (cause: the driver error).
 */
export async function openSqliteStorage(options: { file: string; walCheckpointMs?: number }): Promise<Storage> {
  let database: Database.Database;
  let realPath: string;
  try {
    database = await openDatabase(options.file);
    realPath = realpathSync(options.file);
  } catch (err) {
    throw new DependencyError(STORAGE_UNAVAILABLE, { cause: err });
  }

  const fileMutex = acquireFileMutex(realPath);
  const checkpointer = startWalCheckpointer({ file: realPath, intervalMs: options.walCheckpointMs ?? WAL_CHECKPOINT_MS, busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS });
  const dialect: StorageDialect = {
    kind: 'sqlite',
    classifyError: classifySqliteError,
    // BEGIN IMMEDIATE already serializes writers, so sequence order is commit order.
    lockAuditAppend: async () => {},
    // BEGIN IMMEDIATE holds the write lock for the whole transaction: nothing else writes until commit.
    lockPrincipal: async (trx, id) => (await trx.selectFrom('principals').select('id').where('id', '=', id).executeTakeFirst()) !== undefined,
    jsonTextArray: (column) => sql<string>`json_group_array(${column})`,
    containsText: (column, needle) => sql<SqlBool>`instr(${column}, ${needle}) > 0`,
    // A TRUNCATE checkpoint must wait out every reader and writer of the WAL, then copy it and fsync: the
    // checkpointer's thread does it, never the event loop (wal-checkpointer.ts).
    afterDestroy: () => checkpointer.truncate(),
    afterClose: fileMutex.release,
  };
  // From here on the lock waits are the dialect's, asynchronous (serialized-sqlite-dialect.ts).
  database.pragma('busy_timeout = 0');
  const db = new Kysely<StorageDatabase>({ dialect: new SerializedSqliteDialect({ database: withStatementCache(database) }, fileMutex.mutex, SQLITE_BUSY_TIMEOUT_MS) });
  try {
    // Table rebuilds need foreign keys off while they run (the pragma is a no-op inside a transaction, so it is set
    // around the migrator's transaction), and every reference must still hold afterwards.
    database.pragma('foreign_keys = OFF');
    await migrateToLatest(db, SQLITE_MIGRATION_DIALECT);
    const broken = database.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0) throw new Error(`foreign key check failed after migration: ${broken.length} rows`);
    database.pragma('foreign_keys = ON');
  } catch (err) {
    await checkpointer.close();
    await db.destroy().catch(() => undefined);
    fileMutex.release();
    throw new DependencyError(STORAGE_UNAVAILABLE, { cause: err });
  }
  const storage = createKyselyStorage(db, dialect);
  const writer = startAuditWriter({ file: realPath, busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS });
  return {
    ...storage,
    // The writer commits in order and refuses appends behind a failure of the same chain (audit-writer.ts).
    orderedAppends: true,
    append: (events) => writer.append(events.map(auditEventToRow)),
    async close() {
      await writer.close();
      await checkpointer.close();
      await storage.close();
    },
  };
}
