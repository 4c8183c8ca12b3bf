/**
 * The AuditArchiveStore over Kysely (both engines): signed records of archived chain segments, and the deletion of
 * archived events.
 * Invariants: a record is inserted only when it continues its chain's records (first sequence 1, or one past an
 * existing record's last) and overlaps none, in one transaction; the primary key (chain_id, first_sequence) makes two
 * racing inserts of one segment (or of overlapping ones, which then start at the same place) insert one; events are
 * deleted only inside the range of one record, in the same transaction that finds the record, so a deletion can never
 * run ahead of its archive record. Nothing here checks signatures (the verifier does).
 */
import type { Kysely } from 'kysely';
import { AlreadyExistsError, InvalidStateError, ValidationError } from '../../errors/index.js';
import type { ArchiveRecord, AuditArchiveStore } from '../../ports/audit-chain-store.js';
import type { StorageDatabase } from './schema.js';
import type { ConflictMapping } from './storage-dialect.js';

type Guard = <T>(work: () => Promise<T>, conflicts?: ConflictMapping) => Promise<T>;

function checkRange(from: number, to: number): void {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from) throw new ValidationError('The sequence range is invalid.');
}

export function createAuditArchiveQueries(db: Kysely<StorageDatabase>, guard: Guard): AuditArchiveStore {
  return {
    appendArchiveRecord(r) {
      return guard(
        async () => {
          checkRange(r.firstSequence, r.lastSequence);
          await db.transaction().execute(async (trx) => {
            const existing = await trx
              .selectFrom('audit_archives')
              .select(['first_sequence', 'last_sequence'])
              .where('chain_id', '=', r.chainId)
              .where((eb) => eb.or([eb('last_sequence', '>=', r.firstSequence - 1), eb('first_sequence', '=', r.firstSequence)]))
              .execute();
            if (existing.some((e) => Number(e.first_sequence) === r.firstSequence)) throw new AlreadyExistsError('The archive record exists already.');
            const continues = r.firstSequence === 1 || existing.some((e) => Number(e.last_sequence) === r.firstSequence - 1);
            const overlaps = existing.some((e) => Number(e.last_sequence) >= r.firstSequence);
            if (!continues || overlaps) throw new InvalidStateError('The archive record does not continue the chain\'s archive records.');
            await trx
              .insertInto('audit_archives')
              .values({
                chain_id: r.chainId,
                first_sequence: r.firstSequence,
                last_sequence: r.lastSequence,
                previous_hash: r.previousHash,
                last_hash: r.lastHash,
                created_at: r.time.getTime(),
                file: r.file,
                file_sha256: r.fileSha256,
                key_id: r.keyId,
                payload: r.payload,
                signature: r.signature,
              })
              .execute();
          });
        },
        { unique: (cause) => new AlreadyExistsError('The archive record exists already.', { cause }) },
      );
    },

    listArchiveRecords(options = {}) {
      return guard(async () => {
        let q = db.selectFrom('audit_archives').selectAll();
        if (options.chainId !== undefined) q = q.where('chain_id', '=', options.chainId);
        const rows = await q.orderBy('chain_id').orderBy('first_sequence').execute();
        return rows.map(
          (row): ArchiveRecord => ({
            chainId: row.chain_id,
            firstSequence: Number(row.first_sequence),
            lastSequence: Number(row.last_sequence),
            previousHash: row.previous_hash,
            lastHash: row.last_hash,
            time: new Date(Number(row.created_at)),
            file: row.file,
            fileSha256: row.file_sha256,
            keyId: row.key_id,
            payload: row.payload,
            signature: row.signature,
          }),
        );
      });
    },

    deleteArchivedEvents(chainId, fromSequence, toSequence) {
      return guard(async () => {
        checkRange(fromSequence, toSequence);
        return db.transaction().execute(async (trx) => {
          const covering = await trx
            .selectFrom('audit_archives')
            .select('first_sequence')
            .where('chain_id', '=', chainId)
            .where('first_sequence', '<=', fromSequence)
            .where('last_sequence', '>=', toSequence)
            .executeTakeFirst();
          if (!covering) throw new InvalidStateError('No archive record covers these audit events: they are not deleted.');
          const result = await trx
            .deleteFrom('audit_events')
            .where('chain_id', '=', chainId)
            .where('chain_seq', '>=', fromSequence)
            .where('chain_seq', '<=', toSequence)
            .executeTakeFirst();
          return Number(result.numDeletedRows);
        });
      });
    },
  };
}
