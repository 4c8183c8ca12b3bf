/**
 * What differs between the engines behind the shared Kysely storage, and the one place driver errors are
 * translated. Invariant: no driver message reaches a DataDefenderError's message; the driver error is the cause.
 */
import type { Expression, Kysely, RawBuilder, SqlBool, Transaction } from 'kysely';
import { DataDefenderError, DependencyError, InternalError } from '../../errors/index.js';
import type { StorageDatabase } from './schema.js';

export const STORAGE_UNAVAILABLE = 'The storage backend is unavailable.';

/** How a driver error is handled: constraint violations map per call; `unavailable` becomes DependencyError. */
export type DriverErrorClass = 'unique' | 'foreign-key' | 'unavailable' | 'other';

export interface StorageDialect {
  readonly kind: 'sqlite' | 'postgres';
  classifyError(err: unknown): DriverErrorClass;
  /**
   * Runs first in every audit append transaction; holds until commit so that sequence order equals commit order
   * (a reader paging by `afterSequence` can never skip an event that commits late).
   */
  lockAuditAppend(trx: Transaction<StorageDatabase>): Promise<void>;
  /**
   * Locks principal `id` until commit, so that per-principal checks (the count of Active access keys) and the writes
   * that depend on them are serialized across servers; a concurrent insert referencing the principal waits too.
   * Returns whether the principal exists. PostgreSQL: SELECT ... FOR UPDATE. SQLite: every transaction is
   * BEGIN IMMEDIATE, which already holds the database's write lock, so a plain SELECT.
   */
  lockPrincipal(trx: Transaction<StorageDatabase>, id: string): Promise<boolean>;
  /** The aggregate of a text column into JSON array text, in no particular order; `[]` over no rows. */
  jsonTextArray(column: Expression<string>): RawBuilder<string>;
  /**
   * Whether a text column contains `needle` as an exact, case-sensitive substring (no LIKE: no character of the
   * needle is a wildcard or an escape). False or null when the column is null.
   */
  containsText(column: Expression<string | null>, needle: string): RawBuilder<SqlBool>;
  /** Best-effort work after a key was destroyed and committed (e.g. flushing freed pages out of a WAL). */
  afterDestroy?(db: Kysely<StorageDatabase>): Promise<void>;
  /** Called once after the Kysely instance is destroyed. */
  afterClose?(): void;
}

/** Errors to raise for constraint violations in one call; each receives the driver error as its cause. */
export interface ConflictMapping {
  unique?: (cause: unknown) => DataDefenderError;
  foreignKey?: (cause: unknown) => DataDefenderError;
}

/**
 * Turns anything a driver throws into a DataDefenderError with a fixed message and the original as cause:
 * a mapped constraint violation, DependencyError when the database is unavailable, InternalError otherwise.
 */
export function translateError(err: unknown, dialect: StorageDialect, conflicts: ConflictMapping = {}): DataDefenderError {
  if (err instanceof DataDefenderError) return err;
  switch (dialect.classifyError(err)) {
    case 'unique':
      return conflicts.unique?.(err) ?? new InternalError({ cause: err });
    case 'foreign-key':
      return conflicts.foreignKey?.(err) ?? new InternalError({ cause: err });
    case 'unavailable':
      return new DependencyError(STORAGE_UNAVAILABLE, { cause: err });
    case 'other':
      return new InternalError({ cause: err });
  }
}

/** Node's system error codes for a network or file-system failure (ECONNREFUSED, ENOENT, EACCES, ...). */
export function isSystemErrorCode(code: unknown): boolean {
  return typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code);
}
