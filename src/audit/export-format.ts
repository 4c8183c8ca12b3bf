/**
 * The audit export: JSON lines. First a header (format, time, the public keys the server vouches for), then every
 * signed checkpoint, then (format 2) every signed archive record, then the events chain by chain in sequence order.
 * Each event line carries the exact record text that was hashed, so the file verifies offline (verifier.ts) with
 * nothing but a trusted public key.
 * Versions: format 1 has no archive lines; format 2 adds them (and an archive file's `segment` in the header). Both
 * parse; an archive line under a format 1 header is refused, so an old export never changes meaning.
 * Invariant: the export holds only what the trail holds (redacted records, hashes, signatures): no secret.
 */
import { ValidationError } from '../errors/index.js';
import type { ArchiveRecord, CheckpointRecord } from '../ports/audit-chain-store.js';
import type { ChainLink } from '../ports/audit-sink.js';
import type { AuditPublicKey } from './audit-keys.js';

export const EXPORT_FORMAT = 'datadefender-audit-export/1';
/** Format 1 plus `archive` lines (signed archive records) and the header's `segment`. */
export const EXPORT_FORMAT_V2 = 'datadefender-audit-export/2';
const EXPORT_FORMATS: readonly string[] = [EXPORT_FORMAT, EXPORT_FORMAT_V2];

export interface ExportHeader {
  type: 'header';
  format: typeof EXPORT_FORMAT | typeof EXPORT_FORMAT_V2;
  exportedAt: string;
  publicKeys: Omit<AuditPublicKey, 'createdAt'>[];
  /** Set when the export covers only part of a chain: its first event is then taken as the anchor. */
  range?: { chainId?: string; fromSequence?: number; toSequence?: number };
  /** An archive file (format 2): the chain segment it holds. Informational: the verifier relies on signatures only. */
  segment?: { chainId: string; firstSequence: number; lastSequence: number };
}
export type CheckpointLine = { type: 'checkpoint' } & Omit<CheckpointRecord, 'time'> & { time: string };
export type EventLine = { type: 'event' } & ChainLink;
export type ArchiveLine = { type: 'archive' } & Omit<ArchiveRecord, 'time'> & { time: string };
export type ExportLine = ExportHeader | CheckpointLine | ArchiveLine | EventLine;

export const checkpointLine = (cp: CheckpointRecord): CheckpointLine => ({ type: 'checkpoint', ...cp, time: cp.time.toISOString() });
export const eventLine = (link: ChainLink): EventLine => ({
  type: 'event',
  chainId: link.chainId,
  sequence: link.sequence,
  previousHash: link.previousHash,
  hash: link.hash,
  record: link.record,
});

export const archiveLine = (r: ArchiveRecord): ArchiveLine => ({ type: 'archive', ...r, time: r.time.toISOString() });

export function archiveFromLine(line: ArchiveLine): ArchiveRecord {
  return {
    chainId: line.chainId,
    firstSequence: line.firstSequence,
    lastSequence: line.lastSequence,
    previousHash: line.previousHash,
    lastHash: line.lastHash,
    time: new Date(line.time),
    file: line.file,
    fileSha256: line.fileSha256,
    keyId: line.keyId,
    payload: line.payload,
    signature: line.signature,
  };
}

export function checkpointFromLine(line: CheckpointLine): CheckpointRecord {
  return { chainId: line.chainId, sequence: line.sequence, hash: line.hash, time: new Date(line.time), keyId: line.keyId, payload: line.payload, signature: line.signature };
}

/** Parses one line of an export. @throws ValidationError (with the line number) for anything malformed. */
export function parseExportLine(text: string, lineNumber: number): ExportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError(`Line ${lineNumber} of the export is not JSON.`);
  }
  const v = value as Record<string, unknown>;
  const str = (k: string) => typeof v[k] === 'string';
  const int = (k: string) => Number.isSafeInteger(v[k]) && (v[k] as number) >= 1;
  if (v?.type === 'header' && EXPORT_FORMATS.includes(v.format as string) && Array.isArray(v.publicKeys)) return v as unknown as ExportHeader;
  if (v?.type === 'checkpoint' && str('chainId') && int('sequence') && str('hash') && str('time') && str('keyId') && str('payload') && str('signature')) {
    return v as unknown as CheckpointLine;
  }
  if (v?.type === 'event' && str('chainId') && int('sequence') && str('previousHash') && str('hash') && str('record')) return v as unknown as EventLine;
  const archiveFields = ['chainId', 'previousHash', 'lastHash', 'time', 'file', 'fileSha256', 'keyId', 'payload', 'signature'];
  if (v?.type === 'archive' && archiveFields.every(str) && int('firstSequence') && int('lastSequence')) return v as unknown as ArchiveLine;
  throw new ValidationError(`Line ${lineNumber} of the export is not a ${EXPORT_FORMAT_V2} header, checkpoint, archive record or event.`);
}

/**
 * Every line of an export held in a Buffer, parsed one at a time (no single string of the whole file: exports of
 * millions of events exceed the longest string V8 allows). Blank lines are skipped.
 * @throws ValidationError naming the first malformed line
 */
export function* parseExportBuffer(buffer: Uint8Array): Generator<ExportLine> {
  const buf = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let start = 0;
  let n = 0;
  let format: string | undefined;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end === -1) end = buf.length;
    n++;
    const text = buf.toString('utf8', start, end);
    if (text.trim() !== '') {
      const line = parseExportLine(text, n);
      if (line.type === 'header') format = line.format;
      else if (line.type === 'archive' && format === EXPORT_FORMAT) throw new ValidationError(`Line ${n} of the export is an archive record, which ${EXPORT_FORMAT} does not have.`);
      yield line;
    }
    start = end + 1;
  }
}
