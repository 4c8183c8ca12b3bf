/**
 * One hash chain: the single appender of one server process links events in order.
 * Invariants: sequence numbers start at 1 and grow by one; each record names the previous record's hash (64 zeros
 * for the first), so editing, deleting, inserting or reordering an event breaks a link the verifier finds; a chain
 * has one appender (this object, owned by one audit log) and never a lock on a shared head: other processes append
 * their own chains. `link` advances the head tentatively; the audit log calls `abandon` when a batch's fate is
 * unknown (failed or timed out), and appending continues on a fresh chain, so no chain ever has a gap.
 */
import { randomUuid, sha256Hex } from '../crypto/index.js';
import type { AuditEvent, ChainLink } from '../ports/audit-sink.js';
import { eventRecord, recordText } from './event-record.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainHead {
  chainId: string;
  sequence: number;
  hash: string;
}

export interface AuditChain {
  /** Assigns the next sequence numbers to `events` (already redacted) and returns them with their links. */
  link(events: readonly AuditEvent[]): AuditEvent[];
  /** The head after the last `link` (whether or not durable yet). */
  head(): ChainHead;
  /** Gives the chain up after an append of unknown outcome; the next `link` starts a new chain. Returns the old head. */
  abandon(): ChainHead;
}

/** The hash of a record text: hex SHA-256 of its UTF-8 bytes. */
export function recordHash(record: string): string {
  return sha256Hex(record);
}

export function createAuditChain(newChainId: () => string = randomUuid): AuditChain {
  let chainId = newChainId();
  let sequence = 0;
  let hash = GENESIS_HASH;
  return {
    link(events) {
      return events.map((event) => {
        sequence += 1;
        const record = recordText(eventRecord(event, { id: chainId, sequence, previousHash: hash }));
        const link: ChainLink = { chainId, sequence, previousHash: hash, hash: recordHash(record), record };
        hash = link.hash;
        return { ...event, chain: link };
      });
    },
    head: () => ({ chainId, sequence, hash }),
    abandon() {
      const old = { chainId, sequence, hash };
      chainId = newChainId();
      sequence = 0;
      hash = GENESIS_HASH;
      return old;
    },
  };
}
