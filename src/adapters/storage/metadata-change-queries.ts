/**
 * The MetadataChangeStore over Kysely (both engines): reads and prunes the change feed the triggers of migration 0011
 * write. Invariants: reads page by sequence, oldest first; pruning compares with the database's own clock values and,
 * when it deleted rows, runs the same flush as a key destruction (the rows name destroyed keys).
 */
import type { Kysely } from 'kysely';
import type { MetadataChange, MetadataChangeStore } from '../../ports/metadata-change-store.js';
import type { StorageDatabase } from './schema.js';

type Guard = <T>(work: () => Promise<T>) => Promise<T>;

export function createMetadataChangeQueries(db: Kysely<StorageDatabase>, guard: Guard, flushDeleted: () => Promise<unknown>): MetadataChangeStore {
  return {
    readMetadataChanges(afterSequence, limit) {
      return guard(async () => {
        const rows = await db
          .selectFrom('metadata_changes')
          .select(['sequence', 'kind', 'name'])
          .where('sequence', '>', afterSequence)
          .orderBy('sequence')
          .limit(limit)
          .execute();
        return rows.map((r): MetadataChange => ({ sequence: Number(r.sequence), kind: r.kind as MetadataChange['kind'], name: r.name }));
      });
    },

    lastMetadataChange() {
      return guard(async () => {
        const row = await db.selectFrom('metadata_changes').select((eb) => eb.fn.max('sequence').as('last')).executeTakeFirst();
        return Number(row?.last ?? 0);
      });
    },

    pruneMetadataChanges(before) {
      return guard(async () => {
        const r = await db.deleteFrom('metadata_changes').where('changed_at', '<', before.getTime()).executeTakeFirst();
        const deleted = Number(r.numDeletedRows);
        if (deleted > 0) await flushDeleted();
        return deleted;
      });
    },
  };
}
