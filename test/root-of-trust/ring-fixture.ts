// A deployment wired as main.ts wires it, with the root ring in front of the configured root: key service, identity,
// root migrations. Storage is SQLite in a temp dir or a fresh PostgreSQL schema (dropped afterwards).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { loadServerConfig, type ServerConfig } from '../../src/config/config.js';
import { createKeyService } from '../../src/core/key-service.js';
import { createRootMigrations } from '../../src/core/root-migration.js';
import { createRootRing, type RootRing } from '../../src/core/root-ring.js';
import { parseRingBlob } from '../../src/core/root-ring-format.js';
import type { RootMigrationRecord } from '../../src/ports/root-ring-storage.js';
import { createIdentityService } from '../../src/identity/identity-service.js';
import { accessKeyAad } from '../../src/identity/credentials.js';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Storage } from '../../src/ports/storage.js';
import { createRootBackends } from '../../src/root-backends.js';
import { initializeConfiguredRoot, openConfiguredRoot, type OpenedRoot } from '../../src/roots.js';
import { context, SCOPE } from '../helpers/core-fixture.js';

export const PG_URL = process.env.DATADEFENDER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export const admin = () => context(['administrator'], 'root-admin');
export const user = () => context(['administrator', 'data-engineer'], 'alice');

/** A place for one deployment: data dir, and a storage factory (each call = a new connection, as after a restart). */
export async function place(engine: Engine) {
  const dir = await mkdtemp(join(tmpdir(), 'dd-ring-'));
  const schema = `dd_ring_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const opened: Storage[] = [];
  return {
    dir,
    async storage(): Promise<Storage> {
      const s = engine === 'sqlite' ? await openSqliteStorage({ file: join(dir, 'dd.db') }) : await openPostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
      opened.push(s);
      return s;
    },
    async dispose() {
      for (const s of opened) await s.close().catch(() => undefined);
      if (engine === 'postgres') {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`drop schema if exists "${schema}" cascade`);
        await client.end();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function configOf(dir: string, env: Record<string, string | undefined> = {}, rootOfTrust = 'local-sealed'): ServerConfig {
  return loadServerConfig({ dataDir: dir, rootOfTrust }, env);
}

/** `operator init` for local-sealed: returns the unseal shares. */
export async function initLocalSealed(config: ServerConfig): Promise<string[]> {
  const { opened, shares } = await initializeConfiguredRoot(config, { shares: 3, threshold: 2, createKey: false });
  opened.sealable?.seal();
  await opened.close();
  return shares;
}

/** Opens the configured root as main.ts does, unsealing it with `shares` when it is sealable. */
export async function openRoot(config: ServerConfig, shares: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<OpenedRoot> {
  const opened = await openConfiguredRoot(config, undefined, env);
  for (const share of shares) {
    if (!opened.sealable?.status().sealed) break;
    await opened.sealable.submitShare(share, opened.sealable.status().nonce ?? undefined);
  }
  return opened;
}

/** The server's core over the ring (what main.ts builds). */
export function serve(options: {
  config: ServerConfig;
  storage: Storage;
  configured: OpenedRoot;
  env?: NodeJS.ProcessEnv;
  batchSize?: number;
  onBatch?: (job: RootMigrationRecord) => void | Promise<void>;
}) {
  const { config, storage, configured } = options;
  const backends = createRootBackends(config, { configured, ...(options.env ? { env: options.env } : {}) });
  const ring: RootRing = createRootRing({ storage, backends, clock: systemClock, kind: configured.root.kind, refreshMs: 0 });
  const audit = createAuditLog({ sink: storage });
  const service = createKeyService({
    storage,
    root: ring,
    audit,
    policies: createPolicyEngine(),
    clock: systemClock,
    scope: SCOPE,
    settings: {
      defaultRotationPeriodDays: 180,
      keyCacheSize: 1000,
      keyCacheTtlSeconds: 300,
      metadataCacheMs: 0,
      dualControl: { enabled: false, operations: [], approvalTtlSeconds: 3600 },
    },
  });
  const identity = createIdentityService({ storage, run: service.run, clock: systemClock, scope: SCOPE, root: ring });
  const migrations = createRootMigrations({
    run: service.run,
    storage,
    ring,
    backends,
    clock: systemClock,
    scope: SCOPE,
    batchSize: options.batchSize ?? 2,
    settleMs: 0,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
  });
  return {
    ring,
    backends,
    service,
    identity,
    migrations,
    async close() {
      await migrations.close();
      await backends.close();
    },
  };
}

export type Served = ReturnType<typeof serve>;

export interface Population {
  ciphertexts: Array<{ keyId: string; plaintext: Buffer; ciphertext: Uint8Array }>;
  accessKey: { accessKeyId: string; secretAccessKey: string };
}

/** Keys with two versions each, a ciphertext under each version, and an access key: what every move must keep. */
export async function populate(s: Served, storage: Storage, keys = 3): Promise<Population> {
  const ciphertexts: Population['ciphertexts'] = [];
  for (let i = 0; i < keys; i++) {
    const key = await s.service.keys.create(user(), { description: `k${i}` });
    for (let v = 0; v < 2; v++) {
      if (v > 0) await s.service.rotation.rotateOnDemand(user(), key.id);
      const plaintext = randomBytes(24);
      const out = await s.service.crypto.encrypt(user(), { keyId: key.id, plaintext });
      ciphertexts.push({ keyId: key.id, plaintext, ciphertext: out.ciphertext });
    }
  }
  const now = new Date();
  const name = `svc-${randomBytes(4).toString('hex')}`;
  await storage.createPrincipal({
    id: randomBytes(16).toString('hex'),
    name,
    kind: 'service',
    arn: `arn:aws:iam::${SCOPE.accountId}:role/${name}`,
    roles: [],
    policies: [],
    tags: {},
    disabled: false,
    createdAt: now,
    updatedAt: now,
  });
  const accessKey = await s.identity.accessKeys.create(admin(), name);
  return { ciphertexts, accessKey };
}

/** Every ciphertext decrypts to its plaintext and the access key's secret unwraps, through `s`. */
export async function expectIntact(s: Served, storage: Storage, p: Population): Promise<void> {
  for (const c of p.ciphertexts) {
    const out = await s.service.crypto.decrypt(user(), { ciphertext: c.ciphertext });
    expect(Buffer.from(out.plaintext).equals(c.plaintext)).toBe(true);
  }
  const record = await storage.getAccessKey(p.accessKey.accessKeyId);
  const secret = await s.ring.unwrap(record!.secretWrapped, accessKeyAad(p.accessKey.accessKeyId));
  expect(secret.reveal().toString('utf8')).toBe(p.accessKey.secretAccessKey);
}

/** The generation of every stored blob (key versions and access keys). */
export async function generationsInStorage(storage: Storage): Promise<number[]> {
  const out = new Set<number>();
  for (const v of await storage.listWrappedKeyVersions(undefined, 10_000)) out.add(parseRingBlob(v.wrapped)!.generation);
  for (const k of await storage.listWrappedAccessKeys(undefined, 10_000)) out.add(parseRingBlob(k.wrapped)!.generation);
  return [...out].sort();
}
