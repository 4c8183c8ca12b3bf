/**
 * Storage.batchDestroys on SQLite: the deletion job destroys a batch of keys with one post-destroy flush (a WAL
 * checkpoint) at the end instead of one per key — and when the batch settles, destroyed material is gone from the
 * database file and the WAL (crypto-shredding), exactly as after a single destroyKey.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { makeKey, makeVersion } from '../storage/storage-contract.js';

it('flushes once when the batch settles, and destroyed material is then overwritten on disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dd-batch-destroys-'));
  const file = join(dir, 'dd.db');
  const s = await openSqliteStorage({ file });
  try {
    const onDisk = async () => Buffer.concat([await readFile(file), ...(existsSync(`${file}-wal`) ? [await readFile(`${file}-wal`)] : [])]);
    const secrets = [randomBytes(48), randomBytes(48), randomBytes(48)];
    const kept = randomBytes(48);
    const doomed = secrets.map(() => makeKey({ state: 'PendingDeletion', deletionAt: new Date('2026-01-08T00:00:00Z'), pendingWindowDays: 7 }));
    for (const [i, key] of doomed.entries()) await s.createKey(key, makeVersion(key.id, 1, { wrapped: secrets[i]! }));
    const survivor = makeKey();
    await s.createKey(survivor, makeVersion(survivor.id, 1, { wrapped: kept }));
    const now = new Date('2026-01-09T00:00:00Z');

    const destroyed = await s.batchDestroys(async () => {
      const done = [];
      for (const key of doomed) done.push(await s.batchDestroys(() => s.destroyKey(key.id, now))); // nested: same batch
      // Not flushed yet: the WAL still holds the frames written when the keys were created.
      const inside = await onDisk();
      expect(secrets.every((secret) => inside.includes(secret))).toBe(true);
      return done;
    });
    expect(destroyed).toEqual([true, true, true]);
    const after = await onDisk();
    for (const secret of secrets) expect(after.includes(secret)).toBe(false);
    expect(after.includes(kept)).toBe(true);
    expect(await s.getKey(survivor.id)).toBeDefined();
  } finally {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  }
});
