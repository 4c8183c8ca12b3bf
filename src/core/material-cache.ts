/**
 * Bounded LRU cache of unwrapped key material, so the root of trust is not on every request's path.
 * Invariants: at most `maxEntries` secrets in memory; an entry older than `ttlMs` is never returned;
 * evicted and expired secrets are zeroed.
 */
import type { SecretBytes } from '../crypto/index.js';

interface Entry {
  secret: SecretBytes;
  expiresAt: number;
}

export interface MaterialCache {
  get(keyId: string, version: number): SecretBytes | undefined;
  set(keyId: string, version: number, secret: SecretBytes): void;
  /** Drops every cached version of a key (deletion). */
  evictKey(keyId: string): void;
}

export function createMaterialCache(options: { maxEntries: number; ttlMs: number; now?: () => number }): MaterialCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const drop = (id: string, entry: Entry) => {
    entries.delete(id);
    entry.secret.destroy();
  };
  return {
    get(keyId, version) {
      const id = `${keyId}/${version}`;
      const entry = entries.get(id);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        drop(id, entry);
        return undefined;
      }
      entries.delete(id);
      entries.set(id, entry);
      return entry.secret;
    },
    set(keyId, version, secret) {
      if (options.maxEntries === 0 || options.ttlMs === 0) return;
      const id = `${keyId}/${version}`;
      const existing = entries.get(id);
      if (existing && existing.secret !== secret) drop(id, existing);
      entries.set(id, { secret, expiresAt: now() + options.ttlMs });
      while (entries.size > options.maxEntries) {
        const [oldestId, oldest] = entries.entries().next().value as [string, Entry];
        drop(oldestId, oldest);
      }
    },
    evictKey(keyId) {
      for (const [id, entry] of entries) if (id.startsWith(`${keyId}/`)) drop(id, entry);
    },
  };
}
