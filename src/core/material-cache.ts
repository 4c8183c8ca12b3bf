/**
 * Bounded cache of unwrapped key material, so the root of trust is not on every request's path.
 * Invariants: at most `maxEntries` secrets in memory; an entry older than `ttlMs` is never returned;
 * evicted, expired and replaced secrets are zeroed.
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
  const cache = createLruCache<SecretBytes>({ ...options, onEvict: (secret) => secret.destroy() });
  let hits = 0;
  let misses = 0;
  return {
    get(keyId, version) {
      const secret = cache.get(`${keyId}/${version}`);
      if (secret) hits++;
      else misses++;
      return secret;
    },
    set: (keyId, version, secret) => cache.set(`${keyId}/${version}`, secret),
    evictKey: (keyId) => cache.deletePrefix(`${keyId}/`),
    clear: () => cache.deletePrefix(''),
    stats: () => ({ entries: cache.size, maxEntries: options.maxEntries, hits, misses }),
  };
}
