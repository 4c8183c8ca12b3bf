/**
 * What the tamper-evident audit trail needs from storage beyond appending events: reading one chain in order,
 * listing the chains, signed checkpoints, and the audit keys (stored only wrapped by the root of trust).
 * Storage is untrusted for integrity here: everything read back is checked by the verifier (audit/verifier.ts).
 */
import type { ChainLink } from './audit-sink.js';

/** A stored chained event as the verifier needs it. */
export type ChainedEventRecord = ChainLink;

export interface ChainSummary {
  chainId: string;
  firstSequence: number;
  lastSequence: number;
  events: number;
  firstTime: Date;
  lastTime: Date;
}

/** A signed statement "chain `chainId` had `sequence` events ending in `hash` at `time`" (a CloudTrail digest). */
export interface CheckpointRecord {
  chainId: string;
  sequence: number;
  hash: string;
  time: Date;
  keyId: string;
  /** The canonical JSON text that was signed. */
  payload: string;
  /** Base64 signature over `payload`. */
  signature: string;
}

/**
 * A signed archive record (audit/archive-record.ts): "events `firstSequence`..`lastSequence` of chain `chainId`,
 * linked from `previousHash` and ending in `lastHash`, were archived at `time` to `file` whose SHA-256 is
 * `fileSha256`". It stands in for the archived events when the remaining trail is verified.
 */
export interface ArchiveRecord {
  chainId: string;
  firstSequence: number;
  lastSequence: number;
  /** The hash before `firstSequence`: 64 zeros at the start of the chain, else the previous record's `lastHash`. */
  previousHash: string;
  lastHash: string;
  time: Date;
  /** The archive file's name (in the archive directory). */
  file: string;
  /** Hex SHA-256 of the archive file's bytes. */
  fileSha256: string;
  keyId: string;
  /** The canonical JSON text that was signed. */
  payload: string;
  /** Base64 signature over `payload`. */
  signature: string;
}

/** Archival of old chain segments (audit/archiver.ts): the records, and deleting only what a record covers. */
export interface AuditArchiveStore {
  /**
   * Inserts a record, in one transaction, only when it continues the chain's records (its first sequence is 1 or
   * follows a record's last) and overlaps none. @throws AlreadyExistsError when the chain has a record starting at
   * that sequence already (another run archived it first); InvalidStateError when it does not continue the records.
   */
  appendArchiveRecord(record: ArchiveRecord): Promise<void>;
  /** Archive records (of one chain, or all) ordered by chain and first sequence. */
  listArchiveRecords(options?: { chainId?: string }): Promise<ArchiveRecord[]>;
  /**
   * Deletes the chained events of `chainId` with sequences `fromSequence`..`toSequence` in one transaction, only when
   * one archive record of the chain covers that whole range. Resolves with how many were deleted (0 when none left).
   * @throws InvalidStateError when no archive record covers the range (then nothing is deleted).
   */
  deleteArchivedEvents(chainId: string, fromSequence: number, toSequence: number): Promise<number>;
}

export const AUDIT_KEY_PURPOSES = ['signing', 'hmac'] as const;
export type AuditKeyPurpose = (typeof AUDIT_KEY_PURPOSES)[number];

/** An audit key: its secret part only wrapped by the root of trust (AAD binds id, purpose and algorithm). */
export interface AuditKeyRecord {
  id: string;
  purpose: AuditKeyPurpose;
  /** `ED25519` (signing) or `HMAC_SHA_256`. */
  algorithm: string;
  /** SubjectPublicKeyInfo DER of a signing key; null for an HMAC key. */
  publicKey: Uint8Array | null;
  wrapped: Uint8Array;
  createdAt: Date;
}

export interface AuditChainStore {
  /** Chained events of one chain in sequence order, sequence > afterSequence, at most `limit`. */
  readChain(chainId: string, options: { afterSequence?: number; limit: number }): Promise<ChainedEventRecord[]>;
  /** Every chain that has events, oldest first. */
  listChains(): Promise<ChainSummary[]>;
  /** AlreadyExistsError when the chain already has a checkpoint at that sequence. */
  appendCheckpoint(checkpoint: CheckpointRecord): Promise<void>;
  /** Checkpoints (of one chain, or all) ordered by chain and sequence. */
  listCheckpoints(options?: { chainId?: string }): Promise<CheckpointRecord[]>;
  /** AlreadyExistsError when the id is taken (another process created it first). */
  createAuditKey(key: AuditKeyRecord): Promise<void>;
  /** Every audit key, oldest first. */
  listAuditKeys(): Promise<AuditKeyRecord[]>;
}
