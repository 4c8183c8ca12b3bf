/**
 * The audit trail verifier: reads an export (or the same lines fetched online) and reports the first break of each
 * chain precisely. Pure: no storage, no network; trusts only the public keys it is given.
 * Checks, per event: the record hashes to the stored hash; the record names the chain, sequence and previous hash
 * it is stored under; sequences follow 1, 2, 3 ...; each record names the previous record's hash; the chain's hash at
 * each signed checkpoint equals the checkpoint's; per checkpoint: a valid signature (Ed25519, or ECDSA P-256 from the HSM) by a trusted key.
 * Break kinds: `edited` (content or a link changed), `deleted` (a sequence is missing), `inserted` (an event the
 * chain does not link to), `reordered` (an event out of its place), `truncated` (the chain ends before its last
 * signed checkpoint), `forged-checkpoint` (bad signature or unknown key), `rewritten` (the chain links up but no
 * longer matches a signed checkpoint or archive record: it was rebuilt after they were signed), `forged-archive` (an
 * archive record with a bad signature or an unknown key).
 * Retention (archiver.ts): a chain whose first event has sequence F > 1 starts where its validly signed archive
 * records, followed from sequence 1 (each continuing the previous one's last hash), end: at F - 1, with the first
 * event linking to the last record's hash. Anything the records do not cover is `deleted` as before (only the audit
 * signing key makes a record, so a deleted prefix cannot pass for an archived one). Archived events still present (a
 * deletion in progress) must link up to each record's last hash.
 * Invariants: the first break per chain is reported with chain id and sequence; events after it are counted, not
 * judged again; `ok` only when no break at all; a chain listed by a checkpoint but without events is `truncated`
 * unless its archive records cover the checkpoint. Archive lines must come before the chain's events (exports put
 * them after the checkpoints).
 */
import { sha256Hex } from '../crypto/index.js';
import type { ArchiveRecord, CheckpointRecord } from '../ports/audit-chain-store.js';
import { archiveRecordSignatureValid } from './archive-record.js';
import { GENESIS_HASH } from './audit-chain.js';
import { checkpointSignatureValid } from './checkpoints.js';
import { archiveFromLine, checkpointFromLine, type EventLine, type ExportLine } from './export-format.js';

export const BREAK_KINDS = ['edited', 'deleted', 'inserted', 'reordered', 'truncated', 'forged-checkpoint', 'rewritten', 'forged-archive'] as const;
export type BreakKind = (typeof BREAK_KINDS)[number];

export interface Break {
  kind: BreakKind;
  chainId: string;
  sequence: number;
  message: string;
}

export interface ChainReport {
  chainId: string;
  events: number;
  firstSequence: number | null;
  lastSequence: number | null;
  checkpoints: number;
  lastCheckpoint: { sequence: number; time: string } | null;
  /** Validly signed archive records of the chain. */
  archives: number;
  /** The last sequence the chain's archive records cover from sequence 1 on (null: none). */
  archivedThrough: number | null;
}

export interface VerifyReport {
  ok: boolean;
  events: number;
  checkpoints: number;
  archives: number;
  chains: ChainReport[];
  breaks: Break[];
  firstBreak: Break | null;
}

export interface VerifyOptions {
  /** Trusted signing keys: key id -> SubjectPublicKeyInfo DER. */
  publicKeys: ReadonlyMap<string, Uint8Array>;
  /** Partial exports: the first event of each chain is the anchor (its previous hash is taken as given). */
  anchored?: boolean;
  /** How many events ahead to look when telling a deletion from a reordering (default 64). */
  lookahead?: number;
}

interface ChainState {
  report: ChainReport;
  lastSeq: number;
  lastHash: string;
  broken: boolean;
  started: boolean;
  /** Valid checkpoints of the chain by sequence. */
  checkpoints: Map<number, CheckpointRecord>;
  maxCheckpoint: CheckpointRecord | null;
  /** Validly signed archive records of the chain. */
  archives: ArchiveRecord[];
  /** Hashes archive records vouch for, by sequence (checked when archived events are still present). */
  archivedHashes: Map<number, string>;
}

/** How far the chain's archive records reach from sequence 1, each continuing the previous one's last hash. */
function archiveCoverage(records: readonly ArchiveRecord[]): { through: number; hash: string; ends: Map<number, string> } {
  const byFirst = new Map(records.map((r) => [r.firstSequence, r]));
  let through = 0;
  let hash = GENESIS_HASH;
  const ends = new Map<number, string>();
  for (let r = byFirst.get(1); r && r.previousHash === hash && r.lastSequence >= r.firstSequence; r = byFirst.get(through + 1)) {
    through = r.lastSequence;
    hash = r.lastHash;
    ends.set(through, hash);
  }
  return { through, hash, ends };
}

interface Parsed {
  line: EventLine;
  computed: string;
  chain: { id?: unknown; sequence?: unknown; previousHash?: unknown } | undefined;
}

function parseEvent(line: EventLine): Parsed {
  const computed = sha256Hex(line.record);
  let chain: Parsed['chain'];
  try {
    chain = (JSON.parse(line.record) as { chain?: Parsed['chain'] }).chain;
  } catch {
    chain = undefined;
  }
  return { line, computed, chain };
}

export async function verifyTrail(source: AsyncIterable<ExportLine> | Iterable<ExportLine>, options: VerifyOptions): Promise<VerifyReport> {
  const lookahead = options.lookahead ?? 64;
  const chains = new Map<string, ChainState>();
  const breaks: Break[] = [];
  let events = 0;
  let checkpoints = 0;
  let archives = 0;

  const stateOf = (chainId: string): ChainState => {
    let s = chains.get(chainId);
    if (!s) {
      s = {
        report: { chainId, events: 0, firstSequence: null, lastSequence: null, checkpoints: 0, lastCheckpoint: null, archives: 0, archivedThrough: null },
        lastSeq: 0,
        lastHash: GENESIS_HASH,
        broken: false,
        started: false,
        checkpoints: new Map(),
        maxCheckpoint: null,
        archives: [],
        archivedHashes: new Map(),
      };
      chains.set(chainId, s);
    }
    return s;
  };
  const fail = (s: ChainState, kind: BreakKind, sequence: number, message: string) => {
    if (s.broken) return;
    s.broken = true;
    breaks.push({ kind, chainId: s.report.chainId, sequence, message: `chain ${s.report.chainId}: ${message}` });
  };

  const iterator = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<ExportLine>)[Symbol.iterator]()) as
    | AsyncIterator<ExportLine>
    | Iterator<ExportLine>;
  const buffer: ExportLine[] = [];
  let exhausted = false;
  const fill = async (n: number) => {
    while (!exhausted && buffer.length < n) {
      const next = await iterator.next();
      if (next.done) exhausted = true;
      else buffer.push(next.value);
    }
  };
  /** The next `n` buffered event lines of `chainId` (after the current one). */
  const ahead = async (chainId: string, n: number): Promise<EventLine[]> => {
    await fill(n);
    return buffer.filter((l): l is EventLine => l.type === 'event' && l.chainId === chainId).slice(0, n);
  };

  const checkpoint = (cp: CheckpointRecord) => {
    checkpoints++;
    const s = stateOf(cp.chainId);
    s.report.checkpoints++;
    const key = options.publicKeys.get(cp.keyId);
    if (!key || !checkpointSignatureValid(cp, key)) {
      fail(s, 'forged-checkpoint', cp.sequence, `checkpoint at sequence ${cp.sequence} is not signed by a trusted audit key (${key ? 'bad signature' : `unknown key ${cp.keyId}`}): forged or altered`);
      return;
    }
    s.checkpoints.set(cp.sequence, cp);
    if (!s.maxCheckpoint || cp.sequence > s.maxCheckpoint.sequence) {
      s.maxCheckpoint = cp;
      s.report.lastCheckpoint = { sequence: cp.sequence, time: cp.time.toISOString() };
    }
  };

  const archive = (r: ArchiveRecord) => {
    archives++;
    const s = stateOf(r.chainId);
    const key = options.publicKeys.get(r.keyId);
    if (!key || !archiveRecordSignatureValid(r, key)) {
      const why = key ? 'bad signature' : `unknown key ${r.keyId}`;
      fail(s, 'forged-archive', r.firstSequence, `the archive record of events ${r.firstSequence}..${r.lastSequence} is not signed by a trusted audit key (${why}): forged or altered`);
      return;
    }
    s.report.archives++;
    s.archives.push(r);
  };

  /**
   * Where the chain starts given its archive records: sets lastSeq/lastHash for a first event `first` (null: the
   * chain has no events). False when the records do not decide it (none, or a partial export's anchor applies).
   */
  const startAfterArchives = (s: ChainState, first: EventLine | null) => {
    const cover = archiveCoverage(s.archives);
    if (cover.through === 0) return false;
    s.report.archivedThrough = cover.through;
    const seq = first?.sequence ?? cover.through + 1;
    // A partial export that starts past the archive keeps its own anchor.
    if (seq > cover.through + 1 && options.anchored) return false;
    if (seq > cover.through || seq === 1) {
      // The first remaining event follows the archive (or, if a gap follows it, the gap is reported as deleted).
      if (seq > 1) {
        s.lastSeq = cover.through;
        s.lastHash = cover.hash;
      }
    } else {
      // Archived events still present (their deletion is under way): they must link up to each record's last hash.
      s.lastSeq = seq - 1;
      s.lastHash = first!.previousHash;
    }
    for (const [end, hash] of cover.ends) if (end >= seq) s.archivedHashes.set(end, hash);
    return true;
  };

  const event = async ({ line, computed, chain }: Parsed) => {
    events++;
    const s = stateOf(line.chainId);
    s.report.events++;
    s.report.firstSequence ??= line.sequence;
    const seq = line.sequence;
    if (!s.started) {
      s.started = true;
      if (!startAfterArchives(s, line) && options.anchored) {
        s.lastSeq = seq - 1;
        s.lastHash = line.previousHash;
      }
    }
    const accept = () => {
      s.lastSeq = Math.max(s.lastSeq, seq);
      s.lastHash = computed;
      s.report.lastSequence = s.lastSeq;
    };
    if (s.broken) return accept();
    if (computed !== line.hash) {
      fail(s, 'edited', seq, `event ${seq} was edited: its record no longer matches its hash`);
      return accept();
    }
    if (!chain || chain.id !== line.chainId || chain.sequence !== seq || chain.previousHash !== line.previousHash) {
      fail(s, 'edited', seq, `event ${seq} was edited: the chain position its record names (${String(chain?.sequence)}) is not where it is stored`);
      return accept();
    }
    if (seq === s.lastSeq + 1) {
      if (line.previousHash !== s.lastHash) {
        const [next] = await ahead(line.chainId, lookahead);
        if (next && next.previousHash === s.lastHash) {
          fail(s, 'inserted', seq, `an event not in the chain was inserted at sequence ${seq} (the next event links to event ${s.lastSeq})`);
        } else if (s.lastSeq === 0) {
          fail(s, 'edited', seq, `event ${seq} was edited: it does not start the chain`);
        } else {
          fail(s, 'edited', s.lastSeq, `event ${s.lastSeq} was edited: event ${seq} recorded a different hash for it`);
        }
        return accept();
      }
    } else if (seq > s.lastSeq + 1) {
      const missing = s.lastSeq + 1;
      const later = await ahead(line.chainId, lookahead);
      if (later.some((l) => l.sequence === missing)) {
        fail(s, 'reordered', seq, `events were reordered: event ${seq} appears before event ${missing}`);
      } else {
        const range = missing === seq - 1 ? `event ${missing} is` : `events ${missing}..${seq - 1} are`;
        fail(s, 'deleted', missing, `${range} missing (deleted)`);
      }
      return accept();
    } else if (seq === s.lastSeq) {
      const [next] = await ahead(line.chainId, lookahead);
      const which = next && next.previousHash === computed ? 'the first of them is not linked to by the chain' : 'the second of them is not linked to by the chain';
      fail(s, 'inserted', seq, `an event was inserted at sequence ${seq}: two events claim that position, ${which}`);
      return accept();
    } else {
      fail(s, 'reordered', seq, `events were reordered: event ${seq} appears after event ${s.lastSeq}`);
      return accept();
    }
    const cp = s.checkpoints.get(seq);
    if (cp && cp.hash !== computed) {
      fail(s, 'rewritten', seq, `the chain does not match the checkpoint signed at sequence ${seq} (${cp.time.toISOString()}): events up to ${seq} were rewritten`);
    }
    const archived = s.archivedHashes.get(seq);
    if (archived !== undefined && archived !== computed) {
      fail(s, 'rewritten', seq, `the chain does not match the archive record signed for events up to ${seq}: events up to ${seq} were rewritten`);
    }
    accept();
  };

  for (;;) {
    await fill(1);
    const line = buffer.shift();
    if (line === undefined) break;
    if (line.type === 'checkpoint') checkpoint(checkpointFromLine(line));
    else if (line.type === 'archive') archive(archiveFromLine(line));
    else if (line.type === 'event') await event(parseEvent(line));
  }

  for (const s of chains.values()) {
    if (!s.started && !s.broken) startAfterArchives(s, null);

    const cp = s.maxCheckpoint;
    if (cp && !s.broken && cp.sequence > s.lastSeq) {
      const what = s.lastSeq === 0 ? 'has no events' : `ends at event ${s.lastSeq}`;
      fail(s, 'truncated', s.lastSeq + 1, `the chain ${what} but a checkpoint signed ${cp.time.toISOString()} covers ${cp.sequence} events: its tail was truncated`);
    }
  }
  return {
    ok: breaks.length === 0,
    events,
    checkpoints,
    archives,
    chains: [...chains.values()].map((s) => s.report),
    breaks,
    firstBreak: breaks[0] ?? null,
  };
}
