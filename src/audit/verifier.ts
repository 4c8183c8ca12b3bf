/**
 * The audit trail verifier: reads an export (or the same lines fetched online) and reports the first break of each
 * chain precisely. Pure: no storage, no network; trusts only the public keys it is given.
 * Checks, per event: the record hashes to the stored hash; the record names the chain, sequence and previous hash
 * it is stored under; sequences follow 1, 2, 3 ...; each record names the previous record's hash; the chain's hash at
 * each signed checkpoint equals the checkpoint's; per checkpoint: a valid Ed25519 signature by a trusted key.
 * Break kinds: `edited` (content or a link changed), `deleted` (a sequence is missing), `inserted` (an event the
 * chain does not link to), `reordered` (an event out of its place), `truncated` (the chain ends before its last
 * signed checkpoint), `forged-checkpoint` (bad signature or unknown key), `rewritten` (the chain links up but no
 * longer matches a signed checkpoint: it was rebuilt after the checkpoint was signed).
 * Invariants: the first break per chain is reported with chain id and sequence; events after it are counted, not
 * judged again; `ok` only when no break at all; a chain listed by a checkpoint but without events is `truncated`.
 */
import { sha256Hex } from '../crypto/index.js';
import type { CheckpointRecord } from '../ports/audit-chain-store.js';
import { GENESIS_HASH } from './audit-chain.js';
import { checkpointSignatureValid } from './checkpoints.js';
import { checkpointFromLine, type EventLine, type ExportLine } from './export-format.js';

export const BREAK_KINDS = ['edited', 'deleted', 'inserted', 'reordered', 'truncated', 'forged-checkpoint', 'rewritten'] as const;
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
}

export interface VerifyReport {
  ok: boolean;
  events: number;
  checkpoints: number;
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

  const stateOf = (chainId: string): ChainState => {
    let s = chains.get(chainId);
    if (!s) {
      s = {
        report: { chainId, events: 0, firstSequence: null, lastSequence: null, checkpoints: 0, lastCheckpoint: null },
        lastSeq: 0,
        lastHash: GENESIS_HASH,
        broken: false,
        started: false,
        checkpoints: new Map(),
        maxCheckpoint: null,
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

  const event = async ({ line, computed, chain }: Parsed) => {
    events++;
    const s = stateOf(line.chainId);
    s.report.events++;
    s.report.firstSequence ??= line.sequence;
    const seq = line.sequence;
    if (!s.started) {
      s.started = true;
      if (options.anchored) {
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
    accept();
  };

  for (;;) {
    await fill(1);
    const line = buffer.shift();
    if (line === undefined) break;
    if (line.type === 'checkpoint') checkpoint(checkpointFromLine(line));
    else if (line.type === 'event') await event(parseEvent(line));
  }

  for (const s of chains.values()) {
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
    chains: [...chains.values()].map((s) => s.report),
    breaks,
    firstBreak: breaks[0] ?? null,
  };
}
