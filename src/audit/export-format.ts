/**
 * The audit export: JSON lines. First a header (format, time, the public keys the server vouches for), then every
 * signed checkpoint, then the events chain by chain in sequence order. Each event line carries the exact record text
 * that was hashed, so the file verifies offline (verifier.ts) with nothing but a trusted public key.
 * Invariant: the export holds only what the trail holds (redacted records, hashes, signatures): no secret.
 */
import { ValidationError } from '../errors/index.js';
import type { CheckpointRecord } from '../ports/audit-chain-store.js';
import type { ChainLink } from '../ports/audit-sink.js';
import type { AuditPublicKey } from './audit-keys.js';

export const EXPORT_FORMAT = 'datadefender-audit-export/1';

export interface ExportHeader {
  type: 'header';
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  publicKeys: Omit<AuditPublicKey, 'createdAt'>[];
  /** Set when the export covers only part of a chain: its first event is then taken as the anchor. */
  range?: { chainId?: string; fromSequence?: number; toSequence?: number };
}
export type CheckpointLine = { type: 'checkpoint' } & Omit<CheckpointRecord, 'time'> & { time: string };
export type EventLine = { type: 'event' } & ChainLink;
export type ExportLine = ExportHeader | CheckpointLine | EventLine;

export const checkpointLine = (cp: CheckpointRecord): CheckpointLine => ({ type: 'checkpoint', ...cp, time: cp.time.toISOString() });
export const eventLine = (link: ChainLink): EventLine => ({
  type: 'event',
  chainId: link.chainId,
  sequence: link.sequence,
  previousHash: link.previousHash,
  hash: link.hash,
  record: link.record,
});

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
  if (v?.type === 'header' && v.format === EXPORT_FORMAT && Array.isArray(v.publicKeys)) return v as unknown as ExportHeader;
  if (v?.type === 'checkpoint' && str('chainId') && int('sequence') && str('hash') && str('time') && str('keyId') && str('payload') && str('signature')) {
    return v as unknown as CheckpointLine;
  }
  if (v?.type === 'event' && str('chainId') && int('sequence') && str('previousHash') && str('hash') && str('record')) return v as unknown as EventLine;
  throw new ValidationError(`Line ${lineNumber} of the export is not a ${EXPORT_FORMAT} header, checkpoint or event.`);
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
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end === -1) end = buf.length;
    n++;
    const text = buf.toString('utf8', start, end);
    if (text.trim() !== '') yield parseExportLine(text, n);
    start = end + 1;
  }
}
