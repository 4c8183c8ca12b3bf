/**
 * Bounded cache of unwrapped key material, so the root of trust is not on every request's path.
 * Invariants: at most `maxEntries` secrets in memory; an entry older than `ttlMs` is never returned;
 * evicted, expired and replaced secrets are zeroed; dropping one key's versions costs O(its cached versions), not
 * O(cache size) (a per-key index of cached versions, kept in step by the LRU's eviction callback).
 */
import type { SecretBytes } from '../crypto/index.js';
import { createLruCache } from './lru-cache.js';

export interface MaterialCache {
  get(keyId: string, version: number): SecretBytes | undefined;
  set(keyId: string, version: number, secret: SecretBytes): void;
  /** Drops every cached version of a key (deletion). */
  evictKey(keyId: string): void;
  /** Drops (and zeroes) everything: the root of trust sealed. */
  clear(): void;
  /** Entries now, and lookups since start (for status). */
  stats(): { entries: number; maxEntries: number; hits: number; misses: number };
}

export function createMaterialCache(options: { maxEntries: number; ttlMs: number; now?: () => number }): MaterialCache {
  const versionsOf = new Map<string, Set<number>>();
  const cache = createLruCache<{ keyId: string; version: number; secret: SecretBytes }>({
    ...options,
    onEvict: ({ keyId, version, secret }) => {
      secret.destroy();
      const versions = versionsOf.get(keyId);
      versions?.delete(version);
      if (versions?.size === 0) versionsOf.delete(keyId);
    },
  });
  let hits = 0;
  let misses = 0;
  return {
    get(keyId, version) {
      const secret = cache.get(`${keyId}/${version}`)?.secret;
      if (secret) hits++;
      else misses++;
      return secret;
    },
    set(keyId, version, secret) {
      const name = `${keyId}/${version}`;
      if (cache.get(name)?.secret === secret) return;
      cache.set(name, { keyId, version, secret });
      if (cache.get(name)?.secret !== secret) return;
      let versions = versionsOf.get(keyId);
      if (!versions) versionsOf.set(keyId, (versions = new Set()));
      versions.add(version);
    },
    evictKey(keyId) {
      for (const version of [...(versionsOf.get(keyId) ?? [])]) cache.delete(`${keyId}/${version}`);
    },
    clear: () => cache.clear(),
    stats: () => ({ entries: cache.size, maxEntries: options.maxEntries, hits, misses }),
  };
}
