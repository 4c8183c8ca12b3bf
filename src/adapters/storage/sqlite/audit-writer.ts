/**
 * The SQLite audit appender: one writer thread with its own connection, so that committing a batch of audit
 * events — an fsync with synchronous=FULL — never blocks the event loop that serves requests.
 * Invariants: `append` resolves only after the batch's COMMIT returned in the writer (the events are on disk);
 * batches are committed in arrival order, those that arrived during the previous commit together in one
 * BEGIN IMMEDIATE transaction (so sequence order is commit order and one fsync serves many requests), waiting for
 * another process's lock in sub-millisecond steps rather than SQLite's coarse busy handler; a failed or
 * dead writer rejects every pending and later append with DependencyError. A failed transaction rolls back whole: a
 * batch of chained events is all on disk or none of it, and every later append of a chain that failed is refused
 * (the audit log starts a new chain, audit-log.ts), so appends can be pipelined without ever leaving a gap.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { DependencyError } from '../../../errors/index.js';
import type { AuditEventsTable } from '../schema.js';
import { STORAGE_UNAVAILABLE } from '../storage-dialect.js';
import { packRows, unpackRows } from './row-packing.js';
import { whenUnlocked } from './thread-busy-wait.js';
import { threadRequests } from './thread-requests.js';
import { AUTOCHECKPOINT_SAFETY_PAGES } from './wal-checkpointer.js';

export type AuditRow = Omit<AuditEventsTable, 'sequence'>;

const COLUMNS = [
  'event_id', 'event_time', 'event_name', 'event_source', 'request_id', 'principal', 'credential',
  'source_ip', 'user_agent', 'resource', 'outcome', 'error_code', 'read_only', 'details',
  'chain_id', 'chain_seq', 'prev_hash', 'hash', 'record',
] as const satisfies ReadonlyArray<keyof AuditRow>;

/** The writer thread's code (plain CommonJS, evaluated by the Worker: the same in the build and under tests). */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs, fileMustExist: true });
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = ' + workerData.autocheckpointPages); // wal-checkpointer.ts checkpoints, off the commit path
// Waits for another process's writer in sub-millisecond steps (thread-busy-wait.ts). A group that met SQLITE_BUSY
// was rolled back whole.
db.pragma('busy_timeout = 0');
const whenUnlocked = ${whenUnlocked.toString()};
const insert = db.prepare('insert into audit_events (' + workerData.columns.join(', ') + ') values (' +
  workerData.columns.map(() => '?').join(', ') + ')');
const CHAIN_ID = workerData.columns.indexOf('chain_id');
const unpackRows = ${unpackRows.toString()};
const appendAll = db.transaction((batches) => { for (const rows of batches) for (const row of rows) insert.run(row); });
// Chains with a failed append: later appends of their events are refused, so no chain gets a gap.
const poisoned = new Set();
// Group commit at the writer: every batch that arrived while the previous COMMIT was running goes into one
// transaction (messages are delivered before the setImmediate callback runs).
let waiting = [];
parentPort.on('message', (message) => {
  if (waiting.push(message) === 1) setImmediate(commit);
});
function commit() {
  const group = [];
  for (const m of waiting) {
    let rows;
    try {
      rows = unpackRows(m.packed, workerData.columns.length);
    } catch {
      parentPort.postMessage({ id: m.id, ok: false, error: 'MALFORMED_BATCH' });
      continue;
    }
    m.rows = rows;
    m.chains = [...new Set(rows.map((r) => r[CHAIN_ID]).filter((c) => c !== null))];
    if (m.chains.some((c) => poisoned.has(c))) parentPort.postMessage({ id: m.id, ok: false, error: 'CHAIN_ABANDONED' });
    else group.push(m);
  }
  waiting = [];
  if (group.length === 0) return;
  try {
    whenUnlocked(() => appendAll.immediate(group.map((m) => m.rows)), workerData.busyTimeoutMs);
    for (const m of group) parentPort.postMessage({ id: m.id, ok: true });
  } catch (err) {
    for (const m of group) for (const c of m.chains) poisoned.add(c);
    for (const m of group) parentPort.postMessage({ id: m.id, ok: false, error: String(err && err.code || 'SQLITE_ERROR') });
  }
}
`;

export interface AuditWriter {
  append(rows: readonly AuditRow[]): Promise<void>;
  close(): Promise<void>;
}

export function startAuditWriter(options: { file: string; busyTimeoutMs: number }): AuditWriter {
  const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WRITER_SOURCE, {
    eval: true,
    workerData: { file: options.file, busyTimeoutMs: options.busyTimeoutMs, driverPath, columns: COLUMNS, autocheckpointPages: AUTOCHECKPOINT_SAFETY_PAGES },
  });
  worker.unref();
  const requests = threadRequests(worker, {
    name: 'audit writer',
    refused: (code) => new DependencyError(STORAGE_UNAVAILABLE, { cause: new Error(code) }),
    died: (cause) => new DependencyError(STORAGE_UNAVAILABLE, { cause }),
  });
  const inflight = new Set<Promise<void>>();

  return {
    append(rows) {
      if (rows.length === 0) return Promise.resolve();
      // One packed string per batch: far cheaper to post than a structured clone of the rows (row-packing.ts).
      const done = requests.request({ packed: packRows(rows, COLUMNS) });
      const tracked = done.then(
        () => void inflight.delete(tracked),
        () => void inflight.delete(tracked),
      );
      inflight.add(tracked);
      return done;
    },
    async close() {
      await Promise.all(inflight);
      await worker.terminate();
    },
  };
}
