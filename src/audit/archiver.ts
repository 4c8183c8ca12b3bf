/**
 * Audit trail retention: archives each chain's events older than the retention to export files that still verify,
 * records each archive with a signed archive record (archive-record.ts), and only then deletes the archived events.
 * Invariants:
 * - a chain is cut only at a signed checkpoint S whose time (after event S's) is older than the retention, so an
 *   archive ends at a hash the audit key vouched for; segments follow each other (the next starts at S + 1);
 * - an archive file (export format 2) holds the segment's events, the checkpoints covering them and the chain's earlier
 *   archive records (which anchor a segment that starts past 1), so it verifies offline on its own; it is written to a
 *   temporary name, fsynced, read back and verified (a segment that does not verify is never archived: retention
 *   never launders a tampered chain), renamed, and the directory fsynced before its record is written;
 * - events are deleted only after their record is stored, in bounded batches, each conditional (in storage, in one
 *   transaction) on a record covering them; a crash anywhere loses nothing: an unrecorded file is left over (its
 *   events are still stored and are archived again), a recorded archive whose events remain is finished next run;
 * - two archivers (processes) at once: the storage admits one record per segment start; the loser removes its own
 *   file (never another's) and carries on from the winner's record. One run at a time in a process;
 * - chain ids come from storage and are checked before they become part of a file name;
 * - a temporary file is removed when writing it fails; one left by a crash is swept at the next run once it is
 *   older than STALE_PARTIAL_MS (an archiver in another process may still be writing a younger one).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from '../crypto/index.js';
import { DependencyError } from '../errors/index.js';
import type { ArchiveRecord, AuditArchiveStore, AuditChainStore, CheckpointRecord } from '../ports/audit-chain-store.js';
import type { Clock } from '../ports/clock.js';
import { archiveRecordSignatureValid, signArchiveRecord } from './archive-record.js';
import { GENESIS_HASH } from './audit-chain.js';
import type { AuditKeyring } from './audit-keys.js';
import { checkpointSignatureValid } from './checkpoints.js';
import { EXPORT_FORMAT_V2, archiveLine, checkpointLine, eventLine, parseExportLine, type ExportLine } from './export-format.js';
import { verifyTrail } from './verifier.js';

const DAY_MS = 86_400_000;
/** PCI DSS 10.5.1: audit log history is retained for at least 12 months. */
export const MIN_RETENTION_DAYS = 365;
const SAFE_CHAIN_ID = /^[A-Za-z0-9-]{1,64}$/;
const WRITE_CHUNK = 1 << 20;

export interface ArchivedSegment {
  chainId: string;
  firstSequence: number;
  lastSequence: number;
  events: number;
  /** The archive file's name (null in a dry run). */
  file: string | null;
}

export interface ArchiveSummary {
  dryRun: boolean;
  /** Events older than this are due. */
  cutoff: string;
  /** Segments archived (or, in a dry run, that would be). */
  segments: ArchivedSegment[];
  /** Archived events deleted from the trail (also those of earlier, interrupted runs). */
  deleted: number;
  /** Chains left as they are, and why (a segment that does not verify, a record another run wrote first). */
  skipped: { chainId: string; reason: string }[];
}

export interface AuditArchiver {
  readonly retentionDays: number;
  readonly dir: string;
  /** One pass: archives and deletes everything due. @throws SealedError, DependencyError (no signing key) */
  run(options?: { dryRun?: boolean }): Promise<ArchiveSummary>;
}

interface Coverage {
  through: number;
  hash: string;
  records: ArchiveRecord[];
}

/** The chain's validly signed archive records, followed from sequence 1 (each continuing the previous last hash). */
function coverageOf(records: readonly ArchiveRecord[], valid: (r: ArchiveRecord) => boolean): Coverage {
  const byFirst = new Map(records.filter(valid).map((r) => [r.firstSequence, r]));
  const out: Coverage = { through: 0, hash: GENESIS_HASH, records: [] };
  for (let r = byFirst.get(1); r && r.previousHash === out.hash; r = byFirst.get(out.through + 1)) {
    out.through = r.lastSequence;
    out.hash = r.lastHash;
    out.records.push(r);
  }
  return out;
}

/** Lines of a file as read back from disk, with the SHA-256 of its bytes once read to the end. */
async function* readBack(path: string, digest: { hex?: string }): AsyncGenerator<ExportLine> {
  const hash = createHash('sha256');
  let carry = Buffer.alloc(0);
  let n = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    let buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) !== -1) {
      n++;
      const text = buf.toString('utf8', 0, nl);
      if (text !== '') yield parseExportLine(text, n);
      buf = buf.subarray(nl + 1);
    }
    carry = Buffer.from(buf);
  }
  if (carry.length) yield parseExportLine(carry.toString('utf8'), n + 1);
  digest.hex = hash.digest('hex');
}

/** How old a temporary archive file must be before a run removes it as left over by a crash. */
const STALE_PARTIAL_MS = 3_600_000;
const PARTIAL_FILE = /^\.audit-[\w-]+\.jsonl\.partial$/;

export function createAuditArchiver(deps: {
  store: AuditChainStore & AuditArchiveStore;
  keyring: AuditKeyring;
  clock: Clock;
  /** Where archive files go (created 0700 when missing). */
  dir: string;
  retentionDays: number;
  /** Events per page read and per deletion transaction. */
  batchSize: number;
  /** Events per archive file at most (unless checkpoints are further apart). Default 100,000. */
  maxEventsPerFile?: number;
}): AuditArchiver {
  const { store, keyring, clock, dir, retentionDays, batchSize, maxEventsPerFile = 100_000 } = deps;
  let running: Promise<unknown> = Promise.resolve();

  const keyMap = () => new Map(keyring.publicKeys().map((k) => [k.id, new Uint8Array(Buffer.from(k.publicKey, 'base64'))]));

  /** The signed checkpoint to cut at after `through`, or none: the furthest within the file size, else the nearest. */
  function cutPoint(checkpoints: readonly CheckpointRecord[], through: number, lastStored: number, cutoff: number, keys: ReadonlyMap<string, Uint8Array>): CheckpointRecord | undefined {
    const due = checkpoints.filter((cp) => {
      const key = keys.get(cp.keyId);
      return cp.sequence > through && cp.sequence <= lastStored && cp.time.getTime() < cutoff && key !== undefined && checkpointSignatureValid(cp, key);
    });
    const within = due.filter((cp) => cp.sequence - through <= maxEventsPerFile);
    return within.at(-1) ?? due[0];
  }

  /** Removes the temporary files a crash left behind (named `.audit-*.jsonl.partial`, older than STALE_PARTIAL_MS). */
  async function sweepStalePartials(): Promise<void> {
    const before = Date.now() - STALE_PARTIAL_MS; // file times are the file system's, not the injected clock's
    for (const name of await readdir(dir)) {
      if (!PARTIAL_FILE.test(name)) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < before) await rm(path, { force: true });
    }
  }

  /** Deletes the events of `record` still stored, batch by batch. */
  async function deleteArchived(record: ArchiveRecord, firstStored: number): Promise<number> {
    let deleted = 0;
    for (let from = Math.max(record.firstSequence, firstStored); from <= record.lastSequence; from += batchSize) {
      deleted += await store.deleteArchivedEvents(record.chainId, from, Math.min(record.lastSequence, from + batchSize - 1));
    }
    return deleted;
  }

  /** Writes, fsyncs and verifies the archive file of events through+1..cut; resolves with its name and SHA-256. */
  async function writeArchive(chainId: string, cover: Coverage, cut: CheckpointRecord, checkpoints: readonly CheckpointRecord[]): Promise<{ file: string; sha256: string } | { problem: string }> {
    const first = cover.through + 1;
    const pad = (n: number) => String(n).padStart(12, '0');
    const file = `audit-${chainId}-${pad(first)}-${pad(cut.sequence)}-${randomBytes(4).toString('hex')}.jsonl`;
    const path = join(dir, file);
    const partial = join(dir, `.${file}.partial`);
    const keys = keyring.publicKeys();
    const header: ExportLine = {
      type: 'header',
      format: EXPORT_FORMAT_V2,
      exportedAt: clock.now().toISOString(),
      publicKeys: keys.map(({ id, algorithm, publicKey }) => ({ id, algorithm, publicKey })),
      segment: { chainId, firstSequence: first, lastSequence: cut.sequence },
    };
    const handle = await open(partial, 'wx', 0o600);
    let written = false;
    try {
      let pending: string[] = [];
      let size = 0;
      const put = async (line: ExportLine) => {
        const text = `${JSON.stringify(line)}\n`;
        pending.push(text);
        size += text.length;
        if (size >= WRITE_CHUNK) {
          await handle.write(pending.join(''));
          pending = [];
          size = 0;
        }
      };
      await put(header);
      for (const cp of checkpoints) if (cp.sequence >= first && cp.sequence <= cut.sequence) await put(checkpointLine(cp));
      for (const r of cover.records) await put(archiveLine(r));
      let after = cover.through;
      while (after < cut.sequence) {
        const page = await store.readChain(chainId, { afterSequence: after, limit: Math.min(batchSize, cut.sequence - after) });
        const inSegment = page.filter((e) => e.sequence <= cut.sequence);
        if (inSegment.length === 0) break;
        for (const e of inSegment) await put(eventLine(e));
        after = inSegment[inSegment.length - 1]!.sequence;
      }
      await handle.write(pending.join(''));
      await handle.sync();
      written = true;
    } finally {
      await handle.close();
      if (!written) await rm(partial, { force: true });
    }
    const digest: { hex?: string } = {};
    const report = await verifyTrail(readBack(partial, digest), { publicKeys: keyMap() });
    const chain = report.chains.find((c) => c.chainId === chainId);
    const complete = chain?.firstSequence === first && chain.lastSequence === cut.sequence && chain.events === cut.sequence - first + 1;
    if (!report.ok || !complete || !digest.hex) {
      await rm(partial, { force: true });
      return { problem: report.firstBreak?.message ?? `events ${first}..${cut.sequence} are not all stored` };
    }
    await rename(partial, path);
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
    return { file, sha256: digest.hex };
  }

  async function pass(dryRun: boolean): Promise<ArchiveSummary> {
    const cutoff = clock.now().getTime() - retentionDays * DAY_MS;
    const summary: ArchiveSummary = { dryRun, cutoff: new Date(cutoff).toISOString(), segments: [], deleted: 0, skipped: [] };
    await keyring.ensure();
    const signer = keyring.signer();
    if (!signer && !dryRun) throw new DependencyError('The audit signing key is not available: nothing is archived.');
    if (!dryRun) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await sweepStalePartials();
    }
    const keys = keyMap();
    const valid = (r: ArchiveRecord) => {
      const key = keys.get(r.keyId);
      return key !== undefined && archiveRecordSignatureValid(r, key);
    };

    for (const chain of await store.listChains()) {
      const { chainId } = chain;
      if (!SAFE_CHAIN_ID.test(chainId)) {
        summary.skipped.push({ chainId, reason: 'the chain id is not one this server writes' });
        continue;
      }
      let cover = coverageOf(await store.listArchiveRecords({ chainId }), valid);
      // Finish deletions an earlier run recorded but did not complete.
      if (!dryRun && chain.firstSequence <= cover.through) {
        for (const r of cover.records) if (r.lastSequence >= chain.firstSequence) summary.deleted += await deleteArchived(r, chain.firstSequence);
      }
      if (chain.firstSequence > cover.through + 1) {
        const missing = `${cover.through + 1}..${chain.firstSequence - 1}`;
        summary.skipped.push({ chainId, reason: `not archived: events ${missing} are missing (deleted) and no archive record covers them; verify the trail` });
        continue;
      }
      const checkpoints = await store.listCheckpoints({ chainId });
      for (;;) {
        const cut = cutPoint(checkpoints, cover.through, chain.lastSequence, cutoff, keys);
        if (!cut) break;
        const segment = { chainId, firstSequence: cover.through + 1, lastSequence: cut.sequence, events: cut.sequence - cover.through };
        if (dryRun) {
          summary.segments.push({ ...segment, file: null });
          cover = { through: cut.sequence, hash: cut.hash, records: cover.records };
          continue;
        }
        const written = await writeArchive(chainId, cover, cut, checkpoints);
        if ('problem' in written) {
          summary.skipped.push({ chainId, reason: `not archived: ${written.problem}` });
          break;
        }
        const record = await signArchiveRecord(
          { chainId, firstSequence: segment.firstSequence, lastSequence: cut.sequence, previousHash: cover.hash, lastHash: cut.hash, time: clock.now(), file: written.file, fileSha256: written.sha256 },
          signer!,
        );
        try {
          await store.appendArchiveRecord(record);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== 'ERR_ALREADY_EXISTS' && code !== 'ERR_INVALID_STATE') throw err;
          // Another archiver recorded this segment first: our file is ours alone to remove; the next run goes on from its record.
          await rm(join(dir, written.file), { force: true });
          summary.skipped.push({ chainId, reason: 'another archiver archived it at the same time' });
          break;
        }
        summary.segments.push({ ...segment, file: written.file });
        summary.deleted += await deleteArchived(record, segment.firstSequence);
        cover = { through: record.lastSequence, hash: record.lastHash, records: [...cover.records, record] };
      }
    }
    return summary;
  }

  return {
    retentionDays,
    dir,
    run(options = {}) {
      const next = running.then(() => pass(options.dryRun ?? false));
      running = next.catch(() => undefined);
      return next;
    },
  };
}
