/**
 * The AuditChainStore over Kysely (both engines): chained events per chain, checkpoints and audit keys.
 * Invariants: a chain is read in chain_seq order through the unique (chain_id, chain_seq) index; nothing here checks
 * integrity (the verifier does, from what it reads); checkpoints and keys are insert-only.
 */
import type { Kysely } from 'kysely';
import { AlreadyExistsError, ValidationError } from '../../errors/index.js';
import { AUDIT_KEY_PURPOSES, type AuditChainStore, type AuditKeyRecord, type ChainSummary, type CheckpointRecord } from '../../ports/audit-chain-store.js';
import type { StorageDatabase } from './schema.js';
import type { ConflictMapping } from './storage-dialect.js';

type Guard = <T>(work: () => Promise<T>, conflicts?: ConflictMapping) => Promise<T>;

const blob = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('The limit must be a positive integer.');
  return limit;
}

export function createAuditChainQueries(db: Kysely<StorageDatabase>, guard: Guard): AuditChainStore {
  return {
    readChain(chainId, options) {
      return guard(async () => {
        const rows = await db
          .selectFrom('audit_events')
          .select(['chain_id', 'chain_seq', 'prev_hash', 'hash', 'record'])
          .where('chain_id', '=', chainId)
          .where('chain_seq', '>', options.afterSequence ?? 0)
          .orderBy('chain_seq')
          .limit(checkLimit(options.limit))
          .execute();
        return rows.map((r) => ({
          chainId: r.chain_id ?? chainId,
          sequence: Number(r.chain_seq),
          previousHash: r.prev_hash ?? '',
          hash: r.hash ?? '',
          record: r.record ?? '',
        }));
      });
    },

    listChains() {
      return guard(async () => {
        const rows = await db
          .selectFrom('audit_events')
          .select((eb) => [
            'chain_id',
            eb.fn.min('chain_seq').as('first'),
            eb.fn.max('chain_seq').as('last'),
            eb.fn.countAll().as('events'),
            eb.fn.min('event_time').as('first_time'),
            eb.fn.max('event_time').as('last_time'),
          ])
          .where('chain_id', 'is not', null)
          .groupBy('chain_id')
          .orderBy('first_time')
          .orderBy('chain_id')
          .execute();
        return rows.map(
          (r): ChainSummary => ({
            chainId: r.chain_id!,
            firstSequence: Number(r.first),
            lastSequence: Number(r.last),
            events: Number(r.events),
            firstTime: new Date(Number(r.first_time)),
            lastTime: new Date(Number(r.last_time)),
          }),
        );
      });
    },

    appendCheckpoint(cp) {
      return guard(async () => {
        await db
          .insertInto('audit_checkpoints')
          .values({ chain_id: cp.chainId, sequence: cp.sequence, hash: cp.hash, created_at: cp.time.getTime(), key_id: cp.keyId, payload: cp.payload, signature: cp.signature })
          .execute();
      }, { unique: (cause) => new AlreadyExistsError('The checkpoint exists already.', { cause }) });
    },

    listCheckpoints(options = {}) {
      return guard(async () => {
        let q = db.selectFrom('audit_checkpoints').selectAll();
        if (options.chainId !== undefined) q = q.where('chain_id', '=', options.chainId);
        const rows = await q.orderBy('chain_id').orderBy('sequence').execute();
        return rows.map(
          (r): CheckpointRecord => ({
            chainId: r.chain_id,
            sequence: Number(r.sequence),
            hash: r.hash,
            time: new Date(Number(r.created_at)),
            keyId: r.key_id,
            payload: r.payload,
            signature: r.signature,
          }),
        );
      });
    },

    createAuditKey(key) {
      return guard(async () => {
        await db
          .insertInto('audit_keys')
          .values({ id: key.id, purpose: key.purpose, algorithm: key.algorithm, public_key: blob(key.publicKey), wrapped: blob(key.wrapped)!, created_at: key.createdAt.getTime() })
          .execute();
      }, { unique: (cause) => new AlreadyExistsError('The audit key exists already.', { cause }) });
    },

    listAuditKeys() {
      return guard(async () => {
        const rows = await db.selectFrom('audit_keys').selectAll().orderBy('created_at').orderBy('id').execute();
        return rows.map(
          (r): AuditKeyRecord => ({
            id: r.id,
            purpose: AUDIT_KEY_PURPOSES.find((p) => p === r.purpose) ?? 'hmac',
            algorithm: r.algorithm,
            publicKey: r.public_key === null ? null : new Uint8Array(r.public_key),
            wrapped: new Uint8Array(r.wrapped),
            createdAt: new Date(Number(r.created_at)),
          }),
        );
      });
    },
  };
}
