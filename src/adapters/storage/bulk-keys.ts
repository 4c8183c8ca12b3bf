/**
 * The BulkKeyStore over Kysely (both engines): many keys with their first versions in multi-row INSERTs.
 * Invariants:
 * - one call is one transaction: every key and version of the call, or (on any error) none of them;
 * - the rows are exactly those createKey writes (keyToRow, versionToRow), so a bulk key is indistinguishable from one
 *   created through the API: its version is wrapped by the root of trust with AAD binding key id and version;
 * - an id that exists already fails the whole call with AlreadyExistsError: seeding never overwrites a key;
 * - statements stay well under both engines' parameter limits (SQLite 32,766, PostgreSQL 65,535).
 */
import type { Kysely } from 'kysely';
import { AlreadyExistsError, ValidationError } from '../../errors/index.js';
import type { BulkKeyStore, KeyWithFirstVersion } from '../../ports/storage.js';
import { keyToRow, versionToRow } from './rows.js';
import type { StorageDatabase } from './schema.js';
import type { ConflictMapping } from './storage-dialect.js';

type Guard = <T>(work: () => Promise<T>, conflicts?: ConflictMapping) => Promise<T>;

/** Rows per INSERT statement: keys have 15 columns, so at most 15,000 parameters a statement. */
const BULK_ROWS_PER_STATEMENT = 1000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function checkEntry({ key, first }: KeyWithFirstVersion): void {
  if (first.keyId !== key.id || first.version !== key.currentVersion || first.version < 1) {
    throw new ValidationError('The first version must belong to the key and be its current version.');
  }
}

export function createBulkKeyQueries(db: Kysely<StorageDatabase>, guard: Guard): BulkKeyStore {
  return {
    insertKeys(entries) {
      return guard(
        async () => {
          if (entries.length === 0) return;
          entries.forEach(checkEntry);
          // In id order, so that consecutive inserts land on neighbouring index pages (random UUIDs otherwise touch a
          // random leaf each).
          const sorted = [...entries].sort((a, b) => (a.key.id < b.key.id ? -1 : a.key.id > b.key.id ? 1 : 0));
          const keyRows = sorted.map((e) => keyToRow(e.key));
          const versionRows = sorted.map((e) => versionToRow(e.first));
          await db.transaction().execute(async (trx) => {
            for (const rows of chunks(keyRows, BULK_ROWS_PER_STATEMENT)) await trx.insertInto('keys').values(rows).execute();
            for (const rows of chunks(versionRows, BULK_ROWS_PER_STATEMENT)) await trx.insertInto('key_versions').values(rows).execute();
          });
        },
        { unique: (cause) => new AlreadyExistsError('A key with this id already exists.', { cause }) },
      );
    },
  };
}
