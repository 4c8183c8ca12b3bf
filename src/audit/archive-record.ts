/**
 * Signed archive records: "events F..L of chain C, linked from hash P and ending in hash H, were archived at time T to
 * file N whose SHA-256 is D", signed with the audit signing key like a checkpoint (checkpoints.ts). A record stands in
 * for the archived events when the remaining trail is verified (verifier.ts), so retention never looks like deletion.
 * Invariants: the signed payload is the canonical JSON of every field but the signature (so nothing in a record can
 * change without breaking it); only a holder of the audit signing key (protected by the root of trust) can make one,
 * so a database administrator who deletes a chain's prefix cannot make that deletion look like an archival; the
 * payload names its own format so a record can never pass for a checkpoint or the other way round.
 */
import type { ArchiveRecord } from '../ports/audit-chain-store.js';
import type { AuditSigner } from './audit-keys.js';
import { canonicalJson } from './canonical-json.js';
import { auditSignatureValid } from './checkpoints.js';

export const ARCHIVE_RECORD_FORMAT = 'datadefender-audit-archive/1';

export type ArchiveFields = Omit<ArchiveRecord, 'payload' | 'signature'>;

export function archivePayload(r: ArchiveFields): string {
  return canonicalJson({
    format: ARCHIVE_RECORD_FORMAT,
    chainId: r.chainId,
    firstSequence: r.firstSequence,
    lastSequence: r.lastSequence,
    previousHash: r.previousHash,
    lastHash: r.lastHash,
    time: r.time.toISOString(),
    file: r.file,
    fileSha256: r.fileSha256,
    keyId: r.keyId,
  });
}

/** Signs `fields` (whose keyId must be the signer's) with the audit signing key. */
export async function signArchiveRecord(fields: Omit<ArchiveFields, 'keyId'>, signer: AuditSigner): Promise<ArchiveRecord> {
  const withKey = { ...fields, keyId: signer.keyId };
  const payload = archivePayload(withKey);
  // `await`: the signer may sign inside an HSM (asynchronously) or in process.
  const signature = Buffer.from(await signer.sign(Buffer.from(payload, 'utf8'))).toString('base64');
  return { ...withKey, payload, signature };
}

/** Whether `record` is signed by `publicKeyDer` (checkpoints.ts) and its payload says what its fields say. */
export function archiveRecordSignatureValid(record: ArchiveRecord, publicKeyDer: Uint8Array): boolean {
  return record.payload === archivePayload(record) && auditSignatureValid(publicKeyDer, record.payload, record.signature);
}
