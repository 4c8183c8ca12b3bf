/**
 * The RootRingStorage over Kysely (both engines): the root registry, re-wrap jobs and keyset-paged access to every
 * wrapped blob with compare-and-swap replacement.
 * Invariants: saveRootRegistry is one transaction whose first statement is the conditional insert or update of the
 * head row (id 1) on its revision, so of concurrent savers exactly one wins (PostgreSQL: the head row's lock;
 * SQLite: BEGIN IMMEDIATE); the generations are replaced inside the same transaction; replace*Wrap are single
 * conditional UPDATEs on the old bytes; nothing here authenticates anything (the ring does).
 */
import type { Kysely } from 'kysely';
import { AlreadyExistsError, InternalError, ValidationError } from '../../errors/index.js';
import {
  ROOT_GENERATION_STATES,
  ROOT_MIGRATION_OPERATIONS,
  type RootDescriptor,
  type RootGenerationRecord,
  type RootGenerationState,
  type RootMigrationOperation,
  type RootMigrationRecord,
  type RootRegistryRecord,
  type RootRingStorage,
  type WrappedSecretTable,
} from '../../ports/root-ring-storage.js';
import type { RootGenerationsTable, RootMigrationsTable, StorageDatabase } from './schema.js';
import type { ConflictMapping } from './storage-dialect.js';

type Guard = <T>(work: () => Promise<T>, conflicts?: ConflictMapping) => Promise<T>;

const blob = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const nullableBlob = (b: Uint8Array | null): Buffer | null => (b === null ? null : blob(b));

/** Where each table of WRAPPED_SECRET_TABLES keeps its wrapped secret. */
const SECRET_COLUMNS = {
  'custom-key-store-pins': { table: 'custom_key_stores', wrapped: 'pin_wrapped' },
  'pki-ca-keys': { table: 'pki_authorities', wrapped: 'wrapped_key' },
} as const satisfies Record<WrappedSecretTable, { table: keyof StorageDatabase; wrapped: string }>;

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('The limit must be a positive integer.');
  return limit;
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new InternalError({ cause: new Error(`${what} is not JSON`, { cause }) });
  }
}

function rowToGeneration(row: RootGenerationsTable): RootGenerationRecord {
  if (!(ROOT_GENERATION_STATES as readonly string[]).includes(row.state)) throw new InternalError({ cause: new Error('root_generations.state is invalid') });
  return {
    generation: Number(row.generation),
    kind: row.kind,
    descriptor: parseJson<RootDescriptor>(row.descriptor, 'root_generations.descriptor'),
    state: row.state as RootGenerationState,
    registryKey: row.registry_key === null ? null : Buffer.from(row.registry_key),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}

function generationToRow(g: RootGenerationRecord): RootGenerationsTable {
  return {
    generation: g.generation,
    kind: g.kind,
    descriptor: JSON.stringify(g.descriptor),
    state: g.state,
    registry_key: nullableBlob(g.registryKey),
    created_at: g.createdAt.getTime(),
    updated_at: g.updatedAt.getTime(),
  };
}

function rowToMigration(row: RootMigrationsTable): RootMigrationRecord {
  if (!(ROOT_MIGRATION_OPERATIONS as readonly string[]).includes(row.operation)) throw new InternalError({ cause: new Error('root_migrations.operation is invalid') });
  return {
    id: row.id,
    operation: row.operation as RootMigrationOperation,
    targetGeneration: Number(row.target_generation),
    targetKind: row.target_kind,
    fromGenerations: parseJson<number[]>(row.from_generations, 'root_migrations.from_generations'),
    state: row.state === 'done' ? 'done' : 'running',
    revision: Number(row.revision),
    cursor: row.cursor,
    done: Number(row.done),
    total: Number(row.total),
    skipped: Number(row.skipped),
    lastError: row.last_error,
    startedAt: new Date(Number(row.started_at)),
    updatedAt: new Date(Number(row.updated_at)),
    finishedAt: row.finished_at === null ? null : new Date(Number(row.finished_at)),
  };
}

function migrationToRow(m: RootMigrationRecord): RootMigrationsTable {
  return {
    id: m.id,
    operation: m.operation,
    target_generation: m.targetGeneration,
    target_kind: m.targetKind,
    from_generations: JSON.stringify(m.fromGenerations),
    state: m.state,
    revision: m.revision,
    cursor: m.cursor,
    done: m.done,
    total: m.total,
    skipped: m.skipped,
    last_error: m.lastError,
    started_at: m.startedAt.getTime(),
    updated_at: m.updatedAt.getTime(),
    finished_at: m.finishedAt === null ? null : m.finishedAt.getTime(),
  };
}

export function createRootRingQueries(db: Kysely<StorageDatabase>, guard: Guard): RootRingStorage {
  return {
    getRootRegistry() {
      return guard(async () => {
        // One transaction: the head and the generations are one snapshot.
        return db.transaction().execute(async (trx) => {
          const head = await trx.selectFrom('root_ring').selectAll().where('id', '=', 1).executeTakeFirst();
          if (!head) return { revision: 0, generations: [], recovery: null, mac: null } satisfies RootRegistryRecord;
          const rows = await trx.selectFrom('root_generations').selectAll().orderBy('generation').execute();
          const recovery =
            head.recovery_public_key !== null &&
            head.recovery_auth_key !== null &&
            head.recovery_threshold !== null &&
            head.recovery_shares !== null &&
            head.recovery_created_at !== null
              ? {
                  publicKey: Buffer.from(head.recovery_public_key),
                  threshold: Number(head.recovery_threshold),
                  shares: Number(head.recovery_shares),
                  authKeyWrapped: Buffer.from(head.recovery_auth_key),
                  createdAt: new Date(Number(head.recovery_created_at)),
                }
              : null;
          return { revision: Number(head.revision), generations: rows.map(rowToGeneration), recovery, mac: Buffer.from(head.mac) };
        });
      });
    },

    saveRootRegistry(next, expectedRevision) {
      return guard(async () => {
        if (!Number.isSafeInteger(expectedRevision) || next.revision !== expectedRevision + 1 || next.mac === null) {
          throw new ValidationError('A saved registry has revision expectedRevision + 1 and a MAC.');
        }
        const r = next.recovery;
        const head = {
          revision: next.revision,
          mac: blob(next.mac),
          recovery_public_key: r ? blob(r.publicKey) : null,
          recovery_threshold: r ? r.threshold : null,
          recovery_shares: r ? r.shares : null,
          recovery_auth_key: r ? blob(r.authKeyWrapped) : null,
          recovery_created_at: r ? r.createdAt.getTime() : null,
        };
        return db.transaction().execute(async (trx) => {
          if (expectedRevision === 0) {
            const exists = await trx.selectFrom('root_ring').select('id').where('id', '=', 1).executeTakeFirst();
            if (exists) return false;
            await trx.insertInto('root_ring').values({ id: 1, ...head }).execute();
          } else {
            const swapped = await trx.updateTable('root_ring').set(head).where('id', '=', 1).where('revision', '=', expectedRevision).executeTakeFirst();
            if (swapped.numUpdatedRows !== 1n) return false;
          }
          await trx.deleteFrom('root_generations').execute();
          if (next.generations.length > 0) await trx.insertInto('root_generations').values(next.generations.map(generationToRow)).execute();
          return true;
        });
      }, { unique: () => new AlreadyExistsError('The root registry was created concurrently.') }).catch((err: unknown) => {
        // Two first saves racing on SQLite/PostgreSQL: the loser's insert hits the primary key.
        if (err instanceof AlreadyExistsError) return false;
        throw err;
      });
    },

    latestRootMigration() {
      return guard(async () => {
        const row = await db.selectFrom('root_migrations').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
        return row && rowToMigration(row);
      });
    },

    createRootMigration(record) {
      return guard(
        async () => {
          await db.insertInto('root_migrations').values(migrationToRow(record)).execute();
        },
        { unique: (cause) => new AlreadyExistsError('A root migration with this id already exists.', { cause }) },
      );
    },

    updateRootMigration(record, expectedRevision) {
      return guard(async () => {
        if (record.revision !== expectedRevision + 1) throw new ValidationError('An updated root migration has revision expectedRevision + 1.');
        const { id, ...values } = migrationToRow(record);
        const result = await db.updateTable('root_migrations').set(values).where('id', '=', id).where('revision', '=', expectedRevision).executeTakeFirst();
        return result.numUpdatedRows === 1n;
      });
    },

    countWrapped() {
      return guard(async () => {
        const versions = await db.selectFrom('key_versions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        const keys = await db.selectFrom('access_keys').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        const auditKeys = await db.selectFrom('audit_keys').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        let secrets = 0;
        for (const { table } of Object.values(SECRET_COLUMNS)) {
          secrets += Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
        }
        return Number(versions.n) + Number(keys.n) + Number(auditKeys.n) + secrets;
      });
    },

    listWrappedKeyVersions(after, limit) {
      return guard(async () => {
        const rows = await db
          .selectFrom('key_versions')
          .select(['key_id', 'version', 'wrapped'])
          .$if(after !== undefined, (q) =>
            q.where((eb) => eb.or([eb('key_id', '>', after!.keyId), eb.and([eb('key_id', '=', after!.keyId), eb('version', '>', after!.version)])])),
          )
          .orderBy('key_id')
          .orderBy('version')
          .limit(checkLimit(limit))
          .execute();
        return rows.map((r) => ({ keyId: r.key_id, version: Number(r.version), wrapped: Buffer.from(r.wrapped) }));
      });
    },

    listWrappedAccessKeys(after, limit) {
      return guard(async () => {
        const rows = await db
          .selectFrom('access_keys')
          .select(['id', 'secret_wrapped'])
          .$if(after !== undefined, (q) => q.where('id', '>', after!))
          .orderBy('id')
          .limit(checkLimit(limit))
          .execute();
        return rows.map((r) => ({ id: r.id, wrapped: Buffer.from(r.secret_wrapped) }));
      });
    },

    replaceKeyVersionWrap(keyId, version, expected, next) {
      return guard(async () => {
        const result = await db
          .updateTable('key_versions')
          .set({ wrapped: blob(next) })
          .where('key_id', '=', keyId)
          .where('version', '=', version)
          .where('wrapped', '=', blob(expected))
          .executeTakeFirst();
        return result.numUpdatedRows === 1n;
      });
    },

    replaceAccessKeyWrap(id, expected, next) {
      return guard(async () => {
        const result = await db
          .updateTable('access_keys')
          .set({ secret_wrapped: blob(next) })
          .where('id', '=', id)
          .where('secret_wrapped', '=', blob(expected))
          .executeTakeFirst();
        return result.numUpdatedRows === 1n;
      });
    },

    listWrappedAuditKeys(after, limit) {
      return guard(async () => {
        const rows = await db
          .selectFrom('audit_keys')
          .select(['id', 'purpose', 'algorithm', 'wrapped'])
          .$if(after !== undefined, (q) => q.where('id', '>', after!))
          .orderBy('id')
          .limit(checkLimit(limit))
          .execute();
        return rows.map((r) => ({ id: r.id, purpose: r.purpose, algorithm: r.algorithm, wrapped: Buffer.from(r.wrapped) }));
      });
    },

    listWrappedSecrets(name, after, limit) {
      const { table, wrapped } = SECRET_COLUMNS[name];
      return guard(async () => {
        const rows = await db
          .selectFrom(table)
          .select(['id', `${wrapped} as wrapped`])
          .$if(after !== undefined, (q) => q.where('id', '>', after!))
          .orderBy('id')
          .limit(checkLimit(limit))
          .execute();
        return rows.map((r) => ({ id: r.id, wrapped: Buffer.from(r.wrapped) }));
      });
    },

    replaceSecretWrap(name, id, expected, next) {
      const { table, wrapped } = SECRET_COLUMNS[name];
      return guard(async () => {
        const result = await db.updateTable(table).set({ [wrapped]: blob(next) }).where('id', '=', id).where(wrapped, '=', blob(expected)).executeTakeFirst();
        return result.numUpdatedRows === 1n;
      });
    },

    replaceAuditKeyWrap(id, expected, next) {
      return guard(async () => {
        const result = await db.updateTable('audit_keys').set({ wrapped: blob(next) }).where('id', '=', id).where('wrapped', '=', blob(expected)).executeTakeFirst();
        return result.numUpdatedRows === 1n;
      });
    },
  };
}
