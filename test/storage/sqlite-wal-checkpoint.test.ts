/**
 * The WAL is copied into the database file by the checkpointer thread, not inside a commit (issue #8, steady latency):
 * after a burst of audit events and a pause of a few checkpoint intervals, the next commit starts the WAL afresh —
 * the log holds a handful of frames, not the burst's hundreds — without any connection checkpointing on its own.
 * The TRUNCATE checkpoint after a key is destroyed runs on the same thread: the event loop keeps serving while it
 * waits for a reader to leave the WAL.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import type { Storage } from '../../src/ports/storage.js';
import { startWalCheckpointer } from '../../src/adapters/storage/sqlite/wal-checkpointer.js';
import { makeEvent } from './storage-contract.js';

describe('SQLite WAL checkpointer', () => {
  let dir: string;
  let file: string;
  let storage: Storage;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-wal-'));
    file = join(dir, 'datadefender.db');
    storage = await openSqliteStorage({ file, walCheckpointMs: 50 });
  });
  afterAll(async () => {
    await storage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const framesInWal = () => {
    const raw = new Database(file);
    try {
      return (raw.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>)[0]!.log;
    } finally {
      raw.close();
    }
  };

  it('checkpoints a burst of audit events in the background, so the WAL restarts at the next commit', async () => {
    const padding = 'p'.repeat(1500);
    for (let i = 0; i < 20; i++) await storage.append(Array.from({ length: 100 }, () => makeEvent({ details: { padding } })));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await storage.append([makeEvent()]);
    expect(framesInWal()).toBeLessThan(50);
  });

  it('runs a TRUNCATE checkpoint on its thread: the event loop runs while it waits for a reader, then the WAL is empty', async () => {
    await storage.append([makeEvent()]);
    const reader = new Database(file);
    const checkpointer = startWalCheckpointer({ file, intervalMs: 60_000, busyTimeoutMs: 5_000 });
    try {
      reader.exec('begin');
      reader.prepare('select count(*) from audit_events').get(); // a read snapshot on the WAL: TRUNCATE must wait
      let truncated = false;
      const truncation = checkpointer.truncate().then(() => (truncated = true));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      await new Promise((resolve) => setTimeout(resolve, 150));
      clearInterval(timer);
      expect(truncated).toBe(false);
      expect(ticks).toBeGreaterThan(10);
      reader.exec('commit');
      await truncation;
      expect(statSync(`${file}-wal`).size).toBe(0);
    } finally {
      reader.close();
      await checkpointer.close();
    }
    await expect(checkpointer.truncate()).rejects.toThrow(/exited/);
  });
});
