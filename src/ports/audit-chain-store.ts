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
