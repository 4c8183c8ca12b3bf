/**
 * The audit trail's use cases. Reading, verifying and exporting the trail are themselves audited, authorized
 * operations (CloudTrail's LookupEvents): `datadefender:LookupEvents` to search and compute keyed hashes,
 * `datadefender:VerifyAuditTrail` to read chains, checkpoints and public keys for verification, and
 * `datadefender:ExportAuditTrail` to read them for an export (security analysts verify; compliance officers also
 * export; administrators do both). Archiving old segments (`datadefender:ArchiveAuditTrail`: compliance officers and
 * administrators) is audited like any change, its attempt before anything is written.
 * Invariants: nothing returned is secret (records are redacted before they are chained); the public keys come from
 * the keyring (derived from the unwrapped private keys), never from a storage column; a keyed hash is computed
 * under every HMAC key version and the value is never recorded (only its length).
 */
import type { ArchiveSummary, AuditArchiver } from '../audit/archiver.js';
import type { AuditKeyring, AuditPublicKey } from '../audit/audit-keys.js';
import { KEYED_HASH_PATTERN, keyedHash } from '../audit/sensitive.js';
import { DependencyError, InvalidStateError, ValidationError } from '../errors/index.js';
import type { ArchiveRecord, ChainSummary, CheckpointRecord, ChainedEventRecord } from '../ports/audit-chain-store.js';
import type { AuditSearch, StoredAuditEvent } from '../ports/audit-sink.js';
import type { KeyContext } from './key-context.js';
import type { RequestContext } from './request-context.js';

export type AuditPurpose = 'verify' | 'export';

const ACTIONS = { verify: 'datadefender:VerifyAuditTrail', export: 'datadefender:ExportAuditTrail' } as const;
const OPERATIONS = { verify: 'VerifyAuditTrail', export: 'ExportAuditTrail' } as const;

/** At most this many keyed hashes in one search (one per HMAC key version of a value, with room to spare). */
export const MAX_SEARCH_HASHES = 16;

/** @throws ValidationError unless `hashes` is absent or 1..MAX_SEARCH_HASHES keyed hashes of the exact format */
function checkHashes(hashes: readonly string[] | undefined): void {
  if (hashes === undefined) return;
  if (hashes.length < 1 || hashes.length > MAX_SEARCH_HASHES) throw new ValidationError(`Give 1 to ${MAX_SEARCH_HASHES} hashes.`);
  if (!hashes.every((h) => typeof h === 'string' && KEYED_HASH_PATTERN.test(h))) {
    throw new ValidationError('A hash must be a keyed hash as datadefender audit hash prints it: hmac-sha256:audit-hmac-<version>:<64 lower-case hex digits>.');
  }
}

export function createAuditTrail(kc: Pick<KeyContext, 'run' | 'storage'>, keyring?: AuditKeyring, archiver?: AuditArchiver) {
  const readChainData = <T>(ctx: RequestContext, purpose: AuditPurpose, what: string, read: () => Promise<T>) =>
    kc.run(ctx, OPERATIONS[purpose], { readOnly: true, action: ACTIONS[purpose] }, async (op) => {
      op.details.read = what;
      await op.authorize(null);
      return read();
    });

  const publicKeys = async (): Promise<AuditPublicKey[]> => {
    if (!keyring) return [];
    await keyring.ensure();
    return keyring.publicKeys();
  };

  return {
    /**
     * Search, newest filters first applied by storage; pages by the global sequence. `hashes` finds the events whose
     * record holds any of these keyed hashes (what `hash` computes). @throws ValidationError for a malformed hash
     */
    read(ctx: RequestContext, options: AuditSearch): Promise<StoredAuditEvent[]> {
      return kc.run(ctx, 'LookupEvents', { readOnly: true, action: 'datadefender:LookupEvents' }, async (op) => {
        await op.authorize(null);
        checkHashes(options.hashes);
        return kc.storage.readAudit(options);
      });
    },

    /** The chains, and the public keys their checkpoints verify with. */
    chains(ctx: RequestContext, purpose: AuditPurpose): Promise<{ chains: ChainSummary[]; publicKeys: AuditPublicKey[] }> {
      return readChainData(ctx, purpose, 'chains', async () => ({ chains: await kc.storage.listChains(), publicKeys: await publicKeys() }));
    },

    checkpoints(ctx: RequestContext, purpose: AuditPurpose, chainId?: string): Promise<CheckpointRecord[]> {
      return readChainData(ctx, purpose, 'checkpoints', () => kc.storage.listCheckpoints(chainId === undefined ? {} : { chainId }));
    },

    /** The signed archive records (of one chain, or all): they stand in for archived events when verifying. */
    archives(ctx: RequestContext, purpose: AuditPurpose, chainId?: string): Promise<ArchiveRecord[]> {
      return readChainData(ctx, purpose, 'archives', () => kc.storage.listArchiveRecords(chainId === undefined ? {} : { chainId }));
    },

    /**
     * `datadefender audit archive`: archives every segment older than the retention and deletes it from the trail
     * (a dry run only lists them). @throws InvalidStateError when no retention is configured; DependencyError
     */
    archive(ctx: RequestContext, options: { dryRun: boolean }): Promise<ArchiveSummary> {
      return kc.run(ctx, 'ArchiveAuditTrail', { readOnly: options.dryRun, action: 'datadefender:ArchiveAuditTrail' }, async (op) => {
        op.details.dryRun = options.dryRun;
        await op.authorize(null);
        if (!archiver) throw new InvalidStateError('No audit retention is configured (auditRetentionDays): nothing is archived.');
        op.details.retentionDays = archiver.retentionDays;
        if (!options.dryRun) await op.beforeChange();
        const summary = await archiver.run(options);
        op.details.segments = summary.segments.length;
        op.details.deletedEvents = summary.deleted;
        op.details.skippedChains = summary.skipped.length;
        return summary;
      });
    },

    chainEvents(ctx: RequestContext, purpose: AuditPurpose, chainId: string, options: { afterSequence: number; limit: number }): Promise<ChainedEventRecord[]> {
      return readChainData(ctx, purpose, 'events', () => kc.storage.readChain(chainId, options));
    },

    /** `datadefender audit hash`: the keyed hash of `value` under every HMAC key version, to search the trail for it. */
    hash(ctx: RequestContext, value: string): Promise<{ keyId: string; hash: string }[]> {
      return kc.run(ctx, 'ComputeAuditHash', { readOnly: true, action: 'datadefender:LookupEvents' }, async (op) => {
        op.details.valueLength = value.length;
        await op.authorize(null);
        if (!keyring) throw new DependencyError('The audit keys are not available.');
        await keyring.ensure();
        return keyring.hmacKeys().map((key) => ({ keyId: key.id, hash: keyedHash(key, value) }));
      });
    },
  };
}
