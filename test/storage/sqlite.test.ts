/**
 * The Storage contract against SQLite (a temp file per test), plus what only SQLite promises:
 * file mode 0600, WAL and its pragmas, crypto-shredding on disk, and safety across processes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageMigrator, type AnyDb } from '../../src/adapters/storage/migrations.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { SQLITE_MIGRATION_DIALECT } from '../../src/adapters/storage/sqlite/sqlite-storage.js';
import type { Storage } from '../../src/ports/storage.js';
import { crossProcessSuite } from './cross-process.js';
import { makeKey, makeVersion, storageContract, type StorageHarness } from './storage-contract.js';

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dd-storage-sqlite-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function sqliteHarness(): Promise<StorageHarness & { file: string }> {
  const dir = join(root, `db-${++counter}`);
  await mkdir(dir, { mode: 0o700 });
  const file = join(dir, 'datadefender.db');
  const opened: Storage[] = [];
  return {
    file,
    async open() {
      const s = await openSqliteStorage({ file });
      opened.push(s);
      return s;
    },
    async migrateTo(name) {
      const db: AnyDb = new Kysely({ dialect: new SqliteDialect({ database: new Database(file) }) });
      const { error } = await storageMigrator(db, SQLITE_MIGRATION_DIALECT).migrateTo(name);
      if (error !== undefined) {
        await db.destroy();
        throw error;
      }
      return { db, close: () => db.destroy() };
    },
    async dispose() {
      await Promise.all(opened.map((s) => s.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

storageContract('sqlite', sqliteHarness);

describe('SQLite storage specifics', () => {
  it('creates a new database file with mode 0600, and its WAL with the same mode', async () => {
    const h = await sqliteHarness();
    try {
      const s = await h.open();
      const key = makeKey();
      await s.createKey(key, makeVersion(key.id, 1));
      expect((await stat(h.file)).mode & 0o777).toBe(0o600);
      expect((await stat(`${h.file}-wal`)).mode & 0o777).toBe(0o600);
    } finally {
      await h.dispose();
    }
  });

  it('leaves an existing file’s mode alone', async () => {
    const h = await sqliteHarness();
    try {
      await writeFile(h.file, '');
      await chmod(h.file, 0o640);
      await h.open();
      expect((await stat(h.file)).mode & 0o777).toBe(0o640);
    } finally {
      await h.dispose();
    }
  });

  it('uses WAL and records the migration exactly once across reopenings', async () => {
    const h = await sqliteHarness();
    try {
      await (await h.open()).close();
      await (await h.open()).close();
      await Promise.all([h.open(), h.open()]);
      const raw = new Database(h.file, { readonly: true });
      try {
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(raw.prepare('select name from datadefender_migration').all()).toEqual([
          { name: '0001-initial-schema' },
          { name: '0002-key-policies-and-grants' },
          { name: '0003-imported-key-material' },
          { name: '0004-identity-and-approvals' },
          { name: '0005-root-ring' },
          { name: '0006-custom-key-stores' },
          { name: '0007-audit-chain' },
          { name: '0008-pki' },
          { name: '0009-audit-archive' },
          { name: '0010-job-leases' },
          { name: '0011-metadata-changes' },
        ]);
        const tables = raw.prepare("select name from sqlite_master where type = 'table' order by name").pluck().all();
        expect(tables).toEqual(
          expect.arrayContaining([
            'keys', 'key_versions', 'aliases', 'grants', 'principals', 'tokens', 'access_keys', 'audit_events',
            'policies', 'principal_policies', 'client_certificates', 'approvals',
          ]),
        );
        expect(tables).not.toContain('principals_rebuilt');
        const indexes = raw.prepare("select name from sqlite_master where type = 'index' and name not like 'sqlite_%'").pluck().all();
        expect(indexes).toEqual(
          expect.arrayContaining([
            'keys_due_for_rotation', 'keys_due_for_deletion', 'aliases_by_key', 'access_keys_by_principal', 'tokens_by_principal',
            'principal_policies_by_policy', 'client_certificates_by_principal', 'approvals_by_request', 'approvals_by_creation',
          ]),
        );
        // The references that 0004 relies on: cascades from principals, RESTRICT from policies.
        const fks = (table: string) =>
          (raw.prepare(`pragma foreign_key_list(${table})`).all() as { table: string; on_delete: string }[]).map((f) => `${f.table}:${f.on_delete}`).sort();
        expect(fks('principal_policies')).toEqual(['policies:RESTRICT', 'principals:CASCADE']);
        expect(fks('client_certificates')).toEqual(['principals:CASCADE']);
        expect(fks('tokens')).toEqual(['principals:NO ACTION']);
        expect(fks('approvals')).toEqual([]);
        expect(raw.pragma('foreign_key_check')).toEqual([]);
      } finally {
        raw.close();
      }
    } finally {
      await h.dispose();
    }
  });

  it('crypto-shredding: destroyed key material is overwritten in the database file and the WAL', async () => {
    const h = await sqliteHarness();
    try {
      const s = await h.open();
      const secret = randomBytes(48);
      const kept = randomBytes(48);
      const doomed = makeKey({ state: 'PendingDeletion', deletionAt: new Date('2026-01-08T00:00:00Z'), pendingWindowDays: 7 });
      const survivor = makeKey();
      await s.createKey(doomed, makeVersion(doomed.id, 1, { wrapped: secret }));
      await s.createKey(survivor, makeVersion(survivor.id, 1, { wrapped: kept }));
      const onDisk = async () => {
        const parts = [await readFile(h.file)];
        if (existsSync(`${h.file}-wal`)) parts.push(await readFile(`${h.file}-wal`));
        return Buffer.concat(parts);
      };
      expect((await onDisk()).includes(secret)).toBe(true); // the probe works

      expect(await s.destroyKey(doomed.id, new Date('2026-01-09T00:00:00Z'))).toBe(true);
      const afterDestroy = await onDisk();
      expect(afterDestroy.includes(secret)).toBe(false);
      // The key's id outlives it only in the metadata change feed (so other processes drop it from their caches)
      // until the feed is pruned (core/metadata-feed.ts PRUNE_AFTER_MS), and then it is overwritten too.
      expect(await s.pruneMetadataChanges(new Date(Date.now() + 60_000))).toBe(2); // destroyKey's UPDATE (the state guard), then its DELETE
      expect((await onDisk()).includes(Buffer.from(doomed.id))).toBe(false);
      expect(afterDestroy.includes(kept)).toBe(true);

      await s.close();
      expect((await onDisk()).includes(secret)).toBe(false);
    } finally {
      await h.dispose();
    }
  });

  it('reports an unusable path as DependencyError without the driver’s message', async () => {
    const file = join(root, 'no', 'such', 'dir', 'dd.db');
    const err = await openSqliteStorage({ file }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The storage backend is unavailable.' });
    expect((err as Error).cause).toBeDefined();
  });

  it('reports a file that is not a database as DependencyError', async () => {
    const dir = join(root, `junk-${++counter}`);
    await mkdir(dir);
    const file = join(dir, 'dd.db');
    await writeFile(file, randomBytes(8192));
    const err = await openSqliteStorage({ file }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The storage backend is unavailable.' });
  });
});

crossProcessSuite('sqlite', async () => {
  const h = await sqliteHarness();
  return { target: { engine: 'sqlite', file: h.file }, dispose: () => h.dispose(), open: () => h.open() };
});
