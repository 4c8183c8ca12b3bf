/**
 * Kysely's SqliteDialect with two changes that make several connections to one file safe:
 *
 * 1. Every transaction is BEGIN IMMEDIATE: it takes SQLite's write lock up front (waiting up to busy_timeout),
 *    so a transaction never reads a snapshot and then fails to upgrade to a writer (SQLITE_BUSY_SNAPSHOT) when
 *    another process committed in between. Across processes, writers simply queue on the lock.
 * 2. Within one process, every connection to the same file shares one async mutex. better-sqlite3 waits for a
 *    lock synchronously, blocking the event loop; if two connections of one process interleaved, one could hold
 *    the write lock across an `await` while the other blocked the loop waiting for it — a deadlock until
 *    busy_timeout. Taking the mutex asynchronously first makes in-process contention wait without blocking.
 *
 * 3. Waiting for another process's (or the audit writer thread's) write lock never blocks the event loop either:
 *    the connection runs with busy_timeout 0, so SQLite answers SQLITE_BUSY at once, and the statement is retried
 *    here after an asynchronous pause (1 ms, doubling up to 16 ms) until `busyTimeoutMs` has passed. A statement
 *    that failed with SQLITE_BUSY changed nothing (it never got the lock), so retrying it is safe.
 *
 * The adapter also reports transactional DDL, so Kysely's Migrator runs the whole migration in one
 * BEGIN IMMEDIATE transaction: that is its lock across processes (SqliteAdapter's own lock is a no-op).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';

/** A FIFO async mutex. */
export class AsyncMutex {
  #tail: Promise<void> = Promise.resolve();

  /** Resolves with the release function once every earlier holder has released. */
  lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => held);
    return previous.then(() => release);
  }
}

const fileMutexes = new Map<string, { mutex: AsyncMutex; users: number }>();

/** The process-wide mutex of one database file (by real path). Call the returned `release` once, on close. */
export function acquireFileMutex(realPath: string): { mutex: AsyncMutex; release: () => void } {
  let entry = fileMutexes.get(realPath);
  if (!entry) {
    entry = { mutex: new AsyncMutex(), users: 0 };
    fileMutexes.set(realPath, entry);
  }
  entry.users += 1;
  const held = entry;
  let released = false;
  return {
    mutex: held.mutex,
    release: () => {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users === 0 && fileMutexes.get(realPath) === held) fileMutexes.delete(realPath);
    },
  };
}

const MAX_BUSY_PAUSE_MS = 16;
const isBusy = (err: unknown) => (err as { code?: unknown } | null)?.code === 'SQLITE_BUSY';

/** Runs `work` again after a short asynchronous pause while SQLite answers SQLITE_BUSY, for up to `timeoutMs`. */
export async function retryWhileBusy<T>(work: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(2 * pause, MAX_BUSY_PAUSE_MS)) {
    try {
      return await work();
    } catch (err) {
      if (!isBusy(err) || performance.now() + pause > deadline) throw err;
      await sleep(pause);
    }
  }
}

class SerializedSqliteDriver extends SqliteDriver {
  readonly #mutex: AsyncMutex;
  readonly #busyTimeoutMs: number;
  #unlock: (() => void) | undefined;

  constructor(config: SqliteDialectConfig, mutex: AsyncMutex, busyTimeoutMs: number) {
    super(config);
    this.#mutex = mutex;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const unlock = await this.#mutex.lock();
    try {
      const connection = await super.acquireConnection();
      this.#unlock = unlock;
      return {
        executeQuery: (query) => retryWhileBusy(() => connection.executeQuery(query), this.#busyTimeoutMs),
        streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
      };
    } catch (err) {
      unlock();
      throw err;
    }
  }

  override async releaseConnection(): Promise<void> {
    const unlock = this.#unlock;
    this.#unlock = undefined;
    try {
      await super.releaseConnection();
    } finally {
      unlock?.();
    }
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class SerializedSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #mutex: AsyncMutex;
  readonly #busyTimeoutMs: number;

  /** `config.database` must have busy_timeout 0: waits for the write lock happen in retryWhileBusy. */
  constructor(config: SqliteDialectConfig, mutex: AsyncMutex, busyTimeoutMs: number) {
    super(config);
    this.#config = config;
    this.#mutex = mutex;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  override createDriver(): Driver {
    return new SerializedSqliteDriver(this.#config, this.#mutex, this.#busyTimeoutMs);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
