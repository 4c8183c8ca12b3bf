/**
 * The in-memory caches stay within their configured bounds however many keys pass through them (issue #8 item 2:
 * memory stays flat with a million keys): unwrapped key material (keyCacheSize), key records and aliases
 * (keyCacheSize, metadataCacheMs) and parsed policy documents (policyCacheSize). Real SQLite storage and the local
 * root of trust; the storage under the read cache is only observed (reads counted), never replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/config.js';
import { withReadCache } from '../../src/core/cached-storage.js';
import { createMaterialCache } from '../../src/core/material-cache.js';
import { SecretBytes } from '../../src/crypto/index.js';
import { documentCache } from '../../src/policy/policy-engine.js';
import { observed } from '../helpers/observed-storage.js';
import { engineer, openPopulation, type Population } from '../storage/key-population.js';

const BOUND = 25;
const TOUCHED = 300;

describe('cache bounds over many keys', () => {
  let p: Population;
  let ids: string[];
  beforeAll(async () => {
    p = await openPopulation('sqlite');
    ids = await p.seed(TOUCHED);
  });
  afterAll(async () => {
    await p?.close();
  });

  it('holds at most keyCacheSize unwrapped versions after encrypting under many more keys', async () => {
    const service = p.service({ keyCacheSize: BOUND });
    const ctx = engineer();
    const plaintext = new Uint8Array(Buffer.from('4111 1111 1111 1111'));
    for (const keyId of ids) await service.crypto.encrypt(ctx, { keyId, plaintext });
    const after = service.materialCache.stats();
    expect(after).toMatchObject({ entries: BOUND, maxEntries: BOUND, misses: TOUCHED });
    // The most recent BOUND keys are the ones kept: encrypting under them again unwraps nothing.
    for (const keyId of ids.slice(-BOUND)) await service.crypto.encrypt(ctx, { keyId, plaintext });
    expect(service.materialCache.stats()).toMatchObject({ entries: BOUND, hits: after.hits + BOUND, misses: TOUCHED });
    await service.crypto.encrypt(ctx, { keyId: ids[0]!, plaintext });
    expect(service.materialCache.stats()).toMatchObject({ entries: BOUND, misses: TOUCHED + 1 });
  });

  it('holds at most maxEntries key records: of every key read again, only the last maxEntries come from memory', async () => {
    const { storage, reads } = observed(p.storage);
    const cached = withReadCache(storage, { maxStalenessMs: 60_000, maxEntries: BOUND, ttlMs: 60_000 });
    for (const id of ids) expect((await cached.getKey(id))?.id).toBe(id);
    expect(reads.getKey).toBe(TOUCHED);
    for (const id of [...ids].reverse()) await cached.getKey(id);
    expect(reads.getKey).toBe(TOUCHED + (TOUCHED - BOUND));
  });

  it('holds at most maxEntries aliases, and destroying a key drops only the cached aliases that point to it', async () => {
    const now = new Date();
    const named = ids.slice(0, 60);
    for (const [i, keyId] of named.entries()) await p.storage.createAlias({ name: `alias/bound-${i}`, keyId, createdAt: now, updatedAt: now });
    const { storage, reads } = observed(p.storage);
    const cached = withReadCache(storage, { maxStalenessMs: 60_000, maxEntries: BOUND, ttlMs: 60_000 });
    for (let i = 0; i < named.length; i++) await cached.getAlias(`alias/bound-${i}`);
    expect(reads.getAlias).toBe(named.length);
    for (let i = named.length - 1; i >= 0; i--) await cached.getAlias(`alias/bound-${i}`);
    expect(reads.getAlias).toBe(2 * named.length - BOUND);

    // Cached now: alias/bound-0 .. -24 (the last read). Destroy the key behind alias/bound-3.
    const doomed = named[3]!;
    const past = new Date(Date.now() - 1000);
    await p.storage.updateKey(doomed, { state: 'PendingDeletion', deletionAt: past, pendingWindowDays: 7 });
    expect(await cached.destroyKey(doomed, now)).toBe(true);
    const before = reads.getAlias;
    expect(await cached.getAlias('alias/bound-4')).toMatchObject({ keyId: named[4] });
    expect(reads.getAlias).toBe(before);
    expect(await cached.getAlias('alias/bound-3')).toBeUndefined();
    expect(reads.getAlias).toBe(before + 1);
  });
});

describe('material cache index of versions per key', () => {
  const secret = (byte: number) => SecretBytes.copyOf(Buffer.alloc(32, byte));

  it('stays within its bound, evicts one key without touching others, and zeroes what it drops', () => {
    const cache = createMaterialCache({ maxEntries: 10, ttlMs: 60_000 });
    const secrets: SecretBytes[] = [];
    for (let k = 0; k < 100; k++) {
      for (const v of [1, 2]) {
        const s = secret(k % 250 + 1);
        secrets.push(s);
        cache.set(`key-${k}`, v, s);
      }
    }
    expect(cache.stats().entries).toBe(10);
    expect(secrets.slice(0, 190).every((s) => s.reveal().every((b) => b === 0))).toBe(true);
    cache.evictKey('key-0');
    expect(cache.stats().entries).toBe(10);
    cache.evictKey('key-99');
    expect(cache.stats().entries).toBe(8);
    expect(cache.get('key-99', 1)).toBeUndefined();
    expect(cache.get('key-98', 2)?.reveal()[0]).toBe(99);
    // Setting the secret already cached is a no-op (it is neither replaced nor zeroed).
    const kept = cache.get('key-98', 2)!;
    cache.set('key-98', 2, kept);
    expect(cache.get('key-98', 2)).toBe(kept);
    expect(kept.reveal()[0]).toBe(99);
    cache.clear();
    expect(cache.stats().entries).toBe(0);
    expect(kept.reveal().every((b) => b === 0)).toBe(true);
  });

  it('stores nothing when its bound is 0', () => {
    const cache = createMaterialCache({ maxEntries: 0, ttlMs: 60_000 });
    cache.set('k', 1, secret(1));
    expect(cache.get('k', 1)).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
    cache.evictKey('k');
  });
});

describe('compiled policy cache', () => {
  const document = (i: number) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: `S${i}`, Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }] });

  it('holds at most its bound of parsed documents however many distinct ones pass through', () => {
    const parse = documentCache('key', 10);
    const first = parse(document(0));
    expect(parse(document(0))).toBe(first);
    let last = first;
    for (let i = 1; i < 500; i++) last = parse(document(i));
    expect(parse.entries()).toBe(10);
    expect(parse(document(499))).toBe(last);
    expect(parse(document(0))).not.toBe(first);
    expect(parse.entries()).toBe(10);
  });

  it('is sized by policyCacheSize (DATADEFENDER_POLICY_CACHE_SIZE), 10,000 by default', () => {
    expect(loadServerConfig({}, {}).policyCacheSize).toBe(10_000);
    expect(loadServerConfig({}, { DATADEFENDER_POLICY_CACHE_SIZE: '500' }).policyCacheSize).toBe(500);
    expect(() => loadServerConfig({}, { DATADEFENDER_POLICY_CACHE_SIZE: '0' })).toThrow(/policyCacheSize/);
  });
});
