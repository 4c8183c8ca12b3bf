/**
 * How the SQLite threads (audit-writer.ts, wal-checkpointer.ts) wait for another connection's lock. Another
 * process's writer holds the lock for about one fsync; SQLite's own busy handler sleeps 1, 2, 5, 10... ms between
 * tries, far longer than that. A thread of ours may block, so it retries `work` after pauses of 50 µs doubling to
 * 1 ms instead, until `timeoutMs`; any error but SQLITE_BUSY, or SQLITE_BUSY at the deadline, is thrown.
 * Self-contained (no closure over this module): the threads embed its source text (`whenUnlocked.toString()`).
 */
export function whenUnlocked<T>(work: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  let pauseCell: Int32Array | undefined; // allocated at the first wait: an uncontended call allocates nothing
  for (let pauseMs = 0.05; ; pauseMs = Math.min(2 * pauseMs, 1)) {
    try {
      return work();
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      pauseCell ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(pauseCell, 0, 0, pauseMs);
    }
  }
}
