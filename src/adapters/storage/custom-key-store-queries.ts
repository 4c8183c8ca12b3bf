/**
 * The CustomKeyStoreStorage over Kysely (both engines): custom key stores and the links from KMS keys to them.
 * Invariants: updates are single conditional UPDATEs on (id, revision), so of racing writers exactly one wins;
 * deleteCustomKeyStore re-checks revision and links in its transaction, and the links' reference to the store
 * (ON DELETE RESTRICT) refuses a delete that races a new link; createCustomKeyStoreKey inserts the key row only
 * while its link exists, in one transaction; nothing here sees the PIN in clear (it is wrapped by the core).
 */
import type { Kysely } from 'kysely';
import { AlreadyExistsError, ConflictError, InternalError, KeyStoreNotFoundError, ValidationError } from '../../errors/index.js';
import {
  CONNECTION_STATES,
  type ConnectionState,
  type CustomKeyStoreKeyLink,
  type CustomKeyStorePatch,
  type CustomKeyStoreRecord,
  type CustomKeyStoreStorage,
} from '../../ports/custom-key-store-storage.js';
import type { KeyRecord } from '../../ports/storage.js';
import type { CustomKeyStoreKeysTable, CustomKeyStoresTable } from './migration-custom-key-stores.js';
import { keyToRow } from './rows.js';
import type { StorageDatabase } from './schema.js';
import type { ConflictMapping } from './storage-dialect.js';

type Guard = <T>(work: () => Promise<T>, conflicts?: ConflictMapping) => Promise<T>;

const blob = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const taken = (cause: unknown) => new AlreadyExistsError('A custom key store with this id, name or cluster id already exists.', { cause });

function rowToStore(row: CustomKeyStoresTable): CustomKeyStoreRecord {
  if (row.type !== 'AWS_CLOUDHSM' || !(CONNECTION_STATES as readonly string[]).includes(row.connection_state)) {
    throw new InternalError({ cause: new Error('custom_key_stores row is invalid') });
  }
  return {
    id: row.id,
    name: row.name,
    type: 'AWS_CLOUDHSM',
    clusterId: row.cluster_id,
    trustAnchorCertificate: row.trust_anchor,
    pinWrapped: Buffer.from(row.pin_wrapped),
    connectionState: row.connection_state as ConnectionState,
    connectionErrorCode: row.connection_error,
    revision: Number(row.revision),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}

function storeToRow(s: CustomKeyStoreRecord): CustomKeyStoresTable {
  return {
    id: s.id,
    name: s.name,
    type: s.type,
    cluster_id: s.clusterId,
    trust_anchor: s.trustAnchorCertificate,
    pin_wrapped: blob(s.pinWrapped),
    connection_state: s.connectionState,
    connection_error: s.connectionErrorCode,
    revision: s.revision,
    created_at: s.createdAt.getTime(),
    updated_at: s.updatedAt.getTime(),
  };
}

function patchToRow(p: CustomKeyStorePatch): Partial<CustomKeyStoresTable> {
  const row: Partial<CustomKeyStoresTable> = {};
  if (p.name !== undefined) row.name = p.name;
  if (p.clusterId !== undefined) row.cluster_id = p.clusterId;
  if (p.pinWrapped !== undefined) row.pin_wrapped = blob(p.pinWrapped);
  if (p.connectionState !== undefined) row.connection_state = p.connectionState;
  if (p.connectionErrorCode !== undefined) row.connection_error = p.connectionErrorCode;
  return row;
}

const rowToLink = (row: CustomKeyStoreKeysTable): CustomKeyStoreKeyLink => ({
  keyId: row.key_id,
  storeId: row.store_id,
  createdAt: new Date(Number(row.created_at)),
});

export function createCustomKeyStoreQueries(db: Kysely<StorageDatabase>, guard: Guard): CustomKeyStoreStorage<KeyRecord> {
  const getBy = (column: 'id' | 'name' | 'cluster_id', value: string) =>
    guard(async () => {
      const row = await db.selectFrom('custom_key_stores').selectAll().where(column, '=', value).executeTakeFirst();
      return row && rowToStore(row);
    });

  return {
    createCustomKeyStore(store) {
      return guard(async () => {
        await db.insertInto('custom_key_stores').values(storeToRow(store)).execute();
      }, { unique: taken });
    },

    getCustomKeyStore: (id) => getBy('id', id),
    getCustomKeyStoreByName: (name) => getBy('name', name),
    getCustomKeyStoreByClusterId: (clusterId) => getBy('cluster_id', clusterId),

    listCustomKeyStores() {
      return guard(async () => (await db.selectFrom('custom_key_stores').selectAll().orderBy('created_at').orderBy('id').execute()).map(rowToStore));
    },

    updateCustomKeyStore(id, patch, expectedRevision, now) {
      return guard(async () => {
        const row = await db
          .updateTable('custom_key_stores')
          .set({ ...patchToRow(patch), revision: expectedRevision + 1, updated_at: now.getTime() })
          .where('id', '=', id)
          .where('revision', '=', expectedRevision)
          .returningAll()
          .executeTakeFirst();
        return row && rowToStore(row);
      }, { unique: taken });
    },

    async deleteCustomKeyStore(id, expectedRevision) {
      try {
        return await guard(
          () =>
            db.transaction().execute(async (trx) => {
              const row = await trx.selectFrom('custom_key_stores').select('revision').where('id', '=', id).executeTakeFirst();
              if (!row) return 'not-found' as const;
              if (Number(row.revision) !== expectedRevision) return 'changed' as const;
              const link = await trx.selectFrom('custom_key_store_keys').select('key_id').where('store_id', '=', id).limit(1).executeTakeFirst();
              if (link) return 'has-keys' as const;
              const deleted = await trx.deleteFrom('custom_key_stores').where('id', '=', id).where('revision', '=', expectedRevision).executeTakeFirst();
              return Number(deleted.numDeletedRows) === 1 ? ('deleted' as const) : ('changed' as const);
            }),
          { foreignKey: (cause) => new ConflictError('The custom key store gained a key.', { cause }) },
        );
      } catch (err) {
        if (err instanceof ConflictError) return 'has-keys';
        throw err;
      }
    },

    addCustomKeyStoreKey(link) {
      return guard(
        async () => {
          await db
            .insertInto('custom_key_store_keys')
            .values({ key_id: link.keyId, store_id: link.storeId, created_at: link.createdAt.getTime() })
            .execute();
        },
        {
          unique: (cause) => new AlreadyExistsError('A key with this id already exists.', { cause }),
          foreignKey: (cause) => new KeyStoreNotFoundError(`Custom key store ${link.storeId} does not exist.`, { cause }),
        },
      );
    },

    createCustomKeyStoreKey(key: KeyRecord) {
      return guard(
        async () => {
          if (key.origin !== 'AWS_CLOUDHSM' || key.currentVersion !== 1) {
            throw new ValidationError('A key in a custom key store has origin AWS_CLOUDHSM and version 1.');
          }
          const row = keyToRow(key);
          await db.transaction().execute(async (trx) => {
            const link = await trx.selectFrom('custom_key_store_keys').select('key_id').where('key_id', '=', key.id).executeTakeFirst();
            if (!link) throw new KeyStoreNotFoundError('The key is not linked to a custom key store.');
            await trx.insertInto('keys').values(row).execute();
          });
        },
        { unique: (cause) => new AlreadyExistsError('A key with this id already exists.', { cause }) },
      );
    },

    getCustomKeyStoreKey(keyId) {
      return guard(async () => {
        const row = await db.selectFrom('custom_key_store_keys').selectAll().where('key_id', '=', keyId).executeTakeFirst();
        return row && rowToLink(row);
      });
    },

    countCustomKeyStoreKeys(storeId) {
      return guard(async () => {
        const { n } = await db
          .selectFrom('custom_key_store_keys')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('store_id', '=', storeId)
          .executeTakeFirstOrThrow();
        return Number(n);
      });
    },

    listOrphanedCustomKeyStoreKeys(storeId, createdBefore, limit) {
      return guard(async () => {
        if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('The limit must be a positive integer.');
        const rows = await db
          .selectFrom('custom_key_store_keys')
          .selectAll('custom_key_store_keys')
          .where('store_id', '=', storeId)
          .where('created_at', '<', createdBefore.getTime())
          .where((eb) => eb.not(eb.exists(eb.selectFrom('keys').select('keys.id').whereRef('keys.id', '=', 'custom_key_store_keys.key_id'))))
          .orderBy('created_at')
          .orderBy('key_id')
          .limit(limit)
          .execute();
        return rows.map(rowToLink);
      });
    },

    removeCustomKeyStoreKey(keyId) {
      return guard(async () => {
        const result = await db
          .deleteFrom('custom_key_store_keys')
          .where('key_id', '=', keyId)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('keys').select('keys.id').where('keys.id', '=', keyId))))
          .executeTakeFirst();
        return Number(result.numDeletedRows) === 1;
      });
    },
  };
}
