/**
 * A read cache in front of Storage for the hot path: key records and aliases are read on every request.
 * Invariants: every mutation made through this process invalidates what it touches before and after it runs,
 * so this process never reads its own stale writes; changes made by other processes are seen within `ttlMs`;
 * decisions that must not race (state transitions, rotation, destruction) are still made by the storage's
 * conditional updates, never on cached data alone; cached records are shared and never mutated.
 */
import type { AliasRecord, KeyRecord, Storage } from '../ports/storage.js';
import { createLruCache } from './lru-cache.js';

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

  const overrides: Partial<Storage> = {
    async getKey(id) {
      const hit = keys.get(id);
      if (hit) return hit;
      const key = await storage.getKey(id);
      if (key) keys.set(id, key);
      return key;
    },
    async getAlias(name) {
      const hit = aliases.get(name);
      if (hit) return hit;
      const alias = await storage.getAlias(name);
      if (alias) aliases.set(name, alias);
      return alias;
    },
    updateKey: (id, patch, ifStates) => around(() => keys.delete(id), () => storage.updateKey(id, patch, ifStates)),
    addVersion: (version, expected, next) =>
      around(() => keys.delete(version.keyId), () => storage.addVersion(version, expected, next)),
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
