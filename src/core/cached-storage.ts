/**
 * A read cache in front of Storage for the hot path: key records and aliases are read on every request.
 * Invariants: every mutation made through this process invalidates what it touches before and after it runs,
 * so this process never reads its own stale writes; changes made by any process — another worker, another node, a
 * job, an operator's SQL — reach this one through the metadata change feed (metadata-feed.ts), so a record stays
 * cached until it changes or is evicted, and is served only while the feed vouches for it (changes show within
 * `maxStalenessMs`); with `maxStalenessMs` 0 nothing is cached; decisions that must not race (state transitions,
 * rotation, destruction) are still made by the storage's conditional updates, never on cached data alone; cached
 * records are shared and never mutated; both caches hold at most `maxEntries` records, and destroying a key drops only
 * the cached aliases that point to it (an index by key id, kept in step by the LRU's eviction callback), so the cost
 * of a destruction does not grow with the cache.
 */
import type { AliasRecord, KeyRecord, Storage } from '../ports/storage.js';
import { createLruCache, type LruCache } from './lru-cache.js';
import { createMetadataFeed } from './metadata-feed.js';

export function withReadCache(storage: Storage, options: { maxStalenessMs: number; maxEntries: number; ttlMs: number; now?: () => number }): Storage {
  if (options.maxStalenessMs <= 0) return storage;
  const keys = createLruCache<KeyRecord>(options);
  const aliasNamesOf = new Map<string, Set<string>>();
  const aliases = createLruCache<AliasRecord>({
    ...options,
    onEvict: (alias) => {
      const names = aliasNamesOf.get(alias.keyId);
      names?.delete(alias.name);
      if (names?.size === 0) aliasNamesOf.delete(alias.keyId);
    },
  });
  const cacheAlias = (name: string, alias: AliasRecord) => {
    aliases.set(name, alias);
    if (aliases.get(name) !== alias) return;
    let names = aliasNamesOf.get(alias.keyId);
    if (!names) aliasNamesOf.set(alias.keyId, (names = new Set()));
    names.add(name);
  };

  const feed = createMetadataFeed(storage, {
    maxStalenessMs: options.maxStalenessMs,
    ...(options.now ? { now: options.now } : {}),
    onChange: (change) => (change.kind === 'key' ? keys.delete(change.name) : aliases.delete(change.name)),
    onReset: () => {
      keys.clear();
      aliases.clear();
    },
  });

  const around = async <T>(invalidate: () => void, run: () => Promise<T>): Promise<T> => {
    invalidate();
    try {
      return await run();
    } finally {
      invalidate();
    }
  };

  const readThrough =
    <T>(cache: Pick<LruCache<T>, 'get'>, read: (id: string) => Promise<T | undefined>, store: (id: string, value: T) => void) =>
    async (id: string): Promise<T | undefined> => {
      if (feed.fresh()) {
        const hit = cache.get(id);
        if (hit) return hit;
      }
      await feed.ready;
      const token = feed.readToken();
      const value = await read(id);
      if (value && feed.stillValid(token)) store(id, value);
      return value;
    };

  const overrides: Partial<Storage> = {
    getKey: readThrough(keys, (id) => storage.getKey(id), (id, key) => keys.set(id, key)),
    getAlias: readThrough(aliases, (name) => storage.getAlias(name), cacheAlias),
    updateKey: (id, patch, ifStates) => around(() => keys.delete(id), () => storage.updateKey(id, patch, ifStates)),
    addVersion: (version, expected, next) =>
      around(() => keys.delete(version.keyId), () => storage.addVersion(version, expected, next)),
    importMaterial: (version) => around(() => keys.delete(version.keyId), () => storage.importMaterial(version)),
    deleteMaterial: (id) => around(() => keys.delete(id), () => storage.deleteMaterial(id)),
    destroyKey: (id, now) =>
      around(
        () => {
          keys.delete(id);
          for (const name of [...(aliasNamesOf.get(id) ?? [])]) aliases.delete(name);
        },
        () => storage.destroyKey(id, now),
      ),
    updateAlias: (name, keyId, now) => around(() => aliases.delete(name), () => storage.updateAlias(name, keyId, now)),
    deleteAlias: (name) => around(() => aliases.delete(name), () => storage.deleteAlias(name)),
  };

  return new Proxy(storage, {
    get(target, property, receiver) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Storage];
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
