/**
 * What the metadata change feed (core/metadata-feed.ts) needs of storage: every change to a key record or an alias,
 * in commit order, so each server process can keep key records and aliases cached until one of them changes instead
 * of re-reading them every second.
 * Invariants: a change is recorded by the database itself (triggers), in the transaction that makes it, so no write
 * path — a use case, a job, a root rewrap, an operator's SQL — can change a cached record without a feed row;
 * sequence numbers grow in commit order, so a reader paging by `afterSequence` never skips a change that commits
 * late; rows are pruned by age only (pruneMetadataChanges), never otherwise.
 */

export interface MetadataChange {
  sequence: number;
  kind: 'key' | 'alias';
  /** The key id or the alias name. */
  name: string;
}

export interface MetadataChangeStore {
  /** Changes committed after `afterSequence`, oldest first, at most `limit`. */
  readMetadataChanges(afterSequence: number, limit: number): Promise<MetadataChange[]>;
  /** The sequence of the newest change recorded (0 when there is none). */
  lastMetadataChange(): Promise<number>;
  /** Deletes the changes recorded before `before` (the database's clock); returns how many. */
  pruneMetadataChanges(before: Date): Promise<number>;
}
