/**
 * A bounded LRU map whose entries expire after `ttlMs`. Recency is tracked to the second: a hit moves an entry
 * to the young end only if it was last moved more than a second ago, which keeps hits cheap on the hot path.
 * Invariants: never more than `maxEntries` entries; an expired entry is never returned; `onEvict` sees every
 * value that leaves the cache (eviction, expiry, replacement, deletion), exactly once.
 */
const RECENCY_GRANULARITY_MS = 1000;

export interface LruCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  /** Deletes every entry. */
  clear(): void;
  readonly size: number;
}

export function createLruCache<V>(options: {
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
  onEvict?: (value: V) => void;
}): LruCache<V> {
  const { maxEntries, ttlMs, now = Date.now, onEvict = () => {} } = options;
  const entries = new Map<string, { value: V; expiresAt: number; touchedAt: number }>();
  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    onEvict(entry.value);
  };
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      const t = now();
      if (entry.expiresAt <= t) {
        drop(key);
        return undefined;
      }
      if (t - entry.touchedAt > RECENCY_GRANULARITY_MS) {
        entry.touchedAt = t;
        entries.delete(key);
        entries.set(key, entry);
      }
      return entry.value;
    },
    set(key, value) {
      if (maxEntries <= 0 || ttlMs <= 0) return;
      const existing = entries.get(key);
      if (existing && existing.value !== value) drop(key);
      entries.delete(key);
      const t = now();
      entries.set(key, { value, expiresAt: t + ttlMs, touchedAt: t });
      while (entries.size > maxEntries) drop(entries.keys().next().value as string);
    },
    delete: drop,
    clear() {
      for (const key of [...entries.keys()]) drop(key);
    },
    get size() {
      return entries.size;
    },
  };
}
