/**
 * The Storage port over Kysely, shared by the SQLite and PostgreSQL adapters.
 *
 * Invariants:
 * - Every multi-statement method runs in one transaction; every conditional change is one conditional statement,
 *   so concurrent servers on one database never interleave a check and its write.
 * - addVersion is a compare-and-swap on keys.current_version: the version row is inserted only when the
 *   conditional UPDATE changed exactly one row, in the same transaction. Versions are gap-free and never duplicated.
 * - destroyKey deletes aliases, grants, versions and the key only while the key is PendingDeletion and due.
 * - Grant ids are globally unique (grants' primary key is the id alone), so every grant list orders and resumes by
 *   grant id, and a grant marker is the id of the last grant returned. Names are unique per key (NULLs are distinct).
 * - Lists page by their ordering column; a marker names the last item returned; nextMarker only when more follow.
 * - Everything thrown is a DataDefenderError whose message never carries driver text (see storage-dialect.ts).
 */
import type { Kysely } from 'kysely';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../errors/index.js';
import type { AuditEvent, StoredAuditEvent } from '../../ports/audit-sink.js';
import type {
  AccessKeyRecord,
  AliasRecord,
  GrantRecord,
  KeyPatch,
  KeyRecord,
  KeyState,
  KeyVersionRecord,
  Page,
  PageRequest,
  PrincipalRecord,
  Storage,
  TokenRecord,
} from '../../ports/storage.js';
import { decodeMarker, encodeMarker, type MarkerList } from './markers.js';
import {
  accessKeyToRow,
  aliasToRow,
  auditEventToRow,
  grantToRow,
  keyPatchToRow,
  keyToRow,
  principalToRow,
  rowToAccessKey,
  rowToAlias,
  rowToGrant,
  rowToAuditEvent,
  rowToKey,
  rowToPrincipal,
  rowToToken,
  rowToVersion,
  toMillis,
  toNullableMillis,
  tokenToRow,
  versionToRow,
} from './rows.js';
import type { StorageDatabase } from './schema.js';
import { translateError, type ConflictMapping, type StorageDialect } from './storage-dialect.js';

/** Rows per INSERT statement in an audit append (14 parameters each; well under both engines' limits). */
const AUDIT_ROWS_PER_STATEMENT = 500;

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('The limit must be a positive integer.');
  return limit;
}

function paged<R, T>(list: MarkerList, limit: number, rows: R[], toRecord: (row: R) => T, cursor: (row: R) => string): Page<T> {
  if (rows.length <= limit) return { items: rows.map(toRecord) };
  const items = rows.slice(0, limit);
  return { items: items.map(toRecord), nextMarker: encodeMarker(list, cursor(items[items.length - 1]!)) };
}

/**
 * Builds the Storage over an open, migrated Kysely instance. `close` destroys the instance.
 * @throws (from every method) DependencyError when the database cannot be reached, InternalError for anything unexpected.
 */
export function createKyselyStorage(db: Kysely<StorageDatabase>, dialect: StorageDialect): Storage {
  const guard = async <T>(work: () => Promise<T>, conflicts?: ConflictMapping): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw translateError(err, dialect, conflicts);
    }
  };
  let closing: Promise<void> | undefined;

  return {
    kind: dialect.kind,

    // ---- keys ---------------------------------------------------------------------------------------------

    createKey(key: KeyRecord, first: KeyVersionRecord | null): Promise<void> {
      return guard(
        async () => {
          if (first === null ? key.currentVersion !== 0 || key.state !== 'PendingImport' : first.keyId !== key.id || first.version !== key.currentVersion) {
            throw new ValidationError('The first version must belong to the key and be its current version (none only for PendingImport).');
          }
          const keyRow = keyToRow(key);
          const versionRow = first === null ? undefined : versionToRow(first);
          await db.transaction().execute(async (trx) => {
            await trx.insertInto('keys').values(keyRow).execute();
            if (versionRow) await trx.insertInto('key_versions').values(versionRow).execute();
          });
        },
        { unique: (cause) => new AlreadyExistsError('A key with this id already exists.', { cause }) },
      );
    },

    getKey(id: string): Promise<KeyRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('keys').selectAll().where('id', '=', id).executeTakeFirst();
        return row && rowToKey(row);
      });
    },

    listKeys(page: PageRequest): Promise<Page<KeyRecord>> {
      return guard(async () => {
        const limit = checkLimit(page.limit);
        const after = page.marker === undefined ? undefined : decodeMarker('keys', page.marker);
        const rows = await db
          .selectFrom('keys')
          .selectAll()
          .$if(after !== undefined, (q) => q.where('id', '>', after!))
          .orderBy('id')
          .limit(limit + 1)
          .execute();
        return paged('keys', limit, rows, rowToKey, (row) => row.id);
      });
    },

    updateKey(id: string, patch: KeyPatch, ifStates?: readonly KeyState[]): Promise<KeyRecord | undefined> {
      return guard(async () => {
        if (ifStates !== undefined && ifStates.length === 0) return undefined;
        const states = ifStates === undefined ? undefined : [...ifStates];
        const values = keyPatchToRow(patch);
        const row =
          Object.keys(values).length === 0
            ? await db
                .selectFrom('keys')
                .selectAll()
                .where('id', '=', id)
                .$if(states !== undefined, (q) => q.where('state', 'in', states!))
                .executeTakeFirst()
            : await db
                .updateTable('keys')
                .set(values)
                .where('id', '=', id)
                .$if(states !== undefined, (q) => q.where('state', 'in', states!))
                .returningAll()
                .executeTakeFirst();
        return row && rowToKey(row);
      });
    },

    // ---- versions -----------------------------------------------------------------------------------------

    getVersion(keyId: string, version: number): Promise<KeyVersionRecord | undefined> {
      return guard(async () => {
        const row = await db
          .selectFrom('key_versions')
          .selectAll()
          .where('key_id', '=', keyId)
          .where('version', '=', version)
          .executeTakeFirst();
        return row && rowToVersion(row);
      });
    },

    listVersions(keyId: string): Promise<KeyVersionRecord[]> {
      return guard(async () => {
        const rows = await db.selectFrom('key_versions').selectAll().where('key_id', '=', keyId).orderBy('version').execute();
        return rows.map(rowToVersion);
      });
    },

    addVersion(version: KeyVersionRecord, expectedCurrent: number, nextRotationAt: Date | null): Promise<boolean> {
      return guard(async () => {
        if (!Number.isSafeInteger(expectedCurrent) || version.version !== expectedCurrent + 1) {
          throw new ValidationError('A new version must be numbered expectedCurrent + 1.');
        }
        const versionRow = versionToRow(version);
        const next = toNullableMillis(nextRotationAt);
        return db.transaction().execute(async (trx) => {
          // The compare-and-swap: only one of any number of concurrent rotations from `expectedCurrent` changes the row.
          const swapped = await trx
            .updateTable('keys')
            .set({ current_version: version.version, next_rotation_at: next })
            .where('id', '=', version.keyId)
            .where('current_version', '=', expectedCurrent)
            .where('state', '=', 'Enabled')
            .executeTakeFirst();
          if (swapped.numUpdatedRows !== 1n) return false;
          await trx.insertInto('key_versions').values(versionRow).execute();
          return true;
        });
      });
    },

    importMaterial(version: KeyVersionRecord): Promise<boolean> {
      return guard(async () => {
        if (version.version !== 1) throw new ValidationError('Imported material is version 1.');
        const versionRow = versionToRow(version);
        return db.transaction().execute(async (trx) => {
          const swapped = await trx
            .updateTable('keys')
            .set({ current_version: 1, state: 'Enabled' })
            .where('id', '=', version.keyId)
            .where('current_version', '=', 0)
            .where('state', '=', 'PendingImport')
            .executeTakeFirst();
          if (swapped.numUpdatedRows !== 1n) return false;
          await trx.insertInto('key_versions').values(versionRow).execute();
          return true;
        });
      });
    },

    deleteMaterial(keyId: string): Promise<boolean> {
      return guard(async () => {
        const deleted = await db.transaction().execute(async (trx) => {
          const reset = await trx
            .updateTable('keys')
            .set({ current_version: 0, state: 'PendingImport' })
            .where('id', '=', keyId)
            .where('origin', '=', 'EXTERNAL')
            .where('state', 'in', ['Enabled', 'Disabled'])
            .executeTakeFirst();
          if (reset.numUpdatedRows !== 1n) return false;
          await trx.deleteFrom('key_versions').where('key_id', '=', keyId).execute();
          return true;
        });
        if (deleted && dialect.afterDestroy) await dialect.afterDestroy(db).catch(() => undefined);
        return deleted;
      });
    },

    // ---- jobs ---------------------------------------------------------------------------------------------

    listKeysDueForRotation(now: Date, limit: number): Promise<KeyRecord[]> {
      return guard(async () => {
        const rows = await db
          .selectFrom('keys')
          .selectAll()
          .where('state', '=', 'Enabled')
          .where('next_rotation_at', '<=', toMillis(now))
          .orderBy('next_rotation_at')
          .orderBy('id')
          .limit(checkLimit(limit))
          .execute();
        return rows.map(rowToKey);
      });
    },

    listKeysDueForDeletion(now: Date, limit: number): Promise<KeyRecord[]> {
      return guard(async () => {
        const rows = await db
          .selectFrom('keys')
          .selectAll()
          .where('state', '=', 'PendingDeletion')
          .where('deletion_at', '<=', toMillis(now))
          .orderBy('deletion_at')
          .orderBy('id')
          .limit(checkLimit(limit))
          .execute();
        return rows.map(rowToKey);
      });
    },

    destroyKey(id: string, now: Date): Promise<boolean> {
      return guard(async () => {
        const at = toMillis(now);
        const destroyed = await db.transaction().execute(async (trx) => {
          // Re-check the condition and lock the key row (PostgreSQL) in one statement; a cancelled or
          // not-yet-due deletion changes nothing.
          const due = await trx
            .updateTable('keys')
            .set({ state: 'PendingDeletion' })
            .where('id', '=', id)
            .where('state', '=', 'PendingDeletion')
            .where('deletion_at', '<=', at)
            .executeTakeFirst();
          if (due.numUpdatedRows !== 1n) return false;
          await trx.deleteFrom('aliases').where('key_id', '=', id).execute();
          await trx.deleteFrom('grants').where('key_id', '=', id).execute();
          await trx.deleteFrom('key_versions').where('key_id', '=', id).execute();
          await trx.deleteFrom('keys').where('id', '=', id).execute();
          return true;
        });
        if (destroyed && dialect.afterDestroy) {
          // Best effort: the key is already gone; failing to flush now only delays the overwrite.
          await dialect.afterDestroy(db).catch(() => undefined);
        }
        return destroyed;
      });
    },

    // ---- aliases ------------------------------------------------------------------------------------------

    createAlias(alias: AliasRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('aliases').values(aliasToRow(alias)).execute();
        },
        {
          unique: (cause) => new AlreadyExistsError('An alias with this name already exists.', { cause }),
          foreignKey: (cause) => new NotFoundError('The target key does not exist.', { cause }),
        },
      );
    },

    updateAlias(name: string, keyId: string, now: Date): Promise<boolean> {
      return guard(
        async () => {
          const result = await db
            .updateTable('aliases')
            .set({ key_id: keyId, updated_at: toMillis(now) })
            .where('name', '=', name)
            .executeTakeFirst();
          return result.numUpdatedRows === 1n;
        },
        { foreignKey: (cause) => new NotFoundError('The target key does not exist.', { cause }) },
      );
    },

    deleteAlias(name: string): Promise<boolean> {
      return guard(async () => {
        const result = await db.deleteFrom('aliases').where('name', '=', name).executeTakeFirst();
        return result.numDeletedRows === 1n;
      });
    },

    getAlias(name: string): Promise<AliasRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('aliases').selectAll().where('name', '=', name).executeTakeFirst();
        return row && rowToAlias(row);
      });
    },

    listAliases(page: PageRequest & { keyId?: string }): Promise<Page<AliasRecord>> {
      return guard(async () => {
        const limit = checkLimit(page.limit);
        const after = page.marker === undefined ? undefined : decodeMarker('aliases', page.marker);
        const rows = await db
          .selectFrom('aliases')
          .selectAll()
          .$if(page.keyId !== undefined, (q) => q.where('key_id', '=', page.keyId!))
          .$if(after !== undefined, (q) => q.where('name', '>', after!))
          .orderBy('name')
          .limit(limit + 1)
          .execute();
        return paged('aliases', limit, rows, rowToAlias, (row) => row.name);
      });
    },

    // ---- grants -------------------------------------------------------------------------------------------

    createGrant(grant: GrantRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('grants').values(grantToRow(grant)).execute();
        },
        {
          unique: (cause) => new AlreadyExistsError('A grant with this id or name already exists on the key.', { cause }),
          foreignKey: (cause) => new NotFoundError('The key does not exist.', { cause }),
        },
      );
    },

    getGrant(keyId: string, grantId: string): Promise<GrantRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('grants').selectAll().where('id', '=', grantId).where('key_id', '=', keyId).executeTakeFirst();
        return row && rowToGrant(row);
      });
    },

    getGrantByName(keyId: string, name: string): Promise<GrantRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('grants').selectAll().where('key_id', '=', keyId).where('name', '=', name).executeTakeFirst();
        return row && rowToGrant(row);
      });
    },

    listGrants(page: PageRequest & { keyId: string; granteePrincipal?: string }): Promise<Page<GrantRecord>> {
      return guard(async () => {
        const limit = checkLimit(page.limit);
        const after = page.marker === undefined ? undefined : decodeMarker('grants', page.marker);
        const rows = await db
          .selectFrom('grants')
          .selectAll()
          .where('key_id', '=', page.keyId)
          .$if(page.granteePrincipal !== undefined, (q) => q.where('grantee_principal', '=', page.granteePrincipal!))
          .$if(after !== undefined, (q) => q.where('id', '>', after!))
          .orderBy('id')
          .limit(limit + 1)
          .execute();
        return paged('grants', limit, rows, rowToGrant, (row) => row.id);
      });
    },

    listRetirableGrants(page: PageRequest & { retiringPrincipal: string }): Promise<Page<GrantRecord>> {
      return guard(async () => {
        const limit = checkLimit(page.limit);
        // Grant ids are globally unique, so the id alone orders and resumes the list, across keys
        // (index grants_retiring: retiring_principal, id).
        const after = page.marker === undefined ? undefined : decodeMarker('retirable-grants', page.marker);
        const rows = await db
          .selectFrom('grants')
          .selectAll()
          .where('retiring_principal', '=', page.retiringPrincipal)
          .$if(after !== undefined, (q) => q.where('id', '>', after!))
          .orderBy('id')
          .limit(limit + 1)
          .execute();
        return paged('retirable-grants', limit, rows, rowToGrant, (row) => row.id);
      });
    },

    grantsFor(keyId: string, granteePrincipal: string, limit: number): Promise<GrantRecord[]> {
      return guard(async () => {
        const rows = await db
          .selectFrom('grants')
          .selectAll()
          .where('key_id', '=', keyId)
          .where('grantee_principal', '=', granteePrincipal)
          .orderBy('id')
          .limit(checkLimit(limit))
          .execute();
        return rows.map(rowToGrant);
      });
    },

    deleteGrant(keyId: string, grantId: string): Promise<boolean> {
      return guard(async () => {
        const result = await db.deleteFrom('grants').where('key_id', '=', keyId).where('id', '=', grantId).executeTakeFirst();
        return result.numDeletedRows === 1n;
      });
    },

    // ---- principals and credentials ----------------------------------------------------------------------

    createPrincipal(principal: PrincipalRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('principals').values(principalToRow(principal)).execute();
        },
        { unique: (cause) => new AlreadyExistsError('A principal with this id or name already exists.', { cause }) },
      );
    },

    getPrincipal(id: string): Promise<PrincipalRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('principals').selectAll().where('id', '=', id).executeTakeFirst();
        return row && rowToPrincipal(row);
      });
    },

    getPrincipalByName(name: string): Promise<PrincipalRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('principals').selectAll().where('name', '=', name).executeTakeFirst();
        return row && rowToPrincipal(row);
      });
    },

    createToken(token: TokenRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('tokens').values(tokenToRow(token)).execute();
        },
        {
          unique: (cause) => new AlreadyExistsError('A token with this hash or accessor already exists.', { cause }),
          foreignKey: (cause) => new NotFoundError('The principal does not exist.', { cause }),
        },
      );
    },

    getToken(hash: string): Promise<TokenRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
        return row && rowToToken(row);
      });
    },

    createAccessKey(key: AccessKeyRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('access_keys').values(accessKeyToRow(key)).execute();
        },
        {
          unique: (cause) => new AlreadyExistsError('An access key with this id already exists.', { cause }),
          foreignKey: (cause) => new NotFoundError('The principal does not exist.', { cause }),
        },
      );
    },

    getAccessKey(id: string): Promise<AccessKeyRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('access_keys').selectAll().where('id', '=', id).executeTakeFirst();
        return row && rowToAccessKey(row);
      });
    },

    // ---- audit --------------------------------------------------------------------------------------------

    append(events: readonly AuditEvent[]): Promise<void> {
      return guard(async () => {
        if (events.length === 0) return;
        const rows = events.map(auditEventToRow);
        // One transaction for the whole batch; resolves only after COMMIT (synchronous=FULL on SQLite).
        await db.transaction().execute(async (trx) => {
          await dialect.lockAuditAppend(trx);
          for (let i = 0; i < rows.length; i += AUDIT_ROWS_PER_STATEMENT) {
            await trx.insertInto('audit_events').values(rows.slice(i, i + AUDIT_ROWS_PER_STATEMENT)).execute();
          }
        });
      });
    },

    readAudit(options: { afterSequence?: number; limit: number }): Promise<StoredAuditEvent[]> {
      return guard(async () => {
        const limit = checkLimit(options.limit);
        const after = options.afterSequence ?? 0;
        const rows = await db
          .selectFrom('audit_events')
          .selectAll()
          .where('sequence', '>', after)
          .orderBy('sequence')
          .limit(limit)
          .execute();
        return rows.map(rowToAuditEvent);
      });
    },

    close(): Promise<void> {
      closing ??= guard(async () => {
        try {
          await db.destroy();
        } finally {
          dialect.afterClose?.();
        }
      });
      return closing;
    },
  };
}
