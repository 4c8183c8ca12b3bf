/**
 * Waiting for SQLite's write lock never blocks the event loop (issue #8, steady latency): while another connection —
 * another worker process, or the audit writer thread committing a batch — holds the lock, a write through the adapter
 * waits asynchronously, timers and other requests keep running, and the write completes once the lock is free. Before,
 * better-sqlite3 waited inside busy_timeout synchronously and froze the whole process for the duration. The audit
 * writer thread (which may block) waits for the lock too, in its own sub-millisecond steps.
 */
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { retryWhileBusy } from '../../src/adapters/storage/sqlite/serialized-sqlite-dialect.js';
import type { Storage } from '../../src/ports/storage.js';
import { makeEvent, makeKey, makeVersion } from './storage-contract.js';

const HOLD_MS = 300;

describe('SQLite lock waits', () => {
  let dir: string;
  let file: string;
  let storage: Storage;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-lock-wait-'));
    file = join(dir, 'datadefender.db');
    storage = await openSqliteStorage({ file });
  });
  afterAll(async () => {
    await storage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a write waits for another connection’s write lock without blocking the event loop, then lands', async () => {
    const key = makeKey();
    await storage.createKey(key, makeVersion(key.id, 1));
    const other = new Database(file);
    try {
      other.exec('begin immediate');
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const started = performance.now();
      const write = storage.updateKey(key.id, { description: 'written after the wait' });
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
      other.exec('commit');
      expect(await write).toMatchObject({ description: 'written after the wait' });
      clearInterval(ticker);
      delay.disable();
      expect(performance.now() - started).toBeGreaterThanOrEqual(HOLD_MS);
      expect(ticks).toBeGreaterThanOrEqual(HOLD_MS / 10 / 2); // a blocked loop would have run the timer about once
      expect(delay.max / 1e6).toBeLessThan(HOLD_MS / 2);
    } finally {
      other.close();
    }
  });

  it('the audit writer waits for another process’s lock and commits once it is released', async () => {
    const other = new Database(file);
    const event = makeEvent({ eventName: 'Encrypt' });
    try {
      other.exec('begin immediate');
      let releasedAt = 0;
      setTimeout(() => {
        other.exec('commit');
        releasedAt = performance.now();
      }, 330);
      await storage.append([event]);
      expect(releasedAt).toBeGreaterThan(0);
    } finally {
      other.close();
    }
    expect((await storage.readAudit({ limit: 100 })).map((e) => e.eventId)).toContain(event.eventId);
  });

  it('retries only SQLITE_BUSY, and only until the timeout', async () => {
    let attempts = 0;
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    await expect(retryWhileBusy(async () => { attempts++; throw busy; }, 50)).rejects.toBe(busy);
    expect(attempts).toBeGreaterThan(3); // 1, 2, 4, 8, 16 ms pauses fit in 50 ms
    const other = new Error('constraint');
    attempts = 0;
    await expect(retryWhileBusy(async () => { attempts++; throw other; }, 50)).rejects.toBe(other);
    expect(attempts).toBe(1);
  });
});
