/**
 * Bulk seeding of keys (issue #8 item 2) on SQLite and PostgreSQL: the storage's insertKeys (all or nothing, refuses an
 * existing id), core seedKeys (keys as CreateKey makes them, material wrapped with AAD binding key id and version), and
 * bench/seed-keys.js end to end: keys it seeds serve Encrypt and Decrypt through a dev server on the same data dir.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyMaterial, materialAad } from '../../src/core/key-material.js';
import { createMaterialCache } from '../../src/core/material-cache.js';
import { seedKeys } from '../../src/core/key-seeding.js';
import { systemClock } from '../../src/ports/clock.js';
import { REPO, startDevServer } from '../helpers/dev-server.js';
import { b64, restClient, unb64 } from '../helpers/rest-client.js';
import { makeKey, makeVersion } from './storage-contract.js';
import { ENGINES, PG_URL, engineer, openPopulation, type Population } from './key-population.js';

interface BenchSeeder {
  seedKeys(options: { dataDir: string; storage: 'sqlite' | { postgresUrl: string; schema?: string }; count: number; sampleSize?: number; batchSize?: number }): Promise<{
    count: number;
    seconds: number;
    rate: number;
    sample: string[];
    dataDir: string;
    storage: 'sqlite' | 'postgres';
  }>;
}

const pt = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

describe.each(ENGINES)('bulk seeding on %s', (engine) => {
  let p: Population;
  beforeAll(async () => {
    p = await openPopulation(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  it('seeds keys in batches that encrypt and decrypt through the key service like keys made by CreateKey', async () => {
    const ids = await p.seed(2500, 1000);
    expect(ids).toHaveLength(2500);
    expect(new Set(ids).size).toBe(2500);
    const service = p.service();
    const ctx = engineer();
    for (const keyId of [ids[0]!, ids[1234]!, ids[2499]!]) {
      const description = await service.keys.describe(ctx, keyId);
      expect(description).toMatchObject({ id: keyId, state: 'Enabled', keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS' });
      const enc = await service.crypto.encrypt(ctx, { keyId, plaintext: pt('4111 1111 1111 1111'), encryptionContext: { customer: '42' } });
      const dec = await service.crypto.decrypt(ctx, { ciphertext: enc.ciphertext, encryptionContext: { customer: '42' } });
      expect(Buffer.from(dec.plaintext).toString('utf8')).toBe('4111 1111 1111 1111');
      expect(dec).toMatchObject({ keyArn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`, keyVersion: 1 });
    }
    const key = (await p.storage.getKey(ids[7]!))!;
    expect(key).toMatchObject({ currentVersion: 1, rotationPeriodDays: 180, policy: null, deletionAt: null, description: 'seeded' });
    expect(key.nextRotationAt!.getTime() - key.createdAt.getTime()).toBe(180 * 86_400_000);
  });

  it('wraps each version with AAD binding its key id and version: moved to another key it does not unwrap', async () => {
    const [a, b] = await p.seed(2);
    const version = (await p.storage.getVersion(a!, 1))!;
    expect(version.rotationType).toBe('ORIGINAL');
    const material = await p.root.unwrap(version.wrapped, materialAad(a!, 1));
    expect(material.length).toBe(32);
    await expect(p.root.unwrap(version.wrapped, materialAad(b!, 1))).rejects.toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
    await expect(p.root.unwrap(version.wrapped, materialAad(a!, 2))).rejects.toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
  });

  it('refuses an id that exists already, and then inserts nothing of the call', async () => {
    const [existing] = await p.seed(1);
    const fresh = makeKey();
    const clash = makeKey({ id: existing! });
    const entries = [fresh, clash].map((key) => ({ key, first: makeVersion(key.id, 1) }));
    await expect(p.storage.insertKeys(entries)).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS', message: 'A key with this id already exists.' });
    expect(await p.storage.getKey(fresh.id)).toBeUndefined();
    expect((await p.storage.getKey(existing!))!.description).toBe('seeded');

    const twice = makeKey();
    await expect(p.storage.insertKeys([twice, twice].map((key) => ({ key, first: makeVersion(key.id, 1) })))).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    expect(await p.storage.getKey(twice.id)).toBeUndefined();
  });

  it('refuses a first version that is not its key current version', async () => {
    const key = makeKey();
    await expect(p.storage.insertKeys([{ key, first: makeVersion(randomUUID(), 1) }])).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(p.storage.insertKeys([{ key, first: makeVersion(key.id, 2) }])).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    expect(await p.storage.getKey(key.id)).toBeUndefined();
    await expect(p.storage.insertKeys([])).resolves.toBeUndefined();
  });

  it('validates the count and batch size', async () => {
    const deps = { storage: p.storage, material: createKeyMaterial({ root: p.root, storage: p.storage, cache: createMaterialCache({ maxEntries: 0, ttlMs: 0 }) }), clock: systemClock, defaultRotationPeriodDays: 180 };
    await expect(seedKeys(deps, { count: -1 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(seedKeys(deps, { count: 1.5 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(seedKeys(deps, { count: 1, batchSize: 0 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    expect(await seedKeys(deps, { count: 0 })).toBe(0);
    const batches: number[] = [];
    expect(await seedKeys(deps, { count: 5, batchSize: 2, onBatch: (ids) => batches.push(ids.length) })).toBe(5);
    expect(batches).toEqual([2, 2, 1]);
  });
});

describe.each(ENGINES)('bench/seed-keys.js on %s', (engine) => {
  let p: Population;
  beforeAll(async () => {
    // The population only provides a temp dir and (PostgreSQL) a fresh schema, dropped afterwards.
    p = await openPopulation(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  it('seeds keys that a dev server on the same data dir serves (root ring, REST Encrypt and Decrypt)', { timeout: 60_000 }, async () => {
    const { seedKeys: benchSeed } = (await import(`${REPO}bench/seed-keys.js`)) as BenchSeeder;
    const dataDir = `${p.dir}/server`;
    const storage = engine === 'sqlite' ? ('sqlite' as const) : { postgresUrl: PG_URL, schema: p.schema! };
    const seeded = await benchSeed({ dataDir, storage, count: 3000, sampleSize: 50, batchSize: 1000 });
    expect(seeded).toMatchObject({ count: 3000, dataDir, storage: engine });
    expect(seeded.sample).toHaveLength(50);
    expect(new Set(seeded.sample).size).toBe(50);
    expect(seeded.rate).toBeGreaterThan(0);

    const server = await startDevServer(dataDir, engine === 'postgres' ? { env: { DATADEFENDER_DATABASE_URL: PG_URL, DATADEFENDER_DATABASE_SCHEMA: p.schema! } } : {});
    try {
      const admin = restClient(server.credentials);
      expect((await admin('POST', '/v1/principals', { name: 'seed-engineer', roles: ['data-engineer'] })).status).toBe(201);
      const token = (await admin('POST', '/v1/principals/seed-engineer/tokens', {})).body.token.token as string;
      const rest = restClient(server.credentials, { token });
      const listed = await rest('GET', '/v1/keys?limit=1000');
      expect(listed.status).toBe(200);
      expect(listed.body.nextMarker).toBeDefined();
      for (const keyId of seeded.sample.slice(0, 5)) {
        const enc = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64('account 12345678'), encryptionContext: { tenant: 't1' } });
        expect(enc.status).toBe(200);
        const dec = await rest('POST', '/v1/decrypt', { ciphertext: enc.body.ciphertext, encryptionContext: { tenant: 't1' } });
        expect(dec.status).toBe(200);
        expect(unb64(dec.body.plaintext)).toBe('account 12345678');
      }
    } finally {
      await server.stop();
    }
  });
});
