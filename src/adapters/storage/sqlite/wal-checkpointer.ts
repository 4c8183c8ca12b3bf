/**
 * The SQLite WAL checkpointer: a thread of its own with its own connection that copies the write-ahead log into the
 * database file every `intervalMs` (PRAGMA wal_checkpoint(PASSIVE)), so no commit ever does it inline. SQLite's
 * automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages — on the audit writer, that commit (and
 * every request waiting for its events to be durable) then waits for megabytes to be copied and the database file
 * fsynced: the stalls that made the tail of the latency under load.
 * Invariants: a PASSIVE checkpoint never blocks a reader or a writer, nor waits for one (busy_timeout 0: a
 * checkpoint that finds another one running is skipped until the next tick); the connections that write set
 * wal_autocheckpoint to AUTOCHECKPOINT_SAFETY_PAGES, not 0, so the WAL stays bounded even if this thread stops.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The automatic checkpoint left on the writing connections, as a bound should this thread fail (about 40 MiB). */
export const AUTOCHECKPOINT_SAFETY_PAGES = 10_000;

const CHECKPOINTER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or unavailable: the next tick tries again; the writers' safety bound holds meanwhile
  }
}, workerData.intervalMs);
`;

export interface WalCheckpointer {
  close(): Promise<void>;
}

export function startWalCheckpointer(options: { file: string; intervalMs: number }): WalCheckpointer {
  const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CHECKPOINTER_SOURCE, { eval: true, workerData: { file: options.file, intervalMs: options.intervalMs, driverPath } });
  worker.unref();
  // A dead checkpointer is not fatal (the safety bound takes over); its error must not crash the process either.
  worker.on('error', () => {});
  return {
    async close() {
      await worker.terminate();
    },
  };
}
