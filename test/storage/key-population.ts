/**
 * A seeded key population on a real engine, for the bulk-seeding, index-usage and cache-bound tests: SQLite in a temp
 * dir, or PostgreSQL in a fresh schema of the test database (dropped on close), with the dev `local` root of trust and
 * a key service over them. PostgreSQL must be reachable: when it is not, these tests fail; they never skip.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createKeyMaterial } from '../../src/core/key-material.js';
import { seedKeys } from '../../src/core/key-seeding.js';
import { createKeyService } from '../../src/core/key-service.js';
import { createMaterialCache } from '../../src/core/material-cache.js';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import { systemClock } from '../../src/ports/clock.js';
import type { RootOfTrust } from '../../src/ports/root-of-trust.js';
import type { Storage } from '../../src/ports/storage.js';

export const PG_URL = process.env.DATADEFENDER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];
export const SCOPE = { region: 'us-east-1', accountId: '111122223333' };

export interface Population {
  engine: Engine;
  dir: string;
  /** PostgreSQL: the schema holding the tables. */
  schema?: string;
  storage: Storage;
  root: RootOfTrust;
  /** Seeds `count` keys through the bulk path; resolves to their ids. */
  seed(count: number, batchSize?: number): Promise<string[]>;
  service(settings?: { keyCacheSize?: number; metadataCacheMs?: number }): ReturnType<typeof createKeyService>;
  close(): Promise<void>;
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function openPopulation(engine: Engine): Promise<Population> {
  const dir = await mkdtemp(join(tmpdir(), `dd-population-${engine}-`));
  const schema = engine === 'postgres' ? `dd_population_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}` : undefined;
  const storage =
    engine === 'sqlite'
      ? await openSqliteStorage({ file: join(dir, 'datadefender.db') })
      : await openPostgresStorage({ connectionString: PG_URL, schema: schema!, poolSize: 4 });
  const root = await openLocalRootOfTrust(join(dir, 'root.key'));
  const material = createKeyMaterial({ root, storage, cache: createMaterialCache({ maxEntries: 0, ttlMs: 0 }) });
  return {
    engine,
    dir,
    ...(schema ? { schema } : {}),
    storage,
    root,
    async seed(count, batchSize) {
      const ids: string[] = [];
      await seedKeys(
        { storage, material, clock: systemClock, defaultRotationPeriodDays: 180 },
        { count, ...(batchSize ? { batchSize } : {}), description: 'seeded', onBatch: (batch) => ids.push(...batch) },
      );
      return ids;
    },
    service: (settings = {}) =>
      createKeyService({
        storage,
        root,
        audit: createAuditLog({ sink: storage, timeoutMs: 5_000 }),
        policies: createPolicyEngine(),
        clock: systemClock,
        scope: SCOPE,
        settings: {
          defaultRotationPeriodDays: 180,
          keyCacheSize: settings.keyCacheSize ?? 1000,
          keyCacheTtlSeconds: 300,
          metadataCacheMs: settings.metadataCacheMs ?? 1000,
          dualControl: { enabled: false, operations: [], approvalTtlSeconds: 3600 },
        },
      }),
    async close() {
      await storage.close();
      if (schema) await withAdmin((c) => c.query(`drop schema if exists "${schema}" cascade`));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A caller allowed to use every key (the data-engineer role, through the default key policy). */
export function engineer() {
  return {
    requestId: `req-${randomBytes(6).toString('hex')}`,
    source: 'test',
    caller: { principalId: 'eve', arn: `arn:aws:iam::${SCOPE.accountId}:user/eve`, roles: ['data-engineer'], credential: 'token:test' },
    sourceIp: '127.0.0.1',
    userAgent: 'vitest',
  };
}
