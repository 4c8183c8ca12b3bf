/**
 * The Storage contract against PostgreSQL (a fresh random schema per test, dropped afterwards), plus what only
 * PostgreSQL needs: schema creation and search_path, connection failures, and safety across processes.
 * PostgreSQL must be reachable: when it is not, these tests fail; they never skip.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { connect } from 'node:net';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { storageMigrator, type AnyDb } from '../../src/adapters/storage/migrations.js';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { POSTGRES_MIGRATION_DIALECT } from '../../src/adapters/storage/postgres/postgres-storage.js';
import type { Storage } from '../../src/ports/storage.js';
import { crossProcessSuite } from './cross-process.js';
import { makeEvent, makeKey, makeVersion, storageContract, type StorageHarness } from './storage-contract.js';

const PG_URL = process.env.DATADEFENDER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `dd_storage_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
let counter = 0;
let adminConnection: Promise<pg.Client> | undefined;

/**
 * The administrative client, connected on first use. When PostgreSQL is unreachable every test fails on it
 * (in its own beforeEach or body) instead of the file being skipped.
 */
function admin(): Promise<pg.Client> {
  adminConnection ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  })();
  return adminConnection;
}

afterAll(async () => {
  const client = await adminConnection?.catch(() => undefined);
  if (!client) return;
  const { rows } = await client.query<{ nspname: string }>('select nspname from pg_namespace where nspname like $1', [`${RUN}%`]);
  for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
  await client.end();
});

async function postgresHarness(): Promise<StorageHarness & { schema: string }> {
  await admin();
  const schema = `${RUN}_${++counter}`;
  const opened: Storage[] = [];
  return {
    schema,
    async open() {
      const s = await openPostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
      opened.push(s);
      return s;
    },
    async migrateTo(name) {
      await (await admin()).query(`create schema if not exists "${schema}"`);
      const pool = new pg.Pool({ connectionString: PG_URL, max: 1, options: `-c search_path=${schema}` });
      pool.on('error', () => undefined);
      const db: AnyDb = new Kysely({ dialect: new PostgresDialect({ pool }) });
      const { error } = await storageMigrator(db, POSTGRES_MIGRATION_DIALECT, { migrationTableSchema: schema }).migrateTo(name);
      if (error !== undefined) {
        await db.destroy();
        throw error;
      }
      return { db, close: () => db.destroy() };
    },
    async dispose() {
      await Promise.all(opened.map((s) => s.close()));
      await (await admin()).query(`drop schema if exists "${schema}" cascade`);
    },
  };
}

storageContract('postgres', postgresHarness);

/** A TCP proxy to PostgreSQL that can be cut, to lose the database under an open storage. */
async function cuttableProxy(): Promise<{ url: string; cut(): Promise<void> }> {
  const target = new URL(PG_URL);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(PG_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

describe('PostgreSQL storage specifics', () => {
  it('creates the schema, keeps every table in it and records the migration once', async () => {
    const h = await postgresHarness();
    try {
      await Promise.all([h.open(), h.open()]);
      await (await h.open()).close();
      const { rows: tables } = await (await admin()).query<{ table_name: string }>(
        'select table_name from information_schema.tables where table_schema = $1 order by table_name',
        [h.schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual(
        [
          'access_keys', 'aliases', 'approvals', 'audit_archives', 'audit_checkpoints', 'audit_events', 'audit_keys', 'client_certificates', 'custom_key_store_keys', 'custom_key_stores', 'datadefender_migration', 'datadefender_migration_lock',
          'grants', 'job_leases', 'key_versions', 'keys', 'metadata_changes', 'pki_authorities', 'pki_certificates', 'policies', 'principal_policies', 'principals', 'root_generations', 'root_migrations', 'root_ring', 'tokens',
        ],
      );
      const { rows } = await (await admin()).query(`select name from "${h.schema}".datadefender_migration`);
      expect(rows).toEqual([
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
      const { rows: indexes } = await (await admin()).query<{ indexname: string }>('select indexname from pg_indexes where schemaname = $1', [h.schema]);
      expect(indexes.map((i) => i.indexname)).toEqual(
        expect.arrayContaining([
          'keys_due_for_rotation', 'keys_due_for_deletion', 'aliases_by_key', 'access_keys_by_principal', 'tokens_by_principal',
          'principal_policies_by_policy', 'client_certificates_by_principal', 'approvals_by_request', 'approvals_by_creation',
        ]),
      );
      const { rows: principalColumns } = await (await admin()).query<{ column_name: string; is_nullable: string; column_default: string | null }>(
        `select column_name, is_nullable, column_default from information_schema.columns
          where table_schema = $1 and table_name = 'principals' and column_name in ('kind', 'tags', 'updated_at') order by column_name`,
        [h.schema],
      );
      expect(principalColumns).toEqual([
        { column_name: 'kind', is_nullable: 'NO', column_default: null },
        { column_name: 'tags', is_nullable: 'NO', column_default: "'{}'::text" },
        { column_name: 'updated_at', is_nullable: 'NO', column_default: null },
      ]);
      // The references that 0004 relies on: cascades from principals, RESTRICT from policies (confdeltype r).
      const { rows: fks } = await (await admin()).query<{ tbl: string; ref: string; del: string }>(
        `select t.relname as tbl, r.relname as ref, c.confdeltype::text as del
           from pg_constraint c join pg_namespace n on n.oid = c.connamespace
           join pg_class t on t.oid = c.conrelid join pg_class r on r.oid = c.confrelid
          where n.nspname = $1 and c.contype = 'f' and t.relname in ('principal_policies', 'client_certificates', 'approvals')
          order by 1, 2`,
        [h.schema],
      );
      expect(fks.map((f) => `${f.tbl}->${f.ref}:${f.del}`)).toEqual([
        'client_certificates->principals:c',
        'principal_policies->policies:r',
        'principal_policies->principals:c',
      ]);
      const { rows: cols } = await (await admin()).query<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = 'key_versions' and column_name = 'wrapped'`,
        [h.schema],
      );
      expect(cols).toEqual([{ column_name: 'wrapped', data_type: 'bytea' }]);
    } finally {
      await h.dispose();
    }
  });

  it('isolates schemas: a key in one schema is invisible in another', async () => {
    const a = await postgresHarness();
    const b = await postgresHarness();
    try {
      const sa = await a.open();
      const sb = await b.open();
      const key = makeKey();
      await sa.createKey(key, makeVersion(key.id, 1));
      expect(await sb.getKey(key.id)).toBeUndefined();
      expect(await sa.getKey(key.id)).toEqual(key);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('opens and migrates while other schemas of the database are created and dropped all the time', async () => {
    // Kysely's migrator introspects every schema; a concurrent DROP SCHEMA elsewhere used to fail the open.
    const churner = await admin();
    let stop = false;
    const churn = (async () => {
      for (let i = 0; !stop; i++) {
        const other = `${RUN}_churn_${i % 3}`;
        await churner.query(`create schema if not exists "${other}"; create table if not exists "${other}".t (x int)`);
        await churner.query(`drop schema if exists "${other}" cascade`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      for (let i = 0; i < 8; i++) {
        const h = await postgresHarness();
        await (await h.open()).close();
        await (await h.open()).close();
        await h.dispose();
      }
    } finally {
      stop = true;
      await churn;
    }
  });

  it('refuses a schema name that is not a lower-case identifier', async () => {
    for (const schema of ['Public', 'a-b', 'x; drop table keys', '', '1abc']) {
      await expect(openPostgresStorage({ connectionString: PG_URL, schema })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    }
  });

  it('reports an unreachable server as DependencyError without the driver’s message', async () => {
    const err = await openPostgresStorage({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: `${RUN}_never` }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The storage backend is unavailable.' });
    expect((err as Error).cause).toBeDefined();
  });

  it('reports a database lost after opening as DependencyError on the next call', async () => {
    const proxy = await cuttableProxy();
    const schema = `${RUN}_${++counter}`;
    const storage = await openPostgresStorage({ connectionString: proxy.url, schema, poolSize: 2 });
    try {
      const key = makeKey();
      await storage.createKey(key, makeVersion(key.id, 1));
      await proxy.cut();
      for (const call of [() => storage.getKey(key.id), () => storage.listKeys({ limit: 1 }), () => storage.append([makeEvent()])]) {
        const err = await call().then(() => new Error('resolved'), (e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The storage backend is unavailable.' });
        expect((err as Error).cause).toBeDefined();
      }
    } finally {
      await storage.close();
    }
  });
});

crossProcessSuite('postgres', async () => {
  const h = await postgresHarness();
  return { target: { engine: 'postgres', connectionString: PG_URL, schema: h.schema }, open: () => h.open(), dispose: () => h.dispose() };
});
