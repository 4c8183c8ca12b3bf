/**
 * The SQLite WAL checkpointer: a thread of its own with its own connection that copies the write-ahead log into the
 * database file every `intervalMs` (PRAGMA wal_checkpoint(PASSIVE)), so no commit ever does it inline. SQLite's
 * automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages — on the audit writer, that commit (and
 * every request waiting for its events to be durable) then waits for megabytes to be copied and the database file
 * fsynced: the stalls that made the tail of the latency under load. On request (`truncate`, after key material was
 * destroyed) it runs a TRUNCATE checkpoint: the WAL is copied in full and emptied, so destroyed material is left
 * neither in the WAL nor, with secure_delete, in the database file — and the event loop never waits for the copy
 * and its fsyncs, nor for the readers and writers a TRUNCATE checkpoint must wait out.
 * Invariants: a PASSIVE checkpoint never blocks a reader or a writer, nor waits for one (busy_timeout 0: a
 * checkpoint that finds another one running is skipped until the next tick); `truncate` resolves only once a
 * TRUNCATE checkpoint completed after it was called, and rejects when none could within `busyTimeoutMs`; the
 * connections that write set wal_autocheckpoint to AUTOCHECKPOINT_SAFETY_PAGES, not 0, so the WAL stays bounded
 * even if this thread stops.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { whenUnlocked } from './thread-busy-wait.js';
import { threadRequests } from './thread-requests.js';

/** The automatic checkpoint left on the writing connections, as a bound should this thread fail (about 40 MiB). */
export const AUTOCHECKPOINT_SAFETY_PAGES = 10_000;

const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const whenUnlocked = ${whenUnlocked.toString()};
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or unavailable: the next tick tries again; the writers' safety bound holds meanwhile
  }
}, workerData.intervalMs);
// A TRUNCATE checkpoint that could not finish (readers still on the WAL) reports busy = 1: retried like SQLITE_BUSY.
const truncate = () => {
  const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
  if (result && result.busy) throw Object.assign(new Error('WAL checkpoint busy'), { code: 'SQLITE_BUSY' });
};
parentPort.on('message', ({ id }) => {
  try {
    whenUnlocked(truncate, workerData.busyTimeoutMs);
    parentPort.postMessage({ id, ok: true });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: String((err && err.code) || 'SQLITE_ERROR') });
  }
});
`;

export interface WalCheckpointer {
  /** A TRUNCATE checkpoint, run on the checkpointer's thread. @throws Error when it cannot complete. */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

export function startWalCheckpointer(options: { file: string; intervalMs: number; busyTimeoutMs: number }): WalCheckpointer {
  const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: { file: options.file, intervalMs: options.intervalMs, busyTimeoutMs: options.busyTimeoutMs, driverPath },
  });
  worker.unref();
  // A dead checkpointer is not fatal: the safety bound keeps the WAL bounded and `truncate` rejects (the flush after a
  // destroy is best effort, StorageDialect.afterDestroy); its error must not crash the process (threadRequests
  // listens for it).
  const requests = threadRequests(worker, {
    name: 'WAL checkpointer',
    refused: (code) => new Error(`WAL checkpoint failed: ${code}`),
    died: (cause) => (cause instanceof Error ? cause : new Error(String(cause))),
  });
  return {
    truncate: () => requests.request({}),
    async close() {
      await worker.terminate();
    },
  };
}
