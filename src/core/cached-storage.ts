/**
 * A read cache in front of Storage for the hot path: key records and aliases are read on every request.
 * Invariants: every mutation made through this process invalidates what it touches before and after it runs,
 * so this process never reads its own stale writes; changes made by other processes are seen within `ttlMs`;
 * decisions that must not race (state transitions, rotation, destruction) are still made by the storage's
 * conditional updates, never on cached data alone; cached records are shared and never mutated.
 */
import type { AliasRecord, KeyRecord, Storage } from '../ports/storage.js';
import { createLruCache, type LruCache } from './lru-cache.js';

export function withReadCache(storage: Storage, options: { ttlMs: number; maxEntries: number }): Storage {
  const keys = createLruCache<KeyRecord>(options);
  const aliases = createLruCache<AliasRecord>(options);

  const around = async <T>(invalidate: () => void, run: () => Promise<T>): Promise<T> => {
    invalidate();
    try {
      return await run();
    } finally {
      invalidate();
    }
  };

  const readThrough =
    <T>(cache: LruCache<T>, read: (id: string) => Promise<T | undefined>) =>
    async (id: string): Promise<T | undefined> => {
      const hit = cache.get(id);
      if (hit) return hit;
      const value = await read(id);
      if (value) cache.set(id, value);
      return value;
    };

  const overrides: Partial<Storage> = {
    getKey: readThrough(keys, (id) => storage.getKey(id)),
    getAlias: readThrough(aliases, (name) => storage.getAlias(name)),
    updateKey: (id, patch, ifStates) => around(() => keys.delete(id), () => storage.updateKey(id, patch, ifStates)),
    addVersion: (version, expected, next) =>
      around(() => keys.delete(version.keyId), () => storage.addVersion(version, expected, next)),
    importMaterial: (version) => around(() => keys.delete(version.keyId), () => storage.importMaterial(version)),
    deleteMaterial: (id) => around(() => keys.delete(id), () => storage.deleteMaterial(id)),
    destroyKey: (id, now) =>
      around(
        () => {
          keys.delete(id);
          aliases.deletePrefix('');
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
