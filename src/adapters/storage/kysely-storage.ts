/**
 * The Storage port over Kysely, shared by the SQLite and PostgreSQL adapters.
 *
 * Invariants:
 * - Every multi-statement method runs in one transaction; every conditional change is one conditional statement,
 *   so concurrent servers on one database never interleave a check and its write.
 * - addVersion is a compare-and-swap on keys.current_version: the version row is inserted only when the
 *   conditional UPDATE changed exactly one row, in the same transaction. Versions are gap-free and never duplicated.
 * - destroyKey deletes aliases, grants, versions and the key only while the key is PendingDeletion and due; the
 *   dialect's afterDestroy flush follows each call, or once at the end of an enclosing batchDestroys.
 * - Grant ids are globally unique (grants' primary key is the id alone), so every grant list orders and resumes by
 *   grant id, and a grant marker is the id of the last grant returned. Names are unique per key (NULLs are distinct).
 * - Lists page by their ordering column; a marker names the last item returned (approvals: its created_at and id);
 *   nextMarker only when more follow.
 * - A principal's policies are rows of principal_policies, read with the principal in one statement and replaced as a
 *   whole in the transaction that updates it; a missing policy is a NotFoundError and rolls everything back. A policy
 *   cannot be deleted while attached (the reference is ON DELETE RESTRICT).
 * - The Active-access-key limit: the count and the insert or activation run in one transaction after
 *   dialect.lockPrincipal, so concurrent servers cannot exceed maxActive (PostgreSQL: the principal row is locked;
 *   SQLite: BEGIN IMMEDIATE serializes every writer). deletePrincipal takes the same lock before deleting the
 *   principal's credentials, so a credential created concurrently fails on its reference instead of surviving it.
 * - decideApproval and consumeApproval are single conditional UPDATEs on status and expires_at: of racing callers,
 *   exactly one succeeds.
 * - Everything thrown is a DataDefenderError whose message never carries driver text (see storage-dialect.ts).
 * - insertKeys (bulk-keys.ts) writes the rows createKey writes, many per statement, all or nothing per call.
 */
import type { Kysely, Transaction } from 'kysely';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../errors/index.js';
import type { AuditEvent, AuditSearch, StoredAuditEvent } from '../../ports/audit-sink.js';
import type {
  AccessKeyRecord,
  AccessKeyStatus,
  AliasRecord,
  ApprovalRecord,
  ApprovalStatus,
  ClientCertificateRecord,
  GrantRecord,
  KeyPatch,
  KeyRecord,
  KeyState,
  KeyVersionRecord,
  ManagedPolicyRecord,
  Page,
  PageRequest,
  PrincipalPatch,
  PrincipalRecord,
  Storage,
  TokenRecord,
} from '../../ports/storage.js';
import { decodeMarker, decodeTimeMarker, encodeMarker, encodeTimeMarker, type MarkerList } from './markers.js';
import {
  accessKeyToRow,
  aliasToRow,
  approvalToRow,
  auditEventToRow,
  clientCertificateToRow,
  compareCodePoints,
  grantToRow,
  keyPatchToRow,
  keyToRow,
  policyToRow,
  principalPatchToRow,
  principalToRow,
  rowToAccessKey,
  rowToAlias,
  rowToApproval,
  rowToClientCertificate,
  rowToGrant,
  rowToAuditEvent,
  rowToKey,
  rowToPolicy,
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
import { createAuditChainQueries } from './audit-chain-queries.js';
import { createAuditArchiveQueries } from './audit-archive-queries.js';
import { createRootRingQueries } from './root-ring-queries.js';
import { createPkiQueries } from './pki-queries.js';
import { createCustomKeyStoreQueries } from './custom-key-store-queries.js';
import { createJobLeaseQueries } from './job-lease-queries.js';
import { createMetadataChangeQueries } from './metadata-change-queries.js';
import { createBulkKeyQueries } from './bulk-keys.js';

/** Rows per INSERT statement in an audit append (14 parameters each; well under both engines' limits). */
const AUDIT_ROWS_PER_STATEMENT = 500;

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('The limit must be a positive integer.');
  return limit;
}

/** A page from `limit + 1` rows: the first `limit`, and the marker of the last of them when more follow. */
function pageOf<R, T>(limit: number, rows: R[], toRecord: (row: R) => T, markerOf: (last: R) => string): Page<T> {
  if (rows.length <= limit) return { items: rows.map(toRecord) };
  const items = rows.slice(0, limit);
  return { items: items.map(toRecord), nextMarker: markerOf(items[items.length - 1]!) };
}

function paged<R, T>(list: MarkerList, limit: number, rows: R[], toRecord: (row: R) => T, cursor: (row: R) => string): Page<T> {
  return pageOf(limit, rows, toRecord, (last) => encodeMarker(list, cursor(last)));
}

function checkMaxActive(maxActive: number): number {
  if (!Number.isSafeInteger(maxActive) || maxActive < 0) throw new ValidationError('The access key limit must be a non-negative integer.');
  return maxActive;
}

const MISSING_PRINCIPAL = 'The principal does not exist.';
/** When a policy vanished between requirePolicies and the insert (its name is then unknown). */
const MISSING_POLICY = 'A policy to attach does not exist.';

/** Policy names to attach: each once, in code-point order. */
function policyNames(names: readonly string[]): string[] {
  return [...new Set(names)].sort(compareCodePoints);
}

/** @throws NotFoundError naming the first policy (in code-point order) that does not exist. */
async function requirePolicies(trx: Transaction<StorageDatabase>, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const found = new Set((await trx.selectFrom('policies').select('name').where('name', 'in', [...names]).execute()).map((r) => r.name));
  const missing = names.find((name) => !found.has(name));
  if (missing !== undefined) throw new NotFoundError(`Policy '${missing}' does not exist.`);
}

async function attachPolicies(trx: Transaction<StorageDatabase>, principalId: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await trx
    .insertInto('principal_policies')
    .values(names.map((name) => ({ principal_id: principalId, policy_name: name })))
    .execute();
}

async function countActiveKeys(trx: Transaction<StorageDatabase>, principalId: string): Promise<number> {
  const { n } = await trx
    .selectFrom('access_keys')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('principal_id', '=', principalId)
    .where('status', '=', 'Active')
    .executeTakeFirstOrThrow();
  return Number(n);
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
  /** Set inside batchDestroys: whether a key was destroyed since it began (its flush is then owed at the end). */
  let deferredFlush: { owed: boolean } | undefined;
  // Best effort: the key is already gone; failing to flush now only delays the overwrite.
  const flushDestroyed = async () => dialect.afterDestroy && (await dialect.afterDestroy(db).catch(() => undefined));
  /** Principals with `policies`, the JSON array of their attached policy names: one statement, one snapshot. */
  const selectPrincipals = (q: Kysely<StorageDatabase>) =>
    q
      .selectFrom('principals')
      .selectAll('principals')
      .select((eb) =>
        eb
          .selectFrom('principal_policies')
          .select((sub) => dialect.jsonTextArray(sub.ref('principal_policies.policy_name')).as('names'))
          .whereRef('principal_policies.principal_id', '=', 'principals.id')
          .$asScalar()
          .$notNull()
          .as('policies'),
      );

  return {
    kind: dialect.kind,
    ...createAuditChainQueries(db, guard),
    ...createAuditArchiveQueries(db, guard),
    ...createRootRingQueries(db, guard),
    ...createPkiQueries(db, guard),
    ...createCustomKeyStoreQueries(db, guard),
    ...createJobLeaseQueries(db, guard, dialect.kind),
    ...createMetadataChangeQueries(db, guard, flushDestroyed),
    ...createBulkKeyQueries(db, guard),

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
        if (destroyed && deferredFlush) deferredFlush.owed = true;
        else if (destroyed) await flushDestroyed();
        return destroyed;
      });
    },

    async batchDestroys<T>(work: () => Promise<T>): Promise<T> {
      if (deferredFlush) return work();
      const batch = (deferredFlush = { owed: false });
      try {
        return await work();
      } finally {
        deferredFlush = undefined;
        if (batch.owed) await flushDestroyed();
      }
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

    // ---- principals ---------------------------------------------------------------------------------------

    createPrincipal(principal: PrincipalRecord): Promise<void> {
      return guard(
        async () => {
          const row = principalToRow(principal);
          const policies = policyNames(principal.policies);
          await db.transaction().execute(async (trx) => {
            await requirePolicies(trx, policies);
            await trx.insertInto('principals').values(row).execute();
            await attachPolicies(trx, principal.id, policies);
          });
        },
        {
          unique: (cause) => new AlreadyExistsError(`Principal '${principal.name}' already exists.`, { cause }),
          // Only when a policy is deleted between the existence check and the insert.
          foreignKey: (cause) => new NotFoundError(MISSING_POLICY, { cause }),
        },
      );
    },

    getPrincipal(id: string): Promise<PrincipalRecord | undefined> {
      return guard(async () => {
        const row = await selectPrincipals(db).where('principals.id', '=', id).executeTakeFirst();
        return row && rowToPrincipal(row);
      });
    },

    getPrincipalByName(name: string): Promise<PrincipalRecord | undefined> {
      return guard(async () => {
        const row = await selectPrincipals(db).where('principals.name', '=', name).executeTakeFirst();
        return row && rowToPrincipal(row);
      });
    },

    listPrincipals(page: PageRequest): Promise<Page<PrincipalRecord>> {
      return guard(async () => {
        const limit = checkLimit(page.limit);
        const after = page.marker === undefined ? undefined : decodeMarker('principals', page.marker);
        const rows = await selectPrincipals(db)
          .$if(after !== undefined, (q) => q.where('principals.name', '>', after!))
          .orderBy('principals.name')
          .limit(limit + 1)
          .execute();
        return paged('principals', limit, rows, rowToPrincipal, (row) => row.name);
      });
    },

    updatePrincipal(id: string, patch: PrincipalPatch, now: Date): Promise<PrincipalRecord | undefined> {
      return guard(
        async () => {
          const values = { ...principalPatchToRow(patch), updated_at: toMillis(now) };
          const policies = patch.policies === undefined ? undefined : policyNames(patch.policies);
          return db.transaction().execute(async (trx) => {
            // The UPDATE locks the row (PostgreSQL), so concurrent updates of one principal apply one after the other.
            const updated = await trx.updateTable('principals').set(values).where('id', '=', id).executeTakeFirst();
            if (updated.numUpdatedRows !== 1n) return undefined;
            if (policies !== undefined) {
              await requirePolicies(trx, policies); // throws, rolling the whole update back
              await trx.deleteFrom('principal_policies').where('principal_id', '=', id).execute();
              await attachPolicies(trx, id, policies);
            }
            return rowToPrincipal(await selectPrincipals(trx).where('principals.id', '=', id).executeTakeFirstOrThrow());
          });
        },
        { foreignKey: (cause) => new NotFoundError(MISSING_POLICY, { cause }) },
      );
    },

    deletePrincipal(id: string): Promise<boolean> {
      return guard(async () =>
        db.transaction().execute(async (trx) => {
          // Locked first: a credential created concurrently for this principal waits, then fails on its reference.
          if (!(await dialect.lockPrincipal(trx, id))) return false;
          // tokens and access_keys reference principals without ON DELETE CASCADE (0001); the others cascade, but
          // deleting every dependant explicitly keeps the method independent of that.
          await trx.deleteFrom('tokens').where('principal_id', '=', id).execute();
          await trx.deleteFrom('access_keys').where('principal_id', '=', id).execute();
          await trx.deleteFrom('client_certificates').where('principal_id', '=', id).execute();
          await trx.deleteFrom('principal_policies').where('principal_id', '=', id).execute();
          const deleted = await trx.deleteFrom('principals').where('id', '=', id).executeTakeFirst();
          return deleted.numDeletedRows === 1n;
        }),
      );
    },

    // ---- tokens -------------------------------------------------------------------------------------------

    createToken(token: TokenRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('tokens').values(tokenToRow(token)).execute();
        },
        {
          unique: (cause) => new AlreadyExistsError('A token with this hash or accessor already exists.', { cause }),
          foreignKey: (cause) => new NotFoundError(MISSING_PRINCIPAL, { cause }),
        },
      );
    },

    getToken(hash: string): Promise<TokenRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
        return row && rowToToken(row);
      });
    },

    getTokenByAccessor(accessor: string): Promise<TokenRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('tokens').selectAll().where('accessor', '=', accessor).executeTakeFirst();
        return row && rowToToken(row);
      });
    },

    listTokens(principalId: string): Promise<TokenRecord[]> {
      return guard(async () => {
        const rows = await db
          .selectFrom('tokens')
          .selectAll()
          .where('principal_id', '=', principalId)
          .orderBy('created_at')
          .orderBy('accessor')
          .execute();
        return rows.map(rowToToken);
      });
    },

    deleteToken(accessor: string): Promise<boolean> {
      return guard(async () => {
        const result = await db.deleteFrom('tokens').where('accessor', '=', accessor).executeTakeFirst();
        return result.numDeletedRows === 1n;
      });
    },

    // ---- access keys --------------------------------------------------------------------------------------

    createAccessKey(key: AccessKeyRecord, maxActive: number): Promise<boolean> {
      return guard(
        async () => {
          const max = checkMaxActive(maxActive);
          const row = accessKeyToRow(key);
          return db.transaction().execute(async (trx) => {
            // The count and the insert are serialized per principal by the principal's row lock (see lockPrincipal).
            if (!(await dialect.lockPrincipal(trx, key.principalId))) throw new NotFoundError(MISSING_PRINCIPAL);
            if (row.status === 'Active' && (await countActiveKeys(trx, key.principalId)) >= max) return false;
            await trx.insertInto('access_keys').values(row).execute();
            return true;
          });
        },
        {
          unique: (cause) => new AlreadyExistsError('An access key with this id already exists.', { cause }),
          foreignKey: (cause) => new NotFoundError(MISSING_PRINCIPAL, { cause }),
        },
      );
    },

    getAccessKey(id: string): Promise<AccessKeyRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('access_keys').selectAll().where('id', '=', id).executeTakeFirst();
        return row && rowToAccessKey(row);
      });
    },

    listAccessKeys(principalId: string): Promise<AccessKeyRecord[]> {
      return guard(async () => {
        const rows = await db
          .selectFrom('access_keys')
          .selectAll()
          .where('principal_id', '=', principalId)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(rowToAccessKey);
      });
    },

    setAccessKeyStatus(id: string, status: AccessKeyStatus, maxActive: number): Promise<'updated' | 'not-found' | 'limit'> {
      return guard(async () => {
        if (status === 'Inactive') {
          const result = await db.updateTable('access_keys').set({ status }).where('id', '=', id).executeTakeFirst();
          return result.numUpdatedRows === 1n ? 'updated' : 'not-found';
        }
        if (status !== 'Active') throw new ValidationError('An access key status is Active or Inactive.');
        const max = checkMaxActive(maxActive);
        return db.transaction().execute(async (trx) => {
          const owner = await trx.selectFrom('access_keys').select('principal_id').where('id', '=', id).executeTakeFirst();
          if (!owner) return 'not-found' as const;
          // A key never changes principal; lock that principal, then read the key's status again under the lock.
          await dialect.lockPrincipal(trx, owner.principal_id);
          const current = await trx.selectFrom('access_keys').select('status').where('id', '=', id).executeTakeFirst();
          if (!current) return 'not-found' as const;
          if (current.status === 'Active') return 'updated' as const;
          if ((await countActiveKeys(trx, owner.principal_id)) >= max) return 'limit' as const;
          await trx.updateTable('access_keys').set({ status: 'Active' }).where('id', '=', id).execute();
          return 'updated' as const;
        });
      });
    },

    deleteAccessKey(id: string): Promise<boolean> {
      return guard(async () => {
        const result = await db.deleteFrom('access_keys').where('id', '=', id).executeTakeFirst();
        return result.numDeletedRows === 1n;
      });
    },

    // ---- managed policies ---------------------------------------------------------------------------------

    createPolicy(policy: ManagedPolicyRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('policies').values(policyToRow(policy)).execute();
        },
        { unique: (cause) => new AlreadyExistsError(`Policy '${policy.name}' already exists.`, { cause }) },
      );
    },

    getPolicy(name: string): Promise<ManagedPolicyRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('policies').selectAll().where('name', '=', name).executeTakeFirst();
        return row && rowToPolicy(row);
      });
    },

    listPolicies(page: PageRequest): Promise<Page<ManagedPolicyRecord>> {
      return guard(async () => {
        const limit = checkLimit(page.limit);
        const after = page.marker === undefined ? undefined : decodeMarker('policies', page.marker);
        const rows = await db
          .selectFrom('policies')
          .selectAll()
          .$if(after !== undefined, (q) => q.where('name', '>', after!))
          .orderBy('name')
          .limit(limit + 1)
          .execute();
        return paged('policies', limit, rows, rowToPolicy, (row) => row.name);
      });
    },

    updatePolicy(
      name: string,
      patch: Pick<ManagedPolicyRecord, 'document' | 'description'>,
      now: Date,
    ): Promise<ManagedPolicyRecord | undefined> {
      return guard(async () => {
        const row = await db
          .updateTable('policies')
          .set({ document: patch.document, description: patch.description, updated_at: toMillis(now) })
          .where('name', '=', name)
          .returningAll()
          .executeTakeFirst();
        return row && rowToPolicy(row);
      });
    },

    deletePolicy(name: string): Promise<'deleted' | 'not-found' | 'attached'> {
      return guard(async () => {
        // One statement: principal_policies' RESTRICT reference refuses to delete an attached policy, and an
        // attachment being inserted concurrently holds a lock on the policy row that this delete waits for.
        try {
          const result = await db.deleteFrom('policies').where('name', '=', name).executeTakeFirst();
          return result.numDeletedRows === 1n ? 'deleted' : 'not-found';
        } catch (err) {
          if (dialect.classifyError(err) === 'foreign-key') return 'attached';
          throw err;
        }
      });
    },

    // ---- client certificates ------------------------------------------------------------------------------

    createClientCertificate(certificate: ClientCertificateRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('client_certificates').values(clientCertificateToRow(certificate)).execute();
        },
        {
          unique: (cause) => new AlreadyExistsError(`Client certificate ${certificate.fingerprint} is already mapped.`, { cause }),
          foreignKey: (cause) => new NotFoundError(MISSING_PRINCIPAL, { cause }),
        },
      );
    },

    getClientCertificate(fingerprint: string): Promise<ClientCertificateRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('client_certificates').selectAll().where('fingerprint', '=', fingerprint).executeTakeFirst();
        return row && rowToClientCertificate(row);
      });
    },

    listClientCertificates(principalId: string): Promise<ClientCertificateRecord[]> {
      return guard(async () => {
        const rows = await db
          .selectFrom('client_certificates')
          .selectAll()
          .where('principal_id', '=', principalId)
          .orderBy('created_at')
          .orderBy('fingerprint')
          .execute();
        return rows.map(rowToClientCertificate);
      });
    },

    deleteClientCertificate(fingerprint: string): Promise<boolean> {
      return guard(async () => {
        const result = await db.deleteFrom('client_certificates').where('fingerprint', '=', fingerprint).executeTakeFirst();
        return result.numDeletedRows === 1n;
      });
    },

    // ---- approvals ----------------------------------------------------------------------------------------

    createApproval(approval: ApprovalRecord): Promise<void> {
      return guard(
        async () => {
          await db.insertInto('approvals').values(approvalToRow(approval)).execute();
        },
        { unique: (cause) => new AlreadyExistsError(`Approval request ${approval.id} already exists.`, { cause }) },
      );
    },

    getApproval(id: string): Promise<ApprovalRecord | undefined> {
      return guard(async () => {
        const row = await db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
        return row && rowToApproval(row);
      });
    },

    listApprovals(page: PageRequest & { status?: ApprovalStatus }): Promise<Page<ApprovalRecord>> {
      return guard(async () => {
        const limit = checkLimit(page.limit);
        const after = page.marker === undefined ? undefined : decodeTimeMarker('approvals', page.marker);
        const rows = await db
          .selectFrom('approvals')
          .selectAll()
          .$if(page.status !== undefined, (q) => q.where('status', '=', page.status!))
          .$if(after !== undefined, (q) =>
            q.where((eb) =>
              eb.or([eb('created_at', '>', after!.millis), eb.and([eb('created_at', '=', after!.millis), eb('id', '>', after!.id)])]),
            ),
          )
          .orderBy('created_at')
          .orderBy('id')
          .limit(limit + 1)
          .execute();
        return pageOf(limit, rows, rowToApproval, (row) => encodeTimeMarker('approvals', Number(row.created_at), row.id));
      });
    },

    findApprovals(requesterId: string, requestDigest: string): Promise<ApprovalRecord[]> {
      return guard(async () => {
        const rows = await db
          .selectFrom('approvals')
          .selectAll()
          .where('requester_id', '=', requesterId)
          .where('request_digest', '=', requestDigest)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(rowToApproval);
      });
    },

    decideApproval(
      id: string,
      decision: 'Approved' | 'Rejected',
      approver: { id: string; arn: string },
      now: Date,
    ): Promise<ApprovalRecord | undefined> {
      return guard(async () => {
        if (decision !== 'Approved' && decision !== 'Rejected') throw new ValidationError('A decision is Approved or Rejected.');
        const at = toMillis(now);
        // One conditional statement: of concurrent decisions, only the first finds the request still Pending.
        const row = await db
          .updateTable('approvals')
          .set({ status: decision, approver_id: approver.id, approver_arn: approver.arn, decided_at: at })
          .where('id', '=', id)
          .where('status', '=', 'Pending')
          .where('expires_at', '>', at)
          .returningAll()
          .executeTakeFirst();
        return row && rowToApproval(row);
      });
    },

    consumeApproval(id: string, now: Date): Promise<boolean> {
      return guard(async () => {
        const at = toMillis(now);
        // One conditional statement: an approval is consumed at most once, however many callers race.
        const result = await db
          .updateTable('approvals')
          .set({ status: 'Consumed', consumed_at: at })
          .where('id', '=', id)
          .where('status', '=', 'Approved')
          .where('expires_at', '>', at)
          .executeTakeFirst();
        return result.numUpdatedRows === 1n;
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

    readAudit(options: AuditSearch): Promise<StoredAuditEvent[]> {
      return guard(async () => {
        const limit = checkLimit(options.limit);
        const after = options.afterSequence ?? 0;
        let q = db.selectFrom('audit_events').selectAll().where('sequence', '>', after);
        if (options.eventName !== undefined) q = q.where('event_name', '=', options.eventName);
        if (options.principal !== undefined) q = q.where('principal', '=', options.principal);
        if (options.resource !== undefined) q = q.where('resource', '=', options.resource);
        if (options.outcome !== undefined) q = q.where('outcome', '=', options.outcome);
        if (options.requestId !== undefined) q = q.where('request_id', '=', options.requestId);
        if (options.from !== undefined) q = q.where('event_time', '>=', options.from.getTime());
        if (options.to !== undefined) q = q.where('event_time', '<', options.to.getTime());
        const { hashes } = options;
        if (hashes !== undefined) {
          // A chained event's details live in its record (its details column is `{}`); an unchained one's in details.
          q = q.where((eb) => eb.or(hashes.flatMap((h) => [dialect.containsText(eb.ref('record'), h), dialect.containsText(eb.ref('details'), h)])));
        }
        const rows = await q.orderBy('sequence').limit(limit).execute();
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
